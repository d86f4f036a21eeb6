"""A whole benchmark: plan the runs, skip finished ones, execute, report.

:func:`run_benchmark` is what ``fairsk benchmark`` calls; it is usable from Python
with a :class:`Settings`. Output folder layout::

    <output>/runs/<run_id>.json   one file per finished run (resume reads these)
    <output>/results.csv          one row per run: spec, the constraint on train and
                                  test (with an interval), metrics, settings, versions
    <output>/results.json         the same, with trajectories, settings, versions
    <output>/summary.csv          mean and std over seeds per algorithm and bound
    <output>/trajectories.png     objective and constraint vs training time
    <output>/pareto.png           accuracy-fairness plane with the Pareto front
    <output>/report.html          all of it on one self-contained page
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .data import BenchmarkData, DatasetSpec, load_benchmark_data
from .heldout import CONFIDENCE, N_BOOT
from .io import RunStore, atomic_write, to_json
from .parallel import effective_jobs, iter_results
from .registry import default_algorithms, family
from .report import (
    HELD_OUT_COLUMNS,
    LABELS,
    constraint_metric,
    html_report,
    plot_pareto,
    plot_trajectories,
    rich_table,
    runs_frame,
    summarize,
)
from .runs import RunSpec, is_complete, plan_runs

__all__ = ["BenchmarkResult", "Settings", "run_benchmark", "versions"]


@dataclass
class Settings:
    """Everything a benchmark needs (the CLI's arguments, parsed).

    Parameters
    ----------
    dataset : DatasetSpec
        What data, which split.
    algorithms : list of str
        Names from :func:`~fairsk.benchmark.registry.algorithm_names`.
    seeds : list of int
        Training seeds (initialisation and minibatches).
    constraint : str
        A name from :data:`fairsk.constraints.CONSTRAINTS`.
    bounds : list of float
        One sweep point per bound.
    epochs, seconds : int or None, float or None
        The per-run budget of fairsk classifiers: epochs, or wall-clock seconds.
    batch_size : int or None
        Objective minibatch of every fairsk classifier (None: each one's default).
    params : dict
        Per-algorithm parameter overrides ``{name: {param: value}}``.
    n_jobs : int
        joblib workers (negative: counted back from the cores, -1 = all).
    threads : int or None
        Threads per run (None: cores divided among workers; 1 on Dask).
    dask_scheduler : str or None
        Send the runs to this Dask scheduler.
    output : str
        Output folder.
    resume : bool
        Skip runs already finished in ``output``.

    Examples
    --------
    >>> settings = Settings(algorithms=["sslalm", "gs-logreg"], bounds=[0.01, 0.02])
    >>> settings.budget(), settings.seeds, settings.dataset.describe()
    ('default epochs', [0, 1, 2], 'UCI Adult (embedded)')
    >>> Settings(seconds=30, epochs=None).budget()
    '30 s of wall time'
    """

    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    algorithms: list[str] = field(default_factory=default_algorithms)
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    constraint: str = "loss_gap"
    bounds: list[float] = field(default_factory=lambda: [0.005])
    pairing: str = "auto"
    epochs: int | None = None
    seconds: float | None = None
    batch_size: int | None = None
    params: dict = field(default_factory=dict)
    threshold: float = 0.5
    device: str = "auto"
    proxy: str | None = "demographic_parity"
    fairlearn_every_seed: bool = False
    n_jobs: int = -1
    threads: int | None = None
    dask_scheduler: str | None = None
    output: str = "fairsk-results"
    resume: bool = True
    plots: bool = True
    quiet: bool = False
    command: str = ""

    def as_dict(self) -> dict:
        """JSON-able settings."""
        out = asdict(self)
        out["dataset"] = asdict(self.dataset)
        return out

    def budget(self) -> str:
        """Describe the per-run budget of fairsk classifiers."""
        if self.seconds is not None:
            return f"{self.seconds:g} s of wall time"
        if self.epochs is None:
            return "default epochs"
        return f"{self.epochs} epochs"


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` did and wrote.

    Attributes
    ----------
    records : list of dict
        Every run's record (:func:`~fairsk.benchmark.runs.execute`), resumed ones
        included.
    frame : pandas.DataFrame
        ``results.csv``: one row per run.
    summary : pandas.DataFrame
        The test table (:func:`~fairsk.benchmark.report.summarize`).
    files : dict of str to Path
        The files written, by name.
    n_resumed, n_ran, n_errors : int
        Runs found finished in the output folder, run now, and failed.
    seconds : float
        Wall time.
    data : BenchmarkData or None
        The data the runs used.

    Examples
    --------
    >>> import io, tempfile
    >>> from rich.console import Console
    >>> settings = Settings(
    ...     dataset=DatasetSpec(max_train=300, max_test=300), algorithms=["sgd"],
    ...     seeds=[0], epochs=1, n_jobs=1, plots=False, output=tempfile.mkdtemp(),
    ... )
    >>> result = run_benchmark(settings, console=Console(file=io.StringIO()))
    >>> result.n_ran, result.n_resumed, result.n_errors
    (1, 0, 0)
    >>> row = result.frame.iloc[0]
    >>> row["algorithm"], bool(row["test_constraint_value"] >= 0)
    ('sgd', True)
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
    """Versions of the libraries that determine the results.

    Examples
    --------
    >>> sorted(versions())[:3]
    ['fairlearn', 'fairsk', 'numpy']
    """
    import fairlearn
    import scipy
    import sklearn
    import skorch
    import torch

    import fairsk

    return {
        "fairsk": fairsk.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "skorch": skorch.__version__,
        "fairlearn": fairlearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(terse=True),
    }


def _specs(settings: Settings, data: BenchmarkData) -> list[RunSpec]:
    return plan_runs(
        settings.algorithms,
        settings.seeds,
        settings.bounds,
        fairlearn_every_seed=settings.fairlearn_every_seed,
        params=settings.params,
        constraint=settings.constraint,
        pairing=settings.pairing,
        epochs=settings.epochs,
        seconds=settings.seconds,
        batch_size=settings.batch_size,
        device=settings.device,
        threshold=settings.threshold,
        proxy=settings.proxy,
        data_key=data.key,
    )


def _sort_records(records: list[dict], algorithms: list[str]) -> list[dict]:
    order = {name: i for i, name in enumerate(algorithms)}

    def key(rec):
        bound = rec.get("bound")
        return (
            order.get(rec["algorithm"], len(order)),
            -1.0 if bound is None else bound,
            rec.get("seed", 0),
        )

    return sorted(records, key=key)


def _describe_data(data: BenchmarkData) -> str:
    s = data.summary()
    groups = ", ".join(f"{g} {n:,}" for g, n in s["groups"].items())
    subset = ""
    if data.spec.max_train is not None and s["n_train"] == data.spec.max_train:
        subset = f" (training subset: --max-train {data.spec.max_train})"
    return (
        f"{s['dataset']}: {s['n_train']:,} train / {s['n_test']:,} test rows of "
        f"{s['n_rows']:,}{subset}, {s['n_features']} features; groups "
        f"({data.spec.groups}, train): {groups}"
    )


def _notes(settings: Settings, records: list[dict]) -> list[str]:
    notes = []
    fl = sorted(
        {r["fairlearn_constraint"] for r in records if r.get("fairlearn_constraint")}
    )
    if fl:
        notes.append("fairlearn baselines ran under: " + " | ".join(fl) + ".")
        notes.append(
            "fairlearn's moments bound each group's gap to the whole population "
            "(fairsk's pairing='one_vs_mean'); with two groups that is looser than "
            "the pairwise bound by the other group's share."
        )
    if any(r["algorithm"].startswith("gs-") for r in records):
        notes.append(
            "GridSearch: of its grid of models, the one with the lowest training "
            "error among those within the bound on the training data (or the least "
            "violating one); fairlearn's own rule ignores the bound."
        )
    if any(family(r["algorithm"]) == "fairlearn" for r in records) and (
        not settings.fairlearn_every_seed and len(settings.seeds) > 1
    ):
        notes.append(
            "fairlearn baselines are deterministic given the data: each ran once "
            f"(seed {settings.seeds[0]}); --fairlearn-every-seed repeats them."
        )
    if any(r["algorithm"].startswith(("eg-", "threshold-")) for r in records):
        notes.append(
            "ExponentiatedGradient and ThresholdOptimizer are randomised: their "
            "metrics use their own predict (random_state = seed) and, for AUC, Wd "
            "and |ΔL|, the probability of a positive prediction; that probability "
            "is near 0 or 1 for most rows, so their |ΔL| (a log loss) is large."
        )
    for rec in records:
        if rec.get("status") == "skipped":
            notes.append(f"skipped {rec['run_id']}: {rec.get('reason')}")
        elif rec.get("status") == "error":
            notes.append(f"FAILED {rec['run_id']}: {rec.get('error')}")
    return notes


def _short_line(rec: dict, metric: str) -> str:
    bound = "—" if rec.get("bound") is None else f"{rec['bound']:g}"
    head = f"{rec['algorithm']:<14} bound {bound:<6} seed {rec['seed']}"
    if rec["status"] == "ok":
        value = rec.get(f"test_{metric}")
        value = "nan" if value is None else f"{value:.3f}"
        return (
            f"[green]done[/]    {head}  test acc {rec['test_accuracy']:.3f}  "
            f"{LABELS.get(metric, metric)} {value}  ({rec['fit_seconds']:.1f} s)"
        )
    if rec["status"] == "skipped":
        return f"[yellow]skipped[/] {head}  {rec.get('reason')}"
    return f"[red]FAILED[/]  {head}  {rec.get('error')}"


def _progress(console, total: int, quiet: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet or total == 0,
    )


def run_benchmark(settings: Settings, console=None) -> BenchmarkResult:
    """Run (or resume) a benchmark and write its outputs.

    Parameters
    ----------
    settings : Settings
        What to run, where to write.
    console : rich.console.Console or None
        Where to print; None creates one on stdout.

    Returns
    -------
    BenchmarkResult

    Raises
    ------
    fairsk.benchmark.data.DataError
        The dataset could not be loaded.

    Examples
    --------
    >>> import io, tempfile
    >>> from rich.console import Console
    >>> from fairsk.benchmark import DatasetSpec, Settings, run_benchmark
    >>> settings = Settings(
    ...     dataset=DatasetSpec(max_train=300, max_test=300),
    ...     algorithms=["sslalm", "threshold-logreg"],
    ...     seeds=[0],
    ...     epochs=1,
    ...     n_jobs=1,
    ...     plots=False,
    ...     output=tempfile.mkdtemp(),
    ... )
    >>> result = run_benchmark(settings, console=Console(file=io.StringIO()))
    >>> result.n_ran, result.n_errors, sorted(result.files)
    (2, 0, ['report.html', 'results.csv', 'results.json', 'summary.csv'])
    >>> result.summary[["method", "n"]].to_dict("records")
    [{'method': 'sslalm', 'n': 1}, {'method': 'threshold-logreg', 'n': 1}]
    """
    from rich.console import Console

    console = console or Console()
    start = time.perf_counter()
    out = Path(settings.output)
    data = load_benchmark_data(settings.dataset)
    dask = settings.dask_scheduler is not None
    specs = _specs(settings, data)
    store = RunStore(out)
    stored = store.finished() if settings.resume else {}
    # Successful runs of an earlier fairsk lack the held-out constraint values,
    # which need the model (not stored): they run again.
    done = {run_id: rec for run_id, rec in stored.items() if is_complete(rec)}
    outdated = sum(s.run_id in stored and s.run_id not in done for s in specs)
    pending = [s for s in specs if s.run_id not in done]
    resumed = {s.run_id: done[s.run_id] for s in specs if s.run_id in done}
    # Each run gets its share of the cores (threads are not part of a run's id).
    jobs = 1 if dask else effective_jobs(settings.n_jobs, max(len(pending), 1))
    threads = settings.threads or (1 if dask else max(1, (os.cpu_count() or 1) // jobs))
    pending = [replace(s, threads=threads) for s in pending]

    ours = [a for a in settings.algorithms if family(a) == "fairsk"]
    theirs = [a for a in settings.algorithms if family(a) == "fairlearn"]
    where = (
        f"Dask scheduler {settings.dask_scheduler}"
        if dask
        else f"{jobs} worker{'s' if jobs > 1 else ''} x {threads} thread"
        f"{'s' if threads > 1 else ''}"
    )
    batch = settings.batch_size or "each classifier's default"
    console.print(f"[bold]fairsk benchmark[/] - {_describe_data(data)}")
    console.print(
        f"constraint {settings.constraint} <= "
        f"{', '.join(f'{b:g}' for b in settings.bounds)} (pairing {settings.pairing});"
        f" fairsk budget {settings.budget()}, batch {batch}, device {settings.device}"
    )
    if ours:
        console.print(
            f"fairsk: {', '.join(ours)} x seeds {', '.join(map(str, settings.seeds))}"
        )
    if theirs:
        console.print(f"fairlearn: {', '.join(theirs)}")
    console.print(
        f"{len(specs)} runs: {len(resumed)} finished earlier (skipped), "
        f"{len(pending)} to run on {where} -> {out}/"
    )
    if outdated:
        console.print(
            f"{outdated} of them ran with an earlier fairsk, which did not record "
            "the constraint on the test set: they run again."
        )

    metric = constraint_metric(settings.constraint)
    new: dict[str, dict] = {}
    with _progress(console, len(pending), settings.quiet) as progress:
        task = progress.add_task("runs", total=len(pending))
        for rec in iter_results(
            pending,
            data,
            n_jobs=settings.n_jobs,
            dask_scheduler=settings.dask_scheduler,
        ):
            store.save(rec)
            new[rec["run_id"]] = rec
            if not settings.quiet:
                progress.console.print(_short_line(rec, metric))
            progress.advance(task)

    records = _sort_records([*resumed.values(), *new.values()], settings.algorithms)
    files, frame, summary = _write_outputs(settings, data, records, out)
    if not summary.empty:
        console.print(
            rich_table(
                summary,
                title=(
                    f"Test set, mean ±std over seeds - {data.spec.describe()}, "
                    f"{settings.constraint} <= "
                    f"{', '.join(f'{b:g}' for b in settings.bounds)}"
                ),
                caption=(
                    "AUC_M higher is better, all others lower; '≤ bound': "
                    f"runs with test {LABELS.get(metric, metric)} <= bound"
                ),
            )
        )
        if HELD_OUT_COLUMNS[4] in summary.columns:
            console.print(
                rich_table(
                    summary,
                    title=(
                        f"{settings.constraint} on train and test "
                        f"({CONFIDENCE:.0%} bootstrap interval, {N_BOOT} "
                        "replicates), mean ±std over seeds"
                    ),
                    caption=(
                        "each classifier's own predictions, fairlearn's included; "
                        "'holds on test': runs whose test interval is within the "
                        "bound"
                    ),
                    columns=HELD_OUT_COLUMNS,
                )
            )
    n_errors = sum(r["status"] == "error" for r in records)
    for note in _notes(settings, records):
        console.print(f"[dim]note:[/] {note}", highlight=False)
    elapsed = time.perf_counter() - start
    console.print(
        f"wrote {', '.join(files)} to {out}/ in {elapsed:.0f} s"
        + (f" ([red]{n_errors} failed run(s)[/])" if n_errors else "")
    )
    return BenchmarkResult(
        records=records,
        frame=frame,
        summary=summary,
        files=files,
        n_resumed=len(resumed),
        n_ran=len(new),
        n_errors=n_errors,
        seconds=elapsed,
        data=data,
    )


def _flat_settings(settings: Settings, data: BenchmarkData) -> dict:
    s = data.summary()
    spec = data.spec
    return {
        "dataset": s["dataset"],
        "groups_by": spec.groups,
        "split_seed": spec.split_seed,
        "split_test_size": spec.test_size,
        "max_train": spec.max_train,
        "data_key": data.key,
        "pairing": settings.pairing,
        "threshold": settings.threshold,
        "device": settings.device,
    }


def _write_outputs(settings, data, records, out: Path):
    files: dict[str, Path] = {}
    vers = versions()
    extra = {
        **_flat_settings(settings, data),
        **{f"version_{k}": v for k, v in vers.items()},
    }
    frame = runs_frame(records, extra)
    files["results.csv"] = atomic_write(out / "results.csv", frame.to_csv(index=False))
    payload = {
        "format": "fairsk-benchmark/1",
        "command": settings.command,
        "settings": settings.as_dict(),
        "versions": vers,
        "data": data.summary(),
        "runs": records,
    }
    files["results.json"] = atomic_write(
        out / "results.json", to_json(payload, indent=1)
    )
    test = summarize(
        frame, constraint=settings.constraint, algorithms=settings.algorithms
    )
    train = summarize(
        frame,
        split="train",
        constraint=settings.constraint,
        algorithms=settings.algorithms,
    )
    if not test.empty:
        numeric = [c for c in test.columns if c.endswith(("_mean", "_std"))]
        files["summary.csv"] = atomic_write(
            out / "summary.csv",
            test[["method", "bound", "n", *numeric]].to_csv(index=False),
        )
    images = {}
    if settings.plots:
        common = {
            "constraint": settings.constraint,
            "bounds": settings.bounds,
            "algorithms": settings.algorithms,
        }
        images["Training trajectories"] = plot_trajectories(records, **common)
        images["Accuracy-fairness plane"] = plot_pareto(frame, **common)
        for name, png in zip(
            ("trajectories.png", "pareto.png"), images.values(), strict=True
        ):
            if png:
                files[name] = atomic_write(out / name, png)
            else:  # not left over from an earlier benchmark in this folder
                (out / name).unlink(missing_ok=True)
    meta = {
        "command": settings.command or "(python API)",
        "data": _describe_data(data),
        "constraint": f"{settings.constraint} <= "
        + ", ".join(f"{b:g}" for b in settings.bounds),
        "fairsk budget": f"{settings.budget()}, batch "
        f"{settings.batch_size or 'default'}, device {settings.device}",
        "seeds": ", ".join(map(str, settings.seeds)),
        "parameter overrides": to_json(settings.params) if settings.params else "-",
        "versions": ", ".join(f"{k} {v}" for k, v in vers.items()),
        "written": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    files["report.html"] = atomic_write(
        out / "report.html",
        html_report(
            title=f"fairsk benchmark: {data.spec.describe()}",
            meta=meta,
            test_summary=test,
            train_summary=train,
            images=images,
            notes=_notes(settings, records),
            constraint=settings.constraint,
        ),
    )
    return files, frame, test
