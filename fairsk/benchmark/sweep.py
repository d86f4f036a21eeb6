"""A whole benchmark: plan the runs, skip finished ones, execute, report.

:func:`run_benchmark` is what ``fairsk benchmark`` calls; :doc:`/benchmark` lists
the files it writes. The folder is locked while a benchmark writes it; files of an
earlier benchmark that this one does not write again (figures after
``--no-plots``) are removed.
"""

from __future__ import annotations

import importlib
import os
import platform
import shlex
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from rich.markup import escape

from fairsk.constraints import CONSTRAINTS

from .data import BenchmarkData, load_benchmark_data
from .figures import plot_curves, plot_frontier, plot_groups, save_figure
from .heldout import CONFIDENCE, N_BOOT
from .io import FolderLock, RunStore, atomic_write, to_json
from .parallel import effective_jobs, iter_results
from .registry import family
from .report import html_report
from .runs import is_complete, plan_runs
from .settings import Settings
from .summary import LABELS, rich_tables, runs_frame, summarize, table_cells

__all__ = ["BenchmarkResult", "run_benchmark"]

# fmt: off
FIGURES = {  # stem: (title, caption)
    "frontier": ("Accuracy and fairness on the test set", "One line per method "
                 "through its bounds (marker size grows with the bound; dotted: the "
                 "bounds); means over seeds with 95% t intervals in both axes (none "
                 "for a single run); filled markers are on the method's own Pareto "
                 "front."),
    "curves": ("Training curves (the paper's figure)", "Per fairsk method, the "
               "objective (BCE) and the constraint of the iterate on the training set "
               "(solid) and the test set (dashed) after each epoch: mean over seeds, "
               "95% band; the bound dotted."),
    "groups": ("Each group, per method", "Each group's statistics on the test set at "
               "one bound: 95% t intervals over seeds, or a single run's ±1.96 "
               "standard errors."),
}
#: Every file a benchmark may write at the top of its folder (stale ones go).
OUTPUTS = ("results.csv", "results.json", "summary.csv", "report.html",
           "trajectories.png", "pareto.png",
           *(f"{stem}.{x}" for stem in FIGURES for x in ("png", "svg")))
#: Modules whose versions determine the results, by distribution name.
VERSIONED = {"fairsk": "fairsk", "torch": "torch", "scikit-learn": "sklearn",
             "skorch": "skorch", "fairlearn": "fairlearn", "numpy": "numpy",
             "pandas": "pandas", "scipy": "scipy"}
#: RunSpec fields taken from the settings as they are.
SPEC_SETTINGS = ("constraint", "pairing", "epochs", "seconds", "batch_size",
                 "device", "threshold", "proxy")
