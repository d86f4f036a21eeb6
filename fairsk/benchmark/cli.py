"""``fairsk benchmark``: the command line of the benchmark.

Bad arguments are usage errors (exit code 2, through ``parser.error``); a dataset
that cannot be loaded (missing file, no network) is a clean one-line error with
exit code 1; a run that fails is reported in the table's notes and also gives exit
code 1; an interrupted benchmark (Ctrl-C) exits with 130 and resumes when rerun
with the same output folder.
"""

from __future__ import annotations

import argparse
import ast
import math
import shlex
import sys

__all__ = ["add_benchmark_parser", "build_parser", "run_cli"]

_DESCRIPTION = """\
Reproduce the benchmark protocol of Kliachkin et al. (2025) on a dataset: one
stratified 80/20 split (group x label, seed 42), the same MLP (64-32) for every
fairsk classifier, fairlearn's mitigations beside them, every run evaluated on train
and test with the paper's metrics (AUC_M, Ind, Sp, Ina, Sf, Wd, |dL|) and fairlearn's,
and with the constraint itself: its value on train, and on test with a 95% bootstrap
interval that says whether the bound holds on new data.
Writes results.csv, results.json, summary.csv, trajectories.png, pareto.png and
report.html to the output folder; rerunning with the same folder skips finished
runs. The defaults (embedded Adult, 8,000 training rows, each classifier's own
epochs and batch size, 3 seeds) take
a couple of minutes on a 2-core laptop."""

_EPILOG = """\
examples:
  fairsk benchmark
  fairsk benchmark acs-income --states OK --year 2018 --drop-sensitive \\
      --max-train all --seconds 30 --seeds 0-9          (the paper's setting)
  fairsk benchmark --pums-csv national2019.csv --groups sex \\
      --constraint demographic_parity --bound 0.02 0.05
  fairsk benchmark --algorithms sslalm sgd eg-logreg \\
      --param sslalm.dual_lr=0.1 --param '*.lr=0.02'
  fairsk benchmark --dask-scheduler tcp://10.0.0.5:8786 \\
      --bound 0.005 0.01 0.02 --seeds 0-9
"""

#: The default run: about a minute and a half of CPU on two cores (see _DESCRIPTION).
DEFAULT_MAX_TRAIN = 8_000
DEFAULT_EPOCHS = None  # each classifier's own max_epochs

#: Estimator parameters the benchmark sets itself (not through --param).
RESERVED = {
    "constraint": "--constraint",
    "bound": "--bound",
    "pairing": "--pairing",
    "random_state": "--seeds",
    "max_epochs": "--epochs / --seconds",
    "callbacks": "--seconds",
    "device": "--device",
    "warm_start": None,
    "verbose": None,
    "sensitive_features": None,
}


