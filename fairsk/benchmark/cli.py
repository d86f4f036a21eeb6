"""``fairsk benchmark``: the command line, built from the settings' declarations.

Bad arguments are usage errors (exit code 2); data that cannot be loaded, a busy
output folder or a failed run give 1; an interrupted benchmark (Ctrl-C) writes the
report of its finished runs, exits with 130 and resumes when rerun.
"""

from __future__ import annotations

import argparse
import ast
import shlex
import sys
from functools import partial

from .settings import PRESETS, DatasetSpec, Settings, algorithm_parameters, cli_fields

__all__: list[str] = []

_DESCRIPTION = """\
Run the benchmark protocol of Kliachkin et al. (2025) on a data set: one stratified
80/20 split, the same MLP (64-32) for every fairsk classifier, fairlearn's
mitigations beside them, every run evaluated on train and test with the paper's
metrics and the constraint itself (its test value with a 95% bootstrap interval).
Writes results.csv/json, summary.csv, three figures (PNG, SVG) and report.html;
rerunning with the same folder skips finished runs. The default run takes under
two minutes on two cores; --preset paper is the paper's protocol."""

_EPILOG = """\
examples:
  fairsk benchmark
  fairsk benchmark --preset paper --pums-csv national2018.csv
  fairsk benchmark --pums-csv national2019.csv --constraint demographic_parity \\
      --bound 0.02 0.05 0.1
  fairsk benchmark --csv people.csv --target income --sensitive sex --positive '>50K'
  fairsk benchmark --algorithms sslalm sgd eg-logreg --param sslalm.dual_lr=0.1
  fairsk benchmark --dask-scheduler tcp://10.0.0.5:8786 --seeds 0-9
"""


def _int_or_none(spellings, text):
    """Parse an integer, or None for any of ``spellings`` (e.g. "all")."""
    if text.lower() in spellings:
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or {spellings[0]}, got {text!r}"
        ) from None


def _seeds(text):
    lo, dash, hi = text.partition("-")
    if not (lo.isdigit() and (hi.isdigit() or not dash)) or int(hi or lo) < int(lo):
        raise argparse.ArgumentTypeError(
            f"invalid seed {text!r}: use integers or ranges such as 0-9"
        )
    return list(range(int(lo), int(hi or lo) + 1))


def _param(text):
    head, eq, value = text.partition("=")
    name, dot, key = head.partition(".")
    if not (eq and dot and name and key):
        raise argparse.ArgumentTypeError(
            f"invalid --param {text!r}: expected NAME.PARAM=VALUE, e.g. "
            "sslalm.dual_lr=0.1 or '*.lr=0.01'"
        )
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # text
    return name.strip().lower(), key.strip(), value


#: argparse's type for each kind of value; Settings.check() applies its rule.
TYPES = {
    "positive_int": int,
    "positive_float": float,
    "fraction": float,
    "bound": float,
    "size": partial(_int_or_none, ("all", "none", "0")),
    "batch": partial(_int_or_none, ("default",)),
    "seeds": _seeds,
    "param": _param,
}


def add_benchmark_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``benchmark`` subcommand (handler :func:`run_cli`) to ``subparsers``."""
    p = subparsers.add_parser(
        "benchmark",
        help="run the paper's benchmark protocol (the main job)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,  # only what is given
    )
    titles = {"budget": "algorithms and budget", "output": "execution and output"}
    keys = ("data", "constraint", "budget", "output")
    groups = {key: p.add_argument_group(titles.get(key, key)) for key in keys}
    mutex = {}
    for f in cli_fields(DatasetSpec) + cli_fields(Settings):
        cli = {k: v for k, v in f.metadata["cli"].items() if v is not None}
        flags, group = cli.pop("flags"), groups[cli.pop("group")]
        if key := cli.pop("mutex", None):
            group = mutex[key] = mutex.get(key) or group.add_mutually_exclusive_group()
        if "type" in cli:
            cli["type"] = TYPES.get(cli["type"], cli["type"])
        if "help" in cli and type(f.default) in (int, float, str):
            cli["help"] += f" (default {f.default})"
        if not flags:  # the positional data set: None when not given
            group.add_argument(f.name, default=None, **cli)
        else:
            group.add_argument(*flags, dest=f.name, **cli)
    p.set_defaults(handler=run_cli)
    return p


def build_parser() -> argparse.ArgumentParser:
    """Build the ``fairsk`` parser (subcommand ``benchmark``)."""
    from fairsk import __version__

    parser = argparse.ArgumentParser(
        prog="fairsk", description="fairsk: fairness-constrained neural classifiers."
    )
    parser.add_argument("--version", action="version", version=f"fairsk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_benchmark_parser(sub)
    return parser


def _expand(names) -> list[str]:
    from .registry import DEFAULT_FAIRLEARN, algorithm_names, our_estimators

    groups = {
        "ours": list(our_estimators()),
        "fairlearn": list(DEFAULT_FAIRLEARN),
        "all": algorithm_names(),
    }
    out = []
    for name in (n.strip().lower() for item in names for n in item.split(",")):
        out += [n for n in groups.get(name, [name] if name else []) if n not in out]
    return out


def _params(triples, algorithms, preset) -> dict:
    """--param's values over the preset's; '*' gives every fairsk algorithm's own."""
    from .registry import family

    out = {name: dict(values) for name, values in preset.items() if name in algorithms}
    for name, key, value in triples:
        targets = [name]
        if name == "*":
            fairsk = [a for a in algorithms if family(a) == "fairsk"]
            targets = [a for a in fairsk if key in algorithm_parameters(a)]
            if not targets:
                raise ValueError(
                    f"--param *.{key}: no selected fairsk algorithm has {key!r}"
                )
        for target in targets:
            out.setdefault(target, {})[key] = value
    return out