# fmt: on


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` did and wrote.

    Examples
    --------
    >>> import io, tempfile
    >>> from rich.console import Console
    >>> from fairsk.benchmark import DatasetSpec, Settings
    >>> settings = Settings(
    ...     dataset=DatasetSpec(max_train=300, max_test=300), algorithms=["sgd"],
    ...     seeds=[0], epochs=1, n_jobs=1, plots=False, output=tempfile.mkdtemp(),
    ... )
    >>> result = run_benchmark(settings, console=Console(file=io.StringIO()))
    >>> result.n_ran, result.n_resumed, result.n_errors
    (1, 0, 0)
    >>> run_benchmark(settings, console=Console(file=io.StringIO())).n_resumed
    1
    """

    records: list[dict]
    frame: pd.DataFrame
    summary: pd.DataFrame
    files: dict[str, Path]
    n_resumed: int
    n_ran: int
    n_errors: int
    seconds: float
    data: BenchmarkData | None = None


def versions() -> dict[str, str]:
    """Versions of the libraries that determine the results."""
    out = {k: importlib.import_module(m).__version__ for k, m in VERSIONED.items()}
    return out | {
        "python": platform.python_version(),
        "platform": platform.platform(True),
    }


def _no_paths(command: str) -> str:
    """Shorten every absolute path in ``command`` to its file name."""
    out = []
    for token in shlex.split(command):
        flag, eq, value = (
            token.rpartition("=") if token.startswith("-") else ("", "", token)
        )
        out.append(flag + eq + (Path(value).name if os.path.isabs(value) else value))
    return shlex.join(out)


def _describe(data: BenchmarkData) -> str:
    """Return one line on the data: its rows, features, positive class and groups."""
    s = data.summary()
    groups = ", ".join(f"{g} {n:,}" for g, n in s["groups"].items())
    return (
        f"{s['dataset']}: {s['n_train']:,} train / {s['n_test']:,} test rows of "
        f"{s['n_rows']:,}, {s['n_features']} features; positive class "
        f"{s['positive_class']}; groups ({s['groups_by']}, train): {groups}"
    )


def _setup(s: Settings) -> tuple[str, str]:
    """Describe the constraint and the fairsk budget, as the terminal and page say."""
    bounds = ", ".join(f"{b:g}" for b in s.bounds)
    budget = f"{s.budget()}, batch {s.batch_size or 'default'}, device {s.device}"
    return f"{s.constraint} <= {bounds} (pairing {s.pairing})", budget


def _notes(s: Settings, records: list[dict]) -> list[str]:
    """Return the notes on how to read the results, and on each run not done."""
    names = {r["algorithm"] for r in records}
    fl = sorted({r.get("fairlearn_constraint") for r in records} - {None, ""})
    notes = []
    if fl:
        notes.append(
            f"fairlearn's mitigations ran under: {' | '.join(fl)}; its moments bound "
            "each group's gap to the whole population (fairsk's "
            "pairing='one_vs_mean')."
        )
    if any(n.startswith("gs-") for n in names):
        notes.append(
            "GridSearch: the grid's model with the lowest training error within the "
            "bound on train (fairlearn's own rule ignores it)."
        )
    once = len(s.seeds) > 1 and not s.fairlearn_every_seed
    if once and any(family(n) == "fairlearn" for n in names):
        notes.append(
            f"fairlearn's runs are deterministic: each ran once (seed {s.seeds[0]}); "
            "--fairlearn-every-seed repeats them."
        )
    if any(n.startswith(("eg-", "threshold-")) for n in names):
        notes.append(
            "ExponentiatedGradient and ThresholdOptimizer are randomised: their "
            "metrics use their own predict (random_state = seed) and, for AUC, Wd "
            "and |ΔL|, the probability of predicting 1, near 0 or 1 for most rows "
            "(hence their large |ΔL|)."
        )
    notes.append(
        "Wd is the exact Wasserstein-2 distance between the groups' scores; the "
        "paper's code reports W₂² between 50-bin histograms: column wd2_hist of "
        "results.csv."
    )
    for rec in records:
        if rec["status"] in ("skipped", "error"):
            why = rec.get("reason") or rec.get("error")
            notes.append(f"{rec['status']} {rec['run_id']}: {why}")
    return notes


def _missed(records: list[dict]) -> str | None:
    """Return the closing line about runs that ended above their bound on train."""
    bounded = [r for r in records if r["status"] == "ok" and r.get("bound") is not None]
    missed = [r for r in bounded if (r.get("train_constraint_violation") or 0) > 0]
    if not missed:
        return None
    counts = pd.Series([r["algorithm"] for r in missed]).value_counts(sort=False)
    warned = sum(r.get("n_warnings", 0) > 0 for r in missed)
    return (
        f"{len(missed)} of {len(bounded)} runs with a bound ended above it on the "
        f"training set ({', '.join(f'{a} {n}' for a, n in counts.items())}); "
        + (
            f"{warned} of them warned (see report.html)."
            if warned
            else "none warned (fairsk's own warning allows a tolerance past the bound)."
        )
    )


def _line(rec: dict, metric: str) -> str:
    """Return the progress line of one finished run."""
    bound = "—" if rec.get("bound") is None else f"{rec['bound']:g}"
    head = escape(f"{rec['algorithm']:<14} bound {bound:<6} seed {rec['seed']}")
    if rec["status"] != "ok":
        color = "yellow" if rec["status"] == "skipped" else "red"
        why = escape(str(rec.get("reason") or rec.get("error")))
        label = "skipped" if rec["status"] == "skipped" else "FAILED"
        return f"[{color}]{label:<7}[/] {head}  {why}"
    value, n = rec.get(f"test_{metric}"), rec.get("n_warnings", 0)
    return (
        f"[green]done[/]    {head}  acc {rec['test_accuracy']:.3f}  "
        f"{escape(LABELS.get(metric, metric))} {value:.3f}  "
        f"({rec['fit_seconds']:.1f} s)" + (f"  [yellow]{n} warning(s)[/]" if n else "")
    )


def _say(console, text: str, style: str = "") -> None:
    """Print plain text (markup escaped), in ``style`` when one is given."""
    console.print(
        f"[{style}]{escape(text)}[/]" if style else escape(text), highlight=False
    )


@dataclass
class _Plan:
    """The runs of a benchmark: all of them, the finished ones, the rest and where."""

    specs: list
    done: dict
    bad: list[str]
    outdated: int
    pending: list
    where: str


def _plan(s: Settings, data: BenchmarkData, store: RunStore) -> _Plan:
    """Plan every run, keep the finished ones, and size the workers for the rest."""
    specs = plan_runs(
        s.algorithms,
        s.seeds,
        s.bounds,
        fairlearn_every_seed=s.fairlearn_every_seed,
        params=s.params,
        data_key=data.key,
        **{k: getattr(s, k) for k in SPEC_SETTINGS},
    )
    stored = store.read() if s.resume else {}
    done, bad, outdated = {}, [], 0
    for spec in (spec for spec in specs if spec.run_id in stored):
        rec, problem = stored[spec.run_id], spec.problem_with(stored[spec.run_id])
        if problem:
            bad.append(f"runs/{spec.run_id}.json: {problem}")
        elif is_complete(rec):
            done[spec.run_id] = rec
        else:  # a run file from an earlier fairsk
            outdated += rec["status"] == "ok"
    pending = [spec for spec in specs if spec.run_id not in done]
    dask = s.dask_scheduler is not None
    jobs = 1 if dask else effective_jobs(s.n_jobs, max(len(pending), 1))
    threads = s.threads or (1 if dask else max(1, (os.cpu_count() or 1) // jobs))
    where = f"{jobs} worker{'s' * (jobs > 1)} x {threads} thread{'s' * (threads > 1)}"
    if dask:
        where = f"Dask scheduler {s.dask_scheduler}"
    pending = [replace(spec, threads=threads) for spec in pending]
    return _Plan(specs, done, bad, outdated, pending, where)


def _announce(console, s: Settings, data, plan: _Plan, out: Path) -> None:
    """Print what the benchmark runs, on what data, and what it resumes."""
    console.print("[bold]fairsk benchmark[/] - " + escape(_describe(data)))
    constraint, budget = _setup(s)
    preset = f"; preset {s.preset}" if s.preset else ""
    _say(console, f"constraint {constraint}; fairsk budget {budget}{preset}")
    for fam in ("fairsk", "fairlearn"):
        mine = [a for a in s.algorithms if family(a) == fam]
        seeds = f" x seeds {', '.join(map(str, s.seeds))}" * (fam == "fairsk")
        if mine:
            _say(console, f"{fam}: {', '.join(mine)}{seeds}")
    _say(
        console,
        f"{len(plan.specs)} runs: {len(plan.done)} finished earlier (skipped), "
        f"{len(plan.pending)} to run on {plan.where} -> {out}/",
    )
    if plan.outdated:
        _say(
            console,
            f"{plan.outdated} of them ran with an earlier fairsk, which did not record "
            "the constraint on the test set: they run again.",
        )
    for line in plan.bad:
        _say(console, f"ignored {line}; it runs again", "yellow")


def _execute(console, s: Settings, data, pending: list, store: RunStore):
    """Run the pending runs with a progress bar, saving each; say if interrupted."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    metric = CONSTRAINTS[s.constraint].metric
    new = {}
    progress = Progress(
        "[bold]runs",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=s.quiet or not pending,
    )
    try:
        with progress:
            task = progress.add_task("runs", total=len(pending))
            for rec in iter_results(
                pending, data, n_jobs=s.n_jobs, dask_scheduler=s.dask_scheduler
            ):
                if rec["status"] == "interrupted":
                    raise KeyboardInterrupt
                store.save(rec)
                new[rec["run_id"]] = rec
                if not s.quiet:
                    progress.console.print(_line(rec, metric), highlight=False)
                progress.advance(task)
    except KeyboardInterrupt:
        return new, True
    return new, False


def _print_tables(console, s: Settings, summary: pd.DataFrame) -> None:
    """Print the summary's metrics and constraint tables (none when it is empty)."""
    if summary.empty:
        return
    label = LABELS[CONSTRAINTS[s.constraint].metric]
    width = console.width if console.is_terminal else min(console.width, 100)
    metrics = (
        "Test set, mean ±sd over seeds",
        f"AUC_M higher is better, the others lower; '≤ bound': runs with test {label} "
        "within the bound",
    )
    held_out = (
        f"{s.constraint} on train and test ({CONFIDENCE:.0%} bootstrap interval, "
        f"{N_BOOT} replicates)",
        "'holds on test': runs whose test interval is within the bound; warn: "
        "warnings raised",
    )
    for kind, (title, caption) in {"metrics": metrics, "constraint": held_out}.items():
        headers, rows = table_cells(summary, kind)
        for table in rich_tables(
            headers, rows, title=title, caption=caption, width=width
        ):
            console.print(table)


def run_benchmark(settings: Settings, console=None) -> BenchmarkResult:
    """Run (or resume) a benchmark and write its outputs.

    Raises :class:`~fairsk.benchmark.data.DataError` when the data cannot be
    loaded, :class:`~fairsk.benchmark.io.FolderBusyError` when another benchmark
    writes the folder, ValueError on invalid settings, and KeyboardInterrupt,
    after writing the outputs of the finished runs, when interrupted.

    Examples
    --------
    >>> import io, tempfile
    >>> from rich.console import Console
    >>> from fairsk.benchmark import DatasetSpec, Settings, run_benchmark
    >>> settings = Settings(
    ...     dataset=DatasetSpec(max_train=300, max_test=300),
    ...     algorithms=["sslalm", "threshold-logreg"], seeds=[0], epochs=1,
    ...     n_jobs=1, plots=False, output=tempfile.mkdtemp(),
    ... )
    >>> result = run_benchmark(settings, console=Console(file=io.StringIO()))
    >>> result.n_ran, result.n_errors, sorted(result.files)
    (2, 0, ['report.html', 'results.csv', 'results.json', 'summary.csv'])
    """
    from rich.console import Console

    s = settings.check()
    console = console or Console()
    start, out = time.perf_counter(), Path(s.output)
    with FolderLock(out):
        data = load_benchmark_data(s.dataset)
        store = RunStore(out)
        plan = _plan(s, data, store)
        _announce(console, s, data, plan, out)
        new, interrupted = _execute(console, s, data, plan.pending, store)
        order = {name: i for i, name in enumerate(s.algorithms)}
        records = sorted(
            [*plan.done.values(), *new.values()],
            key=lambda r: (
                order.get(r["algorithm"], len(order)),
                r.get("bound") or -1.0,
                r["seed"],
            ),
        )
        missed, tail = _missed(records), _notes(s, records)
        notes = [f"ignored {line}" for line in plan.bad] + [missed] * bool(missed)
        files, frame, summary = _write_outputs(s, data, records, out, notes + tail)
    _print_tables(console, s, summary)
    for note in tail:
        _say(console, "note: " + note, "dim")
    if missed:
        _say(console, missed, "yellow")
    n_errors = sum(r["status"] == "error" for r in records)
    elapsed = time.perf_counter() - start
    _say(
        console,
        f"wrote {', '.join(files)} to {out}/ in {elapsed:.0f} s"
        + (f" ({n_errors} failed run(s))" if n_errors else ""),
    )
    if interrupted:
        raise KeyboardInterrupt
    return BenchmarkResult(
        records,
        frame,
        summary,
        files,
        n_resumed=len(plan.done),
        n_ran=len(new),
        n_errors=n_errors,
        seconds=elapsed,
        data=data,
    )


def _figures(s: Settings, summary, records) -> dict:
    """Draw the figures (none after ``--no-plots``); a figure may be None."""
    if not s.plots:
        return {}
    common = {"constraint": s.constraint, "algorithms": s.algorithms}
    group_bound = s.bounds[0] if s.group_bound is None else s.group_bound
    x_key = "time" if s.seconds else "epoch"
    # fmt: off
    return {
        "frontier": plot_frontier(summary, bounds=s.bounds, y_metric=s.y_metric,
                                  **common),
        "curves": plot_curves(records, bounds=s.bounds, x_key=x_key, **common),
        "groups": plot_groups(records, bound=group_bound, **common),
    }
    # fmt: on


def _write_outputs(s: Settings, data, records, out: Path, notes):
    """Write results, summary, figures and report; remove stale ones; return them."""
    vers, spec, files = versions(), data.spec, {}

    def write(name, content):
        files[name] = atomic_write(out / name, content)

    command = _no_paths(s.command) if s.command else "(python API)"
    # fmt: off
    extra = {"dataset": spec.describe(), "groups_by": spec.sensitive or spec.groups,
             "split_seed": spec.split_seed, "max_train": spec.max_train,
             "data_key": data.key, "pairing": s.pairing, "threshold": s.threshold,
             "device": s.device, **{f"version_{k}": v for k, v in vers.items()}}
    payload = {"format": "fairsk-benchmark/2", "command": command,
               "settings": s.as_dict() | {"command": command}, "versions": vers,
               "data": data.summary(), "runs": records}
    # fmt: on
    frame = runs_frame(records, extra)
    write("results.csv", frame.to_csv(index=False))
    write("results.json", to_json(payload, indent=1))
    summary = summarize(frame, constraint=s.constraint, algorithms=s.algorithms)
    if not summary.empty:
        write("summary.csv", summary.to_csv(index=False))
    figures = []
    for stem, fig in _figures(s, summary, records).items():
        if fig is None:
            continue
        images = save_figure(fig)
        for fmt, content in images.items():
            write(f"{stem}.{fmt}", content)
        title, caption = FIGURES[stem]
        figures.append(dict(title=title, caption=caption, stem=stem, png=images["png"]))
    held_out = (
        f"The constraint as fairsk compiles it, on each classifier's own predictions: "
        f"on the training set, and on the test set with a {CONFIDENCE:.0%} "
        "Poisson-bootstrap interval (means over seeds; ± the sd of the value). "
        "'holds on test': runs whose test interval is within the bound; warn: "
        "warnings raised by the runs."
    )
    tables = []
    for title, kind, split in (
        ("Test set (mean; ± sd over seeds under it)", "metrics", "test"),
        (f"{s.constraint} on the training and test sets", "constraint", "test"),
        ("Training set", "metrics", "train"),
    ):
        headers, rows = table_cells(summary, kind, split) if len(summary) else ([], [])
        text = held_out if kind == "constraint" else ""
        tables.append(dict(title=title, text=text, headers=headers, rows=rows))
    constraint, budget = _setup(s)
    # fmt: off
    meta = {
        "command": command, "data": _describe(data), "constraint": constraint,
        "fairsk budget": budget + (f", preset {s.preset}" if s.preset else ""),
        "seeds": ", ".join(map(str, s.seeds)),
        "parameters": to_json(s.params) if s.params else "-",
        "versions": ", ".join(f"{k} {v}" for k, v in vers.items()),
        "written": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    # fmt: on
    warned = {r["run_id"]: r["warnings"] for r in records if r.get("warnings")}
    write("report.html", html_report(
        title=f"fairsk benchmark: {spec.describe()}", meta=meta, tables=tables,
        figures=figures, notes=notes, warnings=warned))  # fmt: skip
    for name in set(OUTPUTS) - set(files):  # not left from an earlier benchmark
        (out / name).unlink(missing_ok=True)
    return files, frame, summary