def _seeds(text: str) -> list[int]:
    """``"3"`` -> [3]; ``"0-9"`` -> [0, ..., 9]."""
    try:
        if "-" in text.strip("-"):
            lo, hi = (int(p) for p in text.split("-", 1))
            if hi < lo:
                raise ValueError
            return list(range(lo, hi + 1))
        return [int(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid seed {text!r}: use integers or ranges such as 0-9"
        ) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _bound(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(
            f"a bound is a non-negative number, got {text!r}"
        )
    return value


def _size(text: str) -> int | None:
    if text.lower() in ("all", "none", "0"):
        return None
    return _positive_int(text)


def _batch(text: str) -> int | None:
    if text.lower() == "default":
        return None
    return _positive_int(text)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


def _param(text: str) -> tuple[str, str, object]:
    """``NAME.KEY=VALUE`` -> (name, key, value); VALUE is a Python literal or text."""
    head, eq, value = text.partition("=")
    name, dot, key = head.partition(".")
    if not (eq and dot and name and key):
        raise argparse.ArgumentTypeError(
            f"invalid --param {text!r}: expected NAME.PARAM=VALUE, e.g. "
            "sslalm.dual_lr=0.1 or '*.lr=0.01'"
        )
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value
    return name.strip(), key.strip(), parsed


def add_benchmark_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``benchmark`` subcommand to ``subparsers``.

    Its handler (``args.handler``) is :func:`run_cli`; another program can embed
    the command in its own parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From :meth:`argparse.ArgumentParser.add_subparsers`.

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="mytool")
    >>> _ = add_benchmark_parser(parser.add_subparsers())
    >>> args = parser.parse_args(["benchmark", "--seeds", "0-2", "--bound", "0.01"])
    >>> args.seeds, args.bound, args.handler is run_cli
    ([[0, 1, 2]], [0.01], True)
    """
    from ..constraints import CONSTRAINTS
    from .baselines import PROXIES
    from .data import DATASETS
    from .registry import algorithm_names

    names = algorithm_names()
    p = subparsers.add_parser(
        "benchmark",
        help="run the paper's benchmark protocol (the main job)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d = p.add_argument_group("data")
    d.add_argument(
        "dataset",
        nargs="?",
        choices=DATASETS,
        help="adult: UCI Adult, embedded (default); acs-income: folktables' "
        "ACSIncome (needs network or placed files); pums: an income task on "
        "--pums-csv",
    )
    d.add_argument("--states", nargs="+", metavar="ST", help="acs-income: states")
    d.add_argument("--year", type=int, help="acs-income: survey year (2018)")
    d.add_argument(
        "--data-home",
        metavar="PATH",
        help="acs-income: data folder, as $FAIRSK_DATA (files in "
        "PATH/acs/<year>/1-Year/); default $FAIRSK_DATA or the user cache",
    )
    d.add_argument(
        "--no-download",
        action="store_true",
        help="acs-income: never download (use placed files only)",
    )
    d.add_argument("--pums-csv", metavar="PATH", help="a PUMS-format person CSV")
    d.add_argument(
        "--groups",
        default="race_binary",
        help="sensitive features: race_binary (default), race, sex, sex_race, or "
        "column names joined by commas",
    )
    d.add_argument("--min-group-size", type=_positive_int, metavar="N")
    d.add_argument(
        "--drop-sensitive",
        action="store_true",
        help="remove the group columns from the features",
    )
    d.add_argument(
        "--max-train",
        type=_size,
        default=DEFAULT_MAX_TRAIN,
        metavar="N|all",
        help=f"stratified subsample of the training split (default "
        f"{DEFAULT_MAX_TRAIN}; 'all' "
        "for the paper's protocol)",
    )
    d.add_argument(
        "--max-test", type=_size, default=None, metavar="N|all", help="(default all)"
    )
    d.add_argument("--test-size", type=_fraction, default=0.2)
    d.add_argument("--split-seed", type=int, default=42)

    c = p.add_argument_group("constraint")
    c.add_argument(
        "--constraint",
        default="loss_gap",
        choices=sorted(CONSTRAINTS),
        help="fairness constraint of every constrained method (default loss_gap, "
        "the paper's |L_a - L_b| <= bound)",
    )
    c.add_argument(
        "--bound",
        nargs="+",
        type=_bound,
        default=[0.005],
        metavar="B",
        help="bound(s); several give a sweep (default 0.005)",
    )
    c.add_argument(
        "--pairing", default="auto", choices=["auto", "one_vs_mean", "one_vs_each"]
    )
    c.add_argument(
        "--fairlearn-proxy",
        default="demographic_parity",
        choices=[*PROXIES, "none"],
        help="the constraint fairlearn's mitigations use for loss_gap, which they "
        "lack (default demographic_parity at the same bound; none: skip them)",
    )

    a = p.add_argument_group("algorithms and budget")
    a.add_argument(
        "--algorithms",
        nargs="+",
        metavar="NAME",
        help=f"from {', '.join(names)}; or groups: ours, fairlearn (eg/gs/"
        "threshold on logreg and hgb), all. Default: ours and fairlearn",
    )
    a.add_argument(
        "--seeds",
        nargs="+",
        type=_seeds,
        default=[[0], [1], [2]],
        metavar="S",
        help="training seeds, integers or ranges like 0-9 (default 0 1 2)",
    )
    budget = a.add_mutually_exclusive_group()
    budget.add_argument(
        "--epochs",
        type=_positive_int,
        help="epochs per fairsk run (default: each classifier's own max_epochs)",
    )
    budget.add_argument(
        "--seconds",
        type=_positive_float,
        help="wall-clock seconds per fairsk run (checked after each epoch)",
    )
    a.add_argument(
        "--batch-size",
        type=_batch,
        default=None,
        metavar="N|default",
        help="objective minibatch of every fairsk classifier (default: each "
        "classifier's own batch_size)",
    )
    a.add_argument(
        "--param",
        action="append",
        type=_param,
        default=[],
        metavar="NAME.PARAM=VALUE",
        help="override a parameter of one algorithm ('*' for all fairsk ones); "
        "fairlearn ones take nested names, e.g. eg-logreg.estimator__C=0.5",
    )
    a.add_argument(
        "--fairlearn-every-seed",
        action="store_true",
        help="repeat the (deterministic) fairlearn baselines for every seed",
    )
    a.add_argument("--threshold", type=_fraction, default=0.5)
    a.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")

    r = p.add_argument_group("execution and output")
    r.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        help="parallel runs with joblib (default -1: one per core)",
    )
    r.add_argument(
        "--threads", type=_positive_int, help="threads per run (default cores/jobs)"
    )
    r.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="send the runs to a running dask.distributed scheduler",
    )
    r.add_argument("-o", "--output", default="fairsk-results", metavar="DIR")
    r.add_argument(
        "--no-resume", action="store_true", help="rerun runs already in the folder"
    )
    r.add_argument("--no-plots", action="store_true")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=run_cli)
    return p


def build_parser() -> argparse.ArgumentParser:
    """Build the ``fairsk`` parser (subcommand ``benchmark``).

    Examples
    --------
    >>> args = build_parser().parse_args(["benchmark", "--bound", "0.01", "0.02"])
    >>> args.bound, args.dataset, args.max_train
    ([0.01, 0.02], None, 8000)
    """
    parser = argparse.ArgumentParser(
        prog="fairsk",
        description="fairsk: fairness-constrained neural classifiers.",
    )
    from fairsk import __version__

    parser.add_argument("--version", action="version", version=f"fairsk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_benchmark_parser(sub)
    return parser


def _algorithms(args, parser) -> list[str]:
    from .registry import (
        DEFAULT_FAIRLEARN,
        algorithm_names,
        default_algorithms,
        our_estimators,
    )

    if not args.algorithms:
        return default_algorithms()
    groups = {
        "ours": list(our_estimators()),
        "fairlearn": list(DEFAULT_FAIRLEARN),
        "all": algorithm_names(),
    }
    names = algorithm_names()
    out: list[str] = []
    for item in args.algorithms:
        for name in item.split(","):
            name = name.strip().lower()
            if not name:
                continue
            chosen = groups.get(name, [name])
            unknown = [n for n in chosen if n not in names]
            if unknown:
                parser.error(
                    f"unknown algorithm {unknown[0]!r}; choose from "
                    f"{', '.join(names)} (or ours, fairlearn, all)"
                )
            out += [n for n in chosen if n not in out]
    return out


def _known_params(name: str) -> set[str]:
    from .baselines import FAIRLEARN_BASELINES, build_baseline
    from .registry import our_estimators

    if name in FAIRLEARN_BASELINES:
        est, _ = build_baseline(name, "demographic_parity", 0.01, 0)
        return set(est.get_params(deep=True))
    return set(our_estimators()[name]().get_params())


def _params(args, parser, algorithms: list[str]) -> dict:
    from .registry import family

    out: dict[str, dict] = {}
    for name, key, value in args.param:
        if key in RESERVED:
            how = RESERVED[key]
            parser.error(
                f"--param {name}.{key}: {key!r} is set by the benchmark"
                + (f" (use {how})" if how else "")
            )
        if name == "*":
            targets = [
                a
                for a in algorithms
                if family(a) == "fairsk" and key in _known_params(a)
            ]
            if not targets:
                parser.error(
                    f"--param *.{key}: no selected fairsk algorithm has {key!r}"
                )
        else:
            if name not in algorithms:
                parser.error(
                    f"--param {name}.{key}: {name!r} is not among the selected "
                    f"algorithms ({', '.join(algorithms)})"
                )
            known = _known_params(name)
            if key not in known:
                parser.error(
                    f"--param {name}.{key}: {name} has no parameter {key!r}; it has "
                    f"{', '.join(sorted(k for k in known if '__' not in k))}"
                )
            targets = [name]
        for target in targets:
            out.setdefault(target, {})[key] = value
    return out


def settings_from_args(args, parser):
    """Validate parsed arguments (``parser.error`` on bad ones) into Settings."""
    from ..engine import resolve_device
    from .data import DatasetSpec
    from .sweep import Settings

    dataset = args.dataset
    if args.pums_csv is not None:
        if dataset not in (None, "pums"):
            parser.error(f"--pums-csv gives the pums dataset, not {dataset!r}")
        dataset = "pums"
    dataset = dataset or "adult"
    if dataset == "pums" and args.pums_csv is None:
        parser.error("the pums dataset needs --pums-csv PATH")
    if dataset != "acs-income":
        for flag, value in (
            ("--states", args.states),
            ("--year", args.year),
            ("--data-home", args.data_home),
        ):
            if value is not None:
                parser.error(f"{flag} applies to acs-income only")
    if args.constraint.endswith("_ratio") and any(b > 1 for b in args.bound):
        parser.error(f"{args.constraint} takes ratio bounds in [0, 1]")
    if args.n_jobs == 0:
        parser.error("--n-jobs 0 is not a number of workers; use 1 or more, or -1")
    if args.dask_scheduler is not None and args.n_jobs not in (-1, 1):
        parser.error("--n-jobs and --dask-scheduler exclude each other")
    try:
        resolve_device(args.device)
    except (ValueError, RuntimeError) as exc:
        parser.error(f"--device {args.device}: {exc}")
    seeds = list(dict.fromkeys(s for group in args.seeds for s in group))
    if any(s < 0 for s in seeds):
        parser.error("seeds are non-negative integers")
    algorithms = _algorithms(args, parser)
    spec = DatasetSpec(
        name=dataset,
        groups=args.groups,
        min_group_size=args.min_group_size,
        drop_sensitive=args.drop_sensitive,
        states=tuple(s.upper() for s in (args.states or ["OK"])),
        year=args.year or 2018,
        data_home=args.data_home,
        download=not args.no_download,
        pums_csv=args.pums_csv,
        test_size=args.test_size,
        split_seed=args.split_seed,
        max_train=args.max_train,
        max_test=args.max_test,
    )
    return Settings(
        dataset=spec,
        algorithms=algorithms,
        seeds=seeds,
        constraint=args.constraint,
        bounds=list(dict.fromkeys(args.bound)),
        pairing=args.pairing,
        epochs=None if args.seconds is not None else (args.epochs or DEFAULT_EPOCHS),
        seconds=args.seconds,
        batch_size=args.batch_size,
        params=_params(args, parser, algorithms),
        threshold=args.threshold,
        device=args.device,
        proxy=None if args.fairlearn_proxy == "none" else args.fairlearn_proxy,
        fairlearn_every_seed=args.fairlearn_every_seed,
        n_jobs=args.n_jobs,
        threads=args.threads,
        dask_scheduler=args.dask_scheduler,
        output=args.output,
        resume=not args.no_resume,
        plots=not args.no_plots,
        quiet=args.quiet,
        command=shlex.join(["fairsk", *getattr(args, "argv", [])]),
    )


def _console():
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        # Piped or redirected: rich would assume 80 columns and squeeze the table.
        console = Console(width=max(console.width, 120))
    return console


def run_cli(args, parser) -> int:
    """Run the ``benchmark`` subcommand; return the exit code.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by :func:`build_parser` (or a parser with
        :func:`add_benchmark_parser`).
    parser : argparse.ArgumentParser
        For usage errors (``parser.error`` exits with code 2).

    Returns
    -------
    int
        0; 1 when a run failed or the data could not be loaded; 130 when
        interrupted.

    Examples
    --------
    >>> import tempfile
    >>> parser = build_parser()
    >>> args = parser.parse_args([
    ...     "benchmark", "--algorithms", "sgd", "--seeds", "0", "--epochs", "1",
    ...     "--max-train", "300", "--max-test", "300", "--n-jobs", "1",
    ...     "--no-plots", "-q", "-o", tempfile.mkdtemp(),
    ... ])
    >>> code = run_cli(args, parser)
    fairsk benchmark - UCI Adult (embedded): 300 train / 300 test rows ...
    ...
    >>> code
    0
    """
    from .data import DataError
    from .sweep import run_benchmark

    settings = settings_from_args(args, parser)
    console = _console()
    try:
        result = run_benchmark(settings, console=console)
    except DataError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        console.print(
            f"\ninterrupted; finished runs are saved in {settings.output}/runs/. "
            "Rerun the same command to resume."
        )
        return 130
    except OSError as exc:  # e.g. the Dask scheduler cannot be reached
        console.print(f"[red]error:[/] {type(exc).__name__}: {exc}", highlight=False)
        return 1
    return 1 if result.n_errors else 0


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