def settings_from_args(args, parser=None) -> Settings:
    """Turn parsed arguments, over ``--preset``'s values, into checked Settings.

    Invalid combinations raise ValueError (:func:`run_cli` makes them usage errors).
    """
    from ..engine import resolve_device

    given = {k: v for k, v in vars(args).items() if k != "name" or v is not None}
    preset = PRESETS.get(given.get("preset"), {})
    data_keys = {f.name for f in cli_fields(DatasetSpec)}
    data = dict(preset.get("dataset", {}))
    if {"name", "pums_csv", "csv"} & set(given):  # the user's data, not the preset's
        data = {k: v for k, v in data.items() if k not in ("name", "states", "year")}
    data |= {k: v for k, v in given.items() if k in data_keys}
    for key, name in (("pums_csv", "pums"), ("csv", "csv")):  # the file names its set
        if key in given:
            data.setdefault("name", name)
    for key in ("states", "year", "data_home"):
        if key in given and data.get("name", "adult") != "acs-income":
            raise ValueError(f"--{key.replace('_', '-')} applies to acs-income only")
    data["states"] = tuple(s.upper() for s in data.get("states", ("OK",)))
    values = {k: v for k, v in preset.items() if k not in ("dataset", "params")}
    if {"epochs", "seconds"} & set(given):
        values.pop("seconds", None)
    skip = data_keys | {"handler", "argv", "command", "params"}
    values |= {k: v for k, v in given.items() if k not in skip}
    if "seeds" in given:  # ranges flattened, repeats dropped
        seeds = (seed for group in given["seeds"] for seed in group)
        values["seeds"] = list(dict.fromkeys(seeds))
    values["bounds"] = list(dict.fromkeys(values.get("bounds", [0.005])))
    if "algorithms" in given:
        values["algorithms"] = _expand(given["algorithms"])
    if values.get("proxy") == "none":
        values["proxy"] = None
    command = shlex.join(["fairsk", *getattr(args, "argv", [])])
    settings = Settings(dataset=DatasetSpec(**data), command=command, **values).check()
    settings.params = _params(
        given.get("params", []), settings.algorithms, preset.get("params", {})
    )
    try:
        resolve_device(settings.device)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"--device {settings.device}: {exc}") from None
    return settings.check()


def run_cli(args, parser) -> int:
    """Run the ``benchmark`` subcommand; return the exit code (0, 1, 2 or 130)."""
    from rich.console import Console
    from rich.markup import escape

    from .data import DataError
    from .io import FolderBusyError
    from .sweep import run_benchmark

    try:
        settings = settings_from_args(args, parser)
    except ValueError as exc:
        parser.error(str(exc))
    console = Console()
    if not console.is_terminal:  # piped: 100 columns, whatever COLUMNS says
        console = Console(width=100)
    try:
        return 1 if run_benchmark(settings, console=console).n_errors else 0
    except KeyboardInterrupt:
        message = (
            f"interrupted: the report covers the finished runs, saved in "
            f"{settings.output}/runs/. Rerun the same command to resume."
        )
        console.print(escape(message), highlight=False)
        return 130
    except (DataError, FolderBusyError, OSError) as exc:  # OSError: e.g. no Dask
        ours = isinstance(exc, DataError | FolderBusyError)
        text = str(exc) if ours else f"{type(exc).__name__}: {exc}"
        console.print("[red]error:[/] " + escape(text), highlight=False)
        if settings.preset and settings.dataset.name == "acs-income":
            console.print(
                "The same protocol runs on any PUMS person file: --preset paper "
                "--pums-csv FILE (see the documentation's page on the benchmark)."
            )
        return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fairsk`` / ``python -m fairsk``; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.argv = argv
        return args.handler(args, parser)
    except SystemExit as exc:  # argparse: --help (0), usage errors (2)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
