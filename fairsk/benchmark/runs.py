"""One benchmark run: its specification, and the function that performs it.

:func:`execute` trains one algorithm at one bound and seed on the shared
:class:`~fairsk.benchmark.data.BenchmarkData` (:func:`fit_fairsk`, or a fairlearn
baseline) and evaluates the final model on train and test. A failure becomes a
record with ``status="error"``; a fit interrupted by Ctrl-C (which skorch
swallows) one with ``status="interrupted"``, which the sweep does not keep.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import signal
import threading
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from ..engine import torch_threads
from ..metrics import paper_metrics, wasserstein
from .baselines import FAIRLEARN_BASELINES, SkipRun, build_baseline, fit_baseline
from .heldout import (
    HELD_OUT_FIELDS,
    baseline_logits,
    compile_on_train,
    constraint_value,
    constraint_values,
    group_codes,
)
from .io import safe_name
from .registry import family, our_estimators

__all__ = ["RunSpec", "WallClockBudget", "execute", "fit_fairsk", "plan_runs"]

#: max_epochs when the budget is in seconds (the callback stops training first).
UNLIMITED_EPOCHS = 1_000_000
_DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
#: Fields every run file has.
RECORD_FIELDS = ("run_id", "algorithm", "family", "seed", "constraint", "bound")
SPLITS = ("train", "test")


class WallClockBudget(Callback):
    """skorch callback that ends training once ``seconds`` of wall time have passed.

    Checked after each step (an epoch of a slow method, Stochastic Ghost at batch
    8, can outlast a 30-second budget), on ``clock()`` when given (the seconds to
    count, e.g. training without the benchmark's evaluations); it stops the way
    skorch's callbacks do (``KeyboardInterrupt``, caught by ``partial_fit``) and
    sets ``spent_``, which tells this stop from a user's Ctrl-C.

    Examples
    --------
    >>> from fairsk import UnconstrainedClassifier
    >>> X = np.random.default_rng(0).normal(size=(64, 2))
    >>> clf = UnconstrainedClassifier(max_epochs=500, callbacks=[WallClockBudget(0)])
    >>> clf.fit(X, (X[:, 0] > 0).astype(int)).n_iter_
    1
    """

    def __init__(self, seconds: float, clock=None):
        self.seconds = seconds
        self.clock = clock

    def __deepcopy__(self, memo):  # the estimator copies its callbacks: the run
        return self  # reads spent_ from this one

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Start the clock."""
        self.start_, self.spent_ = time.perf_counter(), False

    def on_batch_end(self, net, **kwargs):
        """Stop training when the budget is spent."""
        spent = self.clock() if self.clock else time.perf_counter() - self.start_
        if spent >= self.seconds:
            self.spent_ = True
            raise KeyboardInterrupt

    on_epoch_end = on_batch_end


class _Curves(Callback):
    """The iterate's BCE and constraint on train and test, after each epoch.

    ``every`` (seconds): a point every that many seconds of training instead (a
    time budget: one epoch of a slow method can outlast it). Its own evaluation
    time is kept out of ``training_seconds``, which the budget reads too.
    """

    def __init__(self, data, compiled, encoder, every=None, last=None):
        self.compiled, self.every, self.last, self.sets = compiled, every, last, {}
        for split in SPLITS:
            X, y, A = (getattr(data, f"{v}_{split}") for v in "XyA")
            self.sets[split] = [X, (y == 1).astype(float), group_codes(encoder, A)]
        keys = ("objective", "constraint")
        keys = ("epoch", "time", *(f"{s}_{k}" for k in keys for s in SPLITS))
        self.points = {key: [] for key in keys}

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Start the clock."""
        self.start, self.evaluating, self.next = time.perf_counter(), 0.0, self.every

    def __deepcopy__(self, memo):  # the estimator copies its callbacks: share
        return self  # this one (the run reads its points; the data are not copied)

    def training_seconds(self) -> float:
        """Seconds since training began, the evaluations left out."""
        return time.perf_counter() - self.start - self.evaluating

    def _record(self, net, epoch, at=None):
        import torch

        module, begin = net.module_, time.perf_counter()
        p, training = next(module.parameters()), module.training
        self.points["epoch"].append(epoch)
        self.points["time"].append(self.training_seconds() if at is None else at)
        module.eval()  # as predict sees it; batch norm learns nothing from test rows
        for split, item in self.sets.items():
            if not torch.is_tensor(item[0]):  # on the device once
                item[0] = torch.as_tensor(item[0], dtype=p.dtype, device=p.device)
            with torch.no_grad():
                z = module(item[0]).reshape(-1).double().cpu().numpy()
            bce = np.mean(np.logaddexp(0.0, z) - item[1] * z)
            self.points[f"{split}_objective"].append(float(bce))
            value = constraint_value(self.compiled, z, item[1], item[2])
            self.points[f"{split}_constraint"].append(value)
        module.train(training)
        self.evaluating += time.perf_counter() - begin

    def on_epoch_end(self, net, **kwargs):
        """Record a point (epoch budgets)."""
        if self.every is None:
            self._record(net, len(net.history))


class _TimedCurves(_Curves):
    """:class:`_Curves` sampled in time.

    Its batch hook is the only difference: with it the engine reports every step,
    which epoch budgets need not pay.
    """

    def on_batch_end(self, net, **kwargs):
        """Record a point when its time has come."""
        spent = self.training_seconds()
        if spent >= self.next:  # at its slot's time: seeds' points line up
            slot = min(int(spent // self.every), self.last)  # a late step: the end
            self._record(net, len(net.history), round(slot * self.every, 6))
            self.next = (slot + 1) * self.every


def describe_budget(epochs: int | None, seconds: float | None) -> str:
    """Describe a fairsk run's budget: seconds of training, or epochs."""
    if seconds is not None:
        return f"{seconds:g} s of training"
    return "default epochs" if epochs is None else f"{epochs} epochs"


def _name(obj) -> str:
    """Name an object in a run's parameters (a callback) by its class."""
    return type(obj).__name__


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines one run.

    ``bound=None``: the bound does not change the algorithm (measured at
    ``monitor_bound``). ``threads`` and ``monitor_bound``, a fairlearn baseline's
    budget, batch and device, and a fairsk classifier's proxy are not part of
    :attr:`run_id`.

    Examples
    --------
    >>> spec = RunSpec("sslalm", seed=0, constraint="loss_gap", bound=0.005)
    >>> spec.family, spec.budget, spec.run_id
    ('fairsk', 'default epochs', 'sslalm_loss_gap_b0.005_s0_...')
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
        drop = {"monitor_bound", "threads"}
        if self.family == "fairlearn":
            drop |= {"epochs", "seconds", "batch_size", "device"}
        else:
            drop.add("proxy")
        return {k: v for k, v in asdict(self).items() if k not in drop}

    @property
    def run_id(self) -> str:
        """Stable id and safe file name: ``<algorithm>_<constraint>_<bound>_s<seed>_<hash>``."""  # noqa: E501
        text = json.dumps(self.identity(), sort_keys=True, default=_name)
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        bound = "none" if self.bound is None else f"b{self.bound:g}"
        parts = (self.algorithm, self.constraint, bound, f"s{self.seed}", digest)
        return "_".join(map(safe_name, parts))

    @property
    def budget(self) -> str:
        """The training budget, readable."""
        if self.family == "fairlearn":
            return "fairlearn defaults"
        return describe_budget(self.epochs, self.seconds)

    def problem_with(self, record) -> str | None:
        """Say why a stored run file cannot stand for this run (None: it can)."""
        if not isinstance(record, dict):
            return "not a JSON object"
        missing = [k for k in (*RECORD_FIELDS, "status") if k not in record]
        if missing:
            return f"lacks {', '.join(missing)}"
        if record["run_id"] != self.run_id:
            return f"holds run {record['run_id']!r} (copied or renamed?)"
        mine = self.identity()
        theirs = {k: record.get(k) for k in mine}
        theirs["params"] = sorted((record.get("params") or {}).items())
        if json.dumps(theirs, default=_name) != json.dumps(mine, default=_name):
            return "its settings do not match its name (edited?)"
        return None


def _cost(spec: RunSpec) -> float:
    """Relative cost, to start the longest runs first."""
    if spec.family == "fairlearn":
        mitigation = FAIRLEARN_BASELINES[spec.algorithm].mitigation
        return {"eg": 8.0, "gs": 4.0, "threshold": 1.0, "none": 0.5}[mitigation]
    return 3.0 if spec.algorithm == "ghost" else 2.0


def plan_runs(
    algorithms, seeds, bounds, *, fairlearn_every_seed=False, params=None, **common
):
    """Every run of a sweep over algorithms x bounds x seeds, longest first.

    Algorithms the bound does not change run once per seed (``bound=None``);
    fairlearn's, deterministic given the data, for the first seed only unless
    ``fairlearn_every_seed``. ``common``: other RunSpec fields.

    Examples
    --------
    >>> specs = plan_runs(["sgd", "sslalm", "gs-logreg"], [0, 1], [0.01, 0.02],
    ...                   constraint="loss_gap")
    >>> len(specs)  # gs: 2 bounds; sgd: 2 seeds; sslalm: 2 bounds x 2 seeds
    8
    """
    from ..estimators import UnconstrainedClassifier

    specs = []
    for name in algorithms:
        if name in FAIRLEARN_BASELINES:
            free = not FAIRLEARN_BASELINES[name].constrained
            run_seeds = seeds if fairlearn_every_seed else seeds[:1]
        else:
            free = issubclass(our_estimators()[name], UnconstrainedClassifier)
            run_seeds = seeds
        own = tuple(sorted((params or {}).get(name, {}).items()))
        specs += [
            RunSpec(name, seed, bound=b, params=own, monitor_bound=bounds[0], **common)
            for b in ([None] if free else bounds)
            for seed in run_seeds
        ]
    return sorted(specs, key=_cost, reverse=True)


@contextlib.contextmanager
def _watch_sigint():
    """Note a SIGINT (Ctrl-C) in this block; it still raises KeyboardInterrupt."""
    seen, previous = {"sigint": False}, signal.getsignal(signal.SIGINT)
    main = threading.current_thread() is threading.main_thread()
    watch = main and callable(previous)
    if watch:
        signal.signal(
            signal.SIGINT, lambda *a: seen.update(sigint=True) or previous(*a)
        )
    try:
        yield seen
    finally:
        if watch:
            signal.signal(signal.SIGINT, previous)


def _group_stats(y, score, pred, groups) -> dict:
    """Each group's rates and mean BCE: ``{stat: {group: [mean, sem, count]}}``."""
    p = np.clip(score, 1e-15, 1 - 1e-15)
    loss = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    df = pd.DataFrame({"g": groups, "y": y, "pred": pred, "loss": loss})
    df["err"] = (df["pred"] != df["y"]).astype(float)
    out = {}
    for name, rows, col in (
        ("selection_rate", df, "pred"),
        ("tpr", df[df.y == 1], "pred"),
        ("fpr", df[df.y == 0], "pred"),
        ("error_rate", df, "err"),
        ("loss", df, "loss"),
    ):
        agg = rows.groupby("g")[col].agg(["mean", "sem", "count"])
        out[name] = {
            str(g): [r["mean"], r["sem"], int(r["count"])] for g, r in agg.iterrows()
        }
    return out


def _wd2_hist(score, groups, bins: int = 50) -> float:
    """W2 squared between the groups' 50-bin score histograms (the paper's Wd)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    labels = np.unique(groups)
    counts = [np.histogram(np.clip(score[groups == g], 0, 1), edges)[0] for g in labels]
    centres = np.tile((edges[:-1] + edges[1:]) / 2, len(labels))
    weights, owner = np.concatenate(counts).astype(float), np.repeat(labels, bins)
    d = wasserstein(None, centres, sensitive_features=owner, sample_weight=weights)
    return float(d) ** 2


_WARM: set[str] = set()


def _warm_up(device: str) -> None:
    """Fit a tiny network once per process: torch's first fit pays a one-off cost."""
    from ..estimators import UnconstrainedClassifier

    if device in _WARM:
        return
    X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    clf = UnconstrainedClassifier(
        max_epochs=1, batch_size=16, device=device, random_state=0
    )
    with warnings.catch_warnings():  # not the run's: kept out of its record
        warnings.simplefilter("ignore")
        clf.fit(X, (X[:, 0] > 0).astype(int), sensitive_features=np.repeat([0, 1], 32))
    _WARM.add(device)


def _compile(spec: RunSpec, data):
    """Compile the run's constraint on the training set (and its group encoder)."""
    bound = spec.monitor_bound if spec.bound is None else spec.bound
    y01 = data.y_train == 1
    return compile_on_train(spec.constraint, bound, spec.pairing, y01, data.A_train)


def _evaluate(spec, data, compiled, encoder, scores, preds, logits) -> dict:
    """Metrics, group statistics and the held-out constraint on train and test."""
    out = {}
    for split in SPLITS:
        y, A = getattr(data, f"y_{split}"), getattr(data, f"A_{split}")
        metrics = paper_metrics(
            y, scores[split], A, threshold=spec.threshold, y_pred=preds[split]
        )
        metrics["wd2_hist"] = _wd2_hist(scores[split], A)
        out |= {f"{split}_{k}": v for k, v in metrics.items()}
    out["test_groups"] = _group_stats(
        data.y_test, scores["test"], preds["test"], data.A_test
    )
    y01 = {s: getattr(data, f"y_{s}") == 1 for s in SPLITS}
    codes = {s: group_codes(encoder, getattr(data, f"A_{s}")) for s in SPLITS}
    return out | constraint_values(
        compiled, logits, y01, codes, bound_free=spec.bound is None, seed=spec.seed
    )


def fit_fairsk(spec: RunSpec, data) -> dict:
    """Fit one fairsk classifier at one bound and seed; return the run's results.

    The one place where the benchmark trains a fairsk model. Not through
    :func:`fairsk.batched.fit_together`: the run's seconds and curves are its own.
    Raises KeyboardInterrupt when the fit was interrupted.

    Examples
    --------
    >>> from fairsk.benchmark import DatasetSpec, load_benchmark_data
    >>> data = load_benchmark_data(DatasetSpec(max_train=300, max_test=300))
    >>> out = fit_fairsk(RunSpec("alm", 0, "loss_gap", 0.01, epochs=2), data)
    >>> out["epochs_run"], out["trajectory"]["epoch"]
    (2, [1, 2])
    """
    cls = our_estimators()[spec.algorithm]
    _warm_up(spec.device)
    compiled, encoder = _compile(spec, data)
    if spec.seconds is None:
        curves, budget = _Curves(data, compiled, encoder), None
    else:  # 25 points over the budget; the budget counts training only
        curves = _TimedCurves(data, compiled, encoder, spec.seconds / 25, last=25)
        budget = WallClockBudget(spec.seconds, clock=curves.training_seconds)
    kwargs = {
        "constraint": spec.constraint,
        "bound": spec.monitor_bound if spec.bound is None else spec.bound,
        "pairing": spec.pairing,
        "device": spec.device,
        "random_state": spec.seed,
        "max_epochs": UNLIMITED_EPOCHS if budget else spec.epochs,
        "batch_size": spec.batch_size,
    }
    # None: the classifier's default; a parameter it lacks (no bound without
    # constraints) is left out. The user's overrides go as they are.
    known = cls().get_params()
    kwargs = {k: v for k, v in kwargs.items() if k in known and v is not None}
    kwargs |= dict(spec.params)
    extra = [curves, *([budget] if budget else [])]
    kwargs["callbacks"] = extra + list(kwargs.get("callbacks") or [])
    est = cls(**kwargs)
    with _watch_sigint() as seen:
        start = time.perf_counter()
        est.fit(data.X_train, data.y_train, sensitive_features=data.A_train)
        fit_seconds = time.perf_counter() - start
        train_seconds = curves.training_seconds()
    last = est.history_[-1] if len(est.history_) else {}
    flagged = getattr(est, "interrupted_", False) or last.get("interrupted", False)
    if seen["sigint"] or (flagged and not (budget and budget.spent_)):
        raise KeyboardInterrupt(f"interrupted after {len(est.history_)} epochs")
    logits = {s: est.decision_function(getattr(data, f"X_{s}")) for s in SPLITS}
    scores = {s: expit(z) for s, z in logits.items()}
    preds = {s: (p > spec.threshold).astype(np.int64) for s, p in scores.items()}
    return {
        "fit_seconds": fit_seconds,
        "train_seconds": train_seconds,
        "epochs_run": int(est.n_iter_),
        "diverged": any(bool(h.get("diverged", False)) for h in est.history_),
        **_evaluate(spec, data, compiled, encoder, scores, preds, logits),
        "trajectory": curves.points,
    }


def _fit_fairlearn(spec: RunSpec, data) -> dict:
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
    X = {s: np.asarray(getattr(data, f"X_{s}"), np.float64) for s in SPLITS}
    A = {s: getattr(data, f"A_{s}") for s in SPLITS}
    scores = {s: fitted.score(X[s], A[s]) for s in SPLITS}
    preds = {s: fitted.predict(X[s], A[s]) for s in SPLITS}
    compiled, encoder = _compile(spec, data)
    logits = {s: baseline_logits(scores[s], preds[s], compiled) for s in SPLITS}
    return {
        "fit_seconds": fit_seconds,
        "train_seconds": fit_seconds,
        "fairlearn_constraint": None if fl is None else fl.note,
        "info": fitted.info,
        **_evaluate(spec, data, compiled, encoder, scores, preds, logits),
    }


def is_complete(record: dict) -> bool:
    """Whether a stored record needs no rerun (an ``ok`` one needs today's fields)."""
    if record.get("status") == "ok":
        return all(key in record for key in HELD_OUT_FIELDS)
    return record.get("status") == "skipped"


def execute(spec: RunSpec, data) -> dict:
    """Perform one run; return its record (never raises on a failed run).

    The record: the spec's fields, ``status`` (``"ok"``; ``"skipped"`` with a
    ``reason``; ``"error"`` with ``error`` and ``traceback``; ``"interrupted"``),
    metrics on train and test, the constraint's values, ``test_groups``, a fairsk
    run's ``trajectory``, and its ``n_warnings`` warnings (``warnings``: the
    distinct messages).

    Examples
    --------
    >>> from fairsk.benchmark import DatasetSpec, load_benchmark_data
    >>> data = load_benchmark_data(DatasetSpec(max_train=300, max_test=300))
    >>> record = execute(RunSpec("sslalm", 0, "loss_gap", 0.01, epochs=1), data)
    >>> record["status"], record["epochs_run"], len(record["trajectory"]["time"])
    ('ok', 1, 1)
    """
    now = lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")  # noqa: E731
    record = {
        "run_id": spec.run_id,
        "family": spec.family,
        **asdict(spec),
        "params": dict(spec.params),
        "budget": spec.budget,
        "n_train": len(data.y_train),
        "n_test": len(data.y_test),
        "started_at": now(),
    }
    runner = _fit_fairlearn if spec.family == "fairlearn" else fit_fairsk
    with (
        warnings.catch_warnings(record=True) as caught,
        torch_threads(spec.threads),
        threadpool_limits(spec.threads),
    ):
        warnings.simplefilter("always")
        try:
            record |= runner(spec, data)
            record["status"] = "ok"
        except SkipRun as exc:
            record |= {"status": "skipped", "reason": str(exc)}
        except KeyboardInterrupt as exc:
            record |= {"status": "interrupted", "error": str(exc) or "interrupted"}
        except Exception as exc:  # recorded; the sweep goes on
            record |= {
                "status": "error",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=8),
            }
    # Libraries' deprecation notices say nothing about the run: counted apart.
    api = [issubclass(w.category, _DEPRECATIONS) for w in caught]
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    messages = [m for m, a in zip(messages, api, strict=True) if not a]
    record |= {"n_warnings": len(messages), "n_deprecation_warnings": sum(api)}
    record["warnings"] = list(dict.fromkeys(messages))[:10]
    record["finished_at"] = now()
    return record
