"""One benchmark run: its specification, the function that performs it, its budget.

A run is one algorithm, one seed and one bound on the shared
:class:`~fairsk.benchmark.data.BenchmarkData`. :func:`execute` trains it, records
the trajectory of a fairsk classifier (objective, each constraint's value and the
largest smooth constraint row, per epoch, against cumulative training time, from
``history_``) and evaluates the final model on train and test with
:func:`fairsk.metrics.paper_metrics` and with the benchmark's constraint itself,
the test value with a bootstrap interval (:mod:`~fairsk.benchmark.heldout`). It
never raises: a failure becomes a record
with ``status="error"``, so that one bad run does not end a sweep. Runs are
independent and picklable, which is what lets joblib or Dask execute them anywhere.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.special import expit
from skorch.callbacks import Callback

from ..metrics import paper_metrics
from .baselines import FAIRLEARN_BASELINES, SkipRun, build_baseline, fit_baseline
from .heldout import (
    HELD_OUT_FIELDS,
    baseline_logits,
    compile_on_train,
    constraint_values,
    group_codes,
)
from .registry import family, our_estimators

__all__ = ["RunSpec", "WallClockBudget", "execute", "is_complete", "plan_runs"]

#: max_epochs when the budget is in seconds (the callback stops training first).
UNLIMITED_EPOCHS = 1_000_000


class WallClockBudget(Callback):
    """skorch callback that ends training once ``seconds`` of wall time have passed.

    Checked at the end of each epoch (a per-batch check would make the engine sync
    with the device every step), so a run overshoots by less than one epoch. It
    stops training the way skorch documents for callbacks: raising
    ``KeyboardInterrupt``, which ``partial_fit`` catches.

    Parameters
    ----------
    seconds : float
        Wall-clock budget of one ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from fairsk import UnconstrainedClassifier
    >>> X = np.random.default_rng(0).normal(size=(64, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = UnconstrainedClassifier(max_epochs=500, callbacks=[WallClockBudget(0)])
    >>> clf.fit(X, y).n_iter_
    1
    """

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Start the clock."""
        self.start_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        """Stop training when the budget is spent."""
        if time.perf_counter() - self.start_ >= self.seconds:
            raise KeyboardInterrupt


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one run, and how to execute it.

    ``bound=None`` marks an algorithm the bound does not change (the unconstrained
    baselines); it still monitors the constraint at ``monitor_bound``. ``threads``
    and ``monitor_bound`` do not change the result and are not part of
    :attr:`run_id`; neither are the training budget, batch size and device of a
    fairlearn baseline, nor the fairlearn proxy of a fairsk classifier. The
    ``pairing`` is part of a baseline's id: fairlearn ignores it, but the
    constraint it is measured on (:mod:`~fairsk.benchmark.heldout`) does not.

    Examples
    --------
    >>> spec = RunSpec("sslalm", seed=0, constraint="loss_gap", bound=0.005)
    >>> spec.family, spec.budget
    ('fairsk', 'default epochs')
    >>> RunSpec("gs-logreg", 0, "loss_gap", 0.005).budget
    'fairlearn defaults'
    """

    algorithm: str
    seed: int
    constraint: str
    bound: float | None
    pairing: str = "auto"
    epochs: int | None = None
    seconds: float | None = None
    batch_size: int | None = None
    params: tuple = ()
    device: str = "auto"
    threshold: float = 0.5
    proxy: str | None = "demographic_parity"
    data_key: str = ""
    monitor_bound: float = field(default=0.0, compare=False)
    threads: int | None = field(default=None, compare=False)

    @property
    def family(self) -> str:
        """``"fairsk"`` or ``"fairlearn"``."""
        return family(self.algorithm)

    def identity(self) -> dict:
        """Return the fields that determine the result of the run."""
        out = asdict(self)
        for key in ("monitor_bound", "threads"):
            out.pop(key)
        if self.family == "fairlearn":
            for key in ("epochs", "seconds", "batch_size", "device"):
                out.pop(key)
        else:
            out.pop("proxy")
        return out

    @property
    def run_id(self) -> str:
        """Stable id: ``<algorithm>_<constraint>_<bound>_s<seed>_<hash>``.

        Examples
        --------
        >>> RunSpec("sslalm", 0, "loss_gap", 0.005).run_id
        'sslalm_loss_gap_b0.005_s0_...'
        """
        text = json.dumps(self.identity(), sort_keys=True, default=str)
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        bound = "none" if self.bound is None else f"b{self.bound:g}"
        return f"{self.algorithm}_{self.constraint}_{bound}_s{self.seed}_{digest}"

    @property
    def budget(self) -> str:
        """The training budget, readable."""
        if self.family == "fairlearn":
            return "fairlearn defaults"
        if self.seconds is not None:
            return f"{self.seconds:g} s"
        if self.epochs is None:
            return "default epochs"
        return f"{self.epochs} epochs"


# Relative cost, to start the longest runs first (fewer idle workers at the end).
_COST = {"eg": 8.0, "gs": 4.0, "threshold": 1.0, "none": 0.5}


def _cost(spec: RunSpec) -> float:
    if spec.family == "fairlearn":
        return _COST[FAIRLEARN_BASELINES[spec.algorithm].mitigation]
    return 3.0 if spec.algorithm == "ghost" else 2.0


def _is_unconstrained(name: str) -> bool:
    from ..estimators import UnconstrainedClassifier

    if name in FAIRLEARN_BASELINES:
        return not FAIRLEARN_BASELINES[name].constrained
    return issubclass(our_estimators()[name], UnconstrainedClassifier)


def plan_runs(
    algorithms: list[str],
    seeds: list[int],
    bounds: list[float],
    *,
    fairlearn_every_seed: bool = False,
    params: dict[str, dict] | None = None,
    **common,
) -> list[RunSpec]:
    """Every run of a sweep over algorithms x bounds x seeds, longest first.

    Algorithms the bound does not change run once per seed (``bound=None``).
    fairlearn's baselines are deterministic given the data (LogisticRegression's
    lbfgs, HistGradientBoosting without early stopping), so they run for the first
    seed only unless ``fairlearn_every_seed`` (which then varies only the
    randomised predictions).

    Parameters
    ----------
    algorithms : list of str
        Names from :func:`~fairsk.benchmark.registry.algorithm_names`.
    seeds, bounds : list
        The sweep.
    fairlearn_every_seed : bool, default=False
        Repeat fairlearn's baselines for every seed.
    params : dict, default=None
        Per-algorithm parameter overrides: ``{name: {param: value}}``.
    **common
        Other :class:`RunSpec` fields (constraint, epochs, seconds, ...).

    Returns
    -------
    list of RunSpec

    Examples
    --------
    >>> specs = plan_runs(
    ...     ["sgd", "sslalm", "gs-logreg"], [0, 1], [0.01, 0.02], constraint="loss_gap"
    ... )
    >>> sorted((s.algorithm, s.bound, s.seed) for s in specs)[:3]
    [('gs-logreg', 0.01, 0), ('gs-logreg', 0.02, 0), ('sgd', None, 0)]
    >>> len(specs)  # gs: 2 bounds; sgd: 2 seeds; sslalm: 2 bounds x 2 seeds
    8
    """
    params = params or {}
    specs = []
    for name in algorithms:
        runs_bounds = [None] if _is_unconstrained(name) else bounds
        run_seeds = seeds
        if family(name) == "fairlearn" and not fairlearn_every_seed:
            run_seeds = seeds[:1]
        own = tuple(sorted(params.get(name, {}).items()))
        for bound in runs_bounds:
            for seed in run_seeds:
                specs.append(
                    RunSpec(
                        algorithm=name,
                        seed=seed,
                        bound=bound,
                        params=own,
                        monitor_bound=bounds[0],
                        **common,
                    )
                )
    return sorted(specs, key=_cost, reverse=True)


@contextlib.contextmanager
def _limited_threads(n: int | None):
    """Run with ``n`` threads in torch and in BLAS/OpenMP pools (None: as is).

    Parallel runs each get a share of the cores: oversubscribed thread pools make a
    small network train many times slower.
    """
    if n is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


def _evaluate(scores, preds, data, threshold) -> dict:
    out = {}
    for split, y, A in (
        ("train", data.y_train, data.A_train),
        ("test", data.y_test, data.A_test),
    ):
        metrics = paper_metrics(
            y, scores[split], A, threshold=threshold, y_pred=preds.get(split)
        )
        out.update({f"{split}_{k}": v for k, v in metrics.items()})
    return out


def trajectory(estimator) -> dict:
    """Per-epoch record of a fitted fairsk classifier, against training time.

    Returns
    -------
    dict
        ``epoch``, ``time`` (cumulative ``dur``, seconds), ``objective`` (full
        training loss), ``max_violation`` (largest smooth constraint row) and
        ``constraints``: each constraint's value on hard predictions, by name.
    """
    hist = estimator.history_
    names = [c.name for c in getattr(estimator, "constraints_", [])]
    rows = [h for h in hist if "objective" in h]
    return {
        "epoch": [int(h["epoch"]) for h in rows],
        "time": np.cumsum([float(h.get("dur", 0.0)) for h in rows]).tolist(),
        "objective": [float(h["objective"]) for h in rows],
        "max_violation": [float(h.get("max_violation", np.nan)) for h in rows],
        "constraints": {n: [float(h.get(n, np.nan)) for h in rows] for n in names},
    }


_WARM_DEVICES: set[str] = set()


def _warm_up(device: str) -> None:
    """Fit a tiny network once per process and device before any timed fit.

    The first fit in a process pays torch's one-off initialisation (about two
    seconds on a CPU), which would otherwise be charged to whichever run a worker
    happens to start with.
    """
    if device in _WARM_DEVICES:
        return
    from ..estimators import UnconstrainedClassifier

    X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    groups = np.repeat(["a", "b"], 32)
    clf = UnconstrainedClassifier(max_epochs=1, batch_size=16, device=device)
    clf.fit(X, y, sensitive_features=groups)
    _WARM_DEVICES.add(device)


def _run_fairsk(spec: RunSpec, data) -> dict:
    cls = our_estimators()[spec.algorithm]
    _warm_up(spec.device)
    kwargs = {
        "constraint": spec.constraint,
        "bound": spec.monitor_bound if spec.bound is None else spec.bound,
        "pairing": spec.pairing,
        "device": spec.device,
        "random_state": spec.seed,
    }
    if spec.seconds is not None:
        kwargs["max_epochs"] = UNLIMITED_EPOCHS
    elif spec.epochs is not None:  # None: the classifier's own default
        kwargs["max_epochs"] = spec.epochs
    if spec.batch_size is not None:
        kwargs["batch_size"] = spec.batch_size
    if spec.seconds is not None:
        kwargs["callbacks"] = [WallClockBudget(spec.seconds)]
    # A classifier may lack a shared parameter (one without constraints has no
    # bound); the user's overrides are passed as they are, wrong ones fail the run.
    known = cls().get_params()
    kwargs = {k: v for k, v in kwargs.items() if k in known}
    est = cls(**{**kwargs, **dict(spec.params)})
    start = time.perf_counter()
    est.fit(data.X_train, data.y_train, sensitive_features=data.A_train)
    fit_seconds = time.perf_counter() - start
    # predict_proba is the sigmoid of decision_function: one forward pass each.
    logits = {
        "train": est.decision_function(data.X_train),
        "test": est.decision_function(data.X_test),
    }
    scores = {split: expit(z) for split, z in logits.items()}
    labels = {"train": data.y_train, "test": data.y_test}
    held_out = constraint_values(
        est.compiled_constraints_,
        logits,
        {split: y == est.classes_[1] for split, y in labels.items()},
        {
            "train": group_codes(est.group_encoder_, data.A_train),
            "test": group_codes(est.group_encoder_, data.A_test),
        },
        bound_free=spec.bound is None,
        seed=spec.seed,
    )
    traj = trajectory(est)
    return {
        "fit_seconds": fit_seconds,
        "train_seconds": traj["time"][-1] if traj["time"] else 0.0,
        "epochs_run": int(est.n_iter_),
        "diverged": any(bool(h.get("diverged", False)) for h in est.history_),
        **_evaluate(scores, {}, data, spec.threshold),
        **held_out,
        "trajectory": traj,
    }


def _run_fairlearn(spec: RunSpec, data) -> dict:
    est, fl = build_baseline(
        spec.algorithm,
        spec.constraint,
        spec.bound,
        spec.seed,
        dict(spec.params),
        spec.proxy,
    )
    start = time.perf_counter()
    fitted = fit_baseline(
        spec.algorithm, est, data.X_train, data.y_train, data.A_train, spec.seed
    )
    fit_seconds = time.perf_counter() - start
    X_train = np.asarray(data.X_train, dtype=np.float64)
    X_test = np.asarray(data.X_test, dtype=np.float64)
    scores = {
        "train": fitted.score(X_train, data.A_train),
        "test": fitted.score(X_test, data.A_test),
    }
    preds = {
        "train": fitted.predict(X_train, data.A_train),
        "test": fitted.predict(X_test, data.A_test),
    }
    # Measured on fairsk's constraint (the one the table is about), whatever
    # fairlearn ran under.
    compiled, encoder = compile_on_train(
        spec.constraint,
        spec.monitor_bound if spec.bound is None else spec.bound,
        spec.pairing,
        data.y_train == 1,
        data.A_train,
    )
    held_out = constraint_values(
        compiled,
        {s: baseline_logits(scores[s], preds[s], compiled) for s in scores},
        {"train": data.y_train == 1, "test": data.y_test == 1},
        {
            "train": group_codes(encoder, data.A_train),
            "test": group_codes(encoder, data.A_test),
        },
        bound_free=spec.bound is None,
        seed=spec.seed,
    )
    return {
        "fit_seconds": fit_seconds,
        "train_seconds": fit_seconds,
        "fairlearn_constraint": None if fl is None else fl.note,
        "info": fitted.info,
        **_evaluate(scores, preds, data, spec.threshold),
        **held_out,
    }


def is_complete(record: dict) -> bool:
    """Whether a stored record needs no rerun.

    Finished (``"ok"`` or ``"skipped"``), and a successful run has every field
    this version of fairsk records: an ``"ok"`` record written before the held-out
    constraint values existed is run again (its model was not kept, so they
    cannot be computed from the file).

    Examples
    --------
    >>> is_complete({"status": "skipped"}), is_complete({"status": "ok"})
    (True, False)
    >>> is_complete({"status": "ok", **dict.fromkeys(HELD_OUT_FIELDS)})
    True
    """
    if record.get("status") == "ok":
        return all(key in record for key in HELD_OUT_FIELDS)
    return record.get("status") == "skipped"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def execute(spec: RunSpec, data) -> dict:
    """Perform one run; return its record (never raises on a failed run).

    Parameters
    ----------
    spec : RunSpec
        What to run.
    data : BenchmarkData
        The shared split.

    Returns
    -------
    dict
        ``run_id``, the spec's fields, ``status`` (``"ok"``, ``"skipped"`` with a
        ``reason``, or ``"error"`` with ``error`` and ``traceback``),
        ``fit_seconds``, ``train_*`` and ``test_*`` metrics, the constraint on
        train and test (:data:`~fairsk.benchmark.heldout.HELD_OUT_FIELDS`),
        ``trajectory`` (fairsk classifiers), ``warnings`` raised during the run.

    Examples
    --------
    >>> from fairsk.benchmark import DatasetSpec, load_benchmark_data
    >>> data = load_benchmark_data(DatasetSpec(max_train=300, max_test=300))
    >>> spec = RunSpec("sslalm", 0, "loss_gap", 0.01, epochs=1, batch_size=64)
    >>> record = execute(spec, data)
    >>> record["status"], record["epochs_run"], len(record["trajectory"]["time"])
    ('ok', 1, 1)
    >>> record["test_constraint_low"] <= record["test_constraint_value"]
    True
    >>> record["test_constraint_holds"] in (True, False)
    True
    """
    record = {
        "run_id": spec.run_id,
        "family": spec.family,
        **asdict(spec),
        "params": dict(spec.params),
        "budget": spec.budget,
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "started_at": _now(),
    }
    runner = _run_fairlearn if spec.family == "fairlearn" else _run_fairsk
    with warnings.catch_warnings(record=True) as caught, _limited_threads(spec.threads):
        warnings.simplefilter("always")
        try:
            record.update(runner(spec, data))
            record["status"] = "ok"
        except SkipRun as exc:
            record.update(status="skipped", reason=str(exc))
        except Exception as exc:  # recorded; the sweep goes on
            record.update(
                status="error",
                error=f"{type(exc).__name__}: {exc}",
                traceback=traceback.format_exc(limit=8),
            )
    messages = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    record["warnings"] = list(messages)[:10]
    record["finished_at"] = _now()
    return record
