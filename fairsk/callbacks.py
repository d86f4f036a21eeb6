"""fairsk's training features, each a skorch callback with a name.

A fairsk classifier's engine (:class:`~fairsk.engine.FairNet`) runs skorch's own
training loop; what fairsk adds to it lives here, one callback per feature, in the
order :func:`default_callbacks` puts them (each reads what the ones before it
recorded):

==================  ========================  ========================
name                callback                  estimator setting
==================  ========================  ========================
``"divergence"``    :class:`DivergenceGuard`  always
``"averaging"``     :class:`WeightAveraging`  ``average``
``"fairness"``      :class:`FairnessMonitor`  always
``"margins"``       :class:`BoundMargins`     ``confidence``
``"select"``        :class:`SelectFeasible`   ``select="feasible"``
``"lr_scheduler"``  :class:`CosineLR`         ``lr_schedule="cosine"``
==================  ========================  ========================

They come before the user's callbacks, so that ``EarlyStopping(monitor=
"valid_loss_gap")`` or ``Checkpoint(monitor="valid_feasible_best")`` see this
epoch's values, and their parameters are reached as skorch's are:
``clf.net_.set_params(callbacks__averaging__start=0.3)``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback, LRScheduler
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR

from .exceptions import warn

__all__ = [
    "BoundMargins",
    "CosineLR",
    "DivergenceGuard",
    "FairnessMonitor",
    "SelectFeasible",
    "WeightAveraging",
    "default_callbacks",
]


def default_callbacks(
    *,
    average: float | None = 0.5,
    confidence: float | None = 0.9,
    select: str = "last",
    lr_schedule: str = "cosine",
) -> list[tuple[str, Callback]]:
    """Fairsk's callbacks for the given estimator settings, named and in order.

    Examples
    --------
    >>> [name for name, _ in default_callbacks()]
    ['divergence', 'averaging', 'fairness', 'margins', 'lr_scheduler']
    """
    cbs = [
        ("divergence", DivergenceGuard()),
        ("averaging", WeightAveraging(average) if average is not None else None),
        ("fairness", FairnessMonitor()),
        ("margins", BoundMargins(confidence) if confidence is not None else None),
        ("select", SelectFeasible() if select == "feasible" else None),
        ("lr_scheduler", CosineLR() if lr_schedule == "cosine" else None),
    ]
    return [(name, cb) for name, cb in cbs if cb is not None]


def candidate(net) -> nn.Module:
    """Return the model fit returns if training stops now (averaged, once begun)."""
    averaged = net.algorithm_.averaged
    return averaged.module if int(averaged.n_averaged) else net.module_


def _find(net, kind):
    return next((cb for _, cb in net.callbacks_ if isinstance(cb, kind)), None)


class DivergenceGuard(Callback):
    """Stop on a non-finite loss, weight or rule state; restore the last finite epoch.

    After each epoch, checks what the epoch recorded so far (the mean training
    loss, the sampled constraints, the multipliers...), the network's parameters
    and the update rule's state. When one is not finite it restores the weights,
    the rule's state and the optimizer's state of the last finished epoch (the
    engine keeps them), records ``diverged`` in the history, warns with a
    ConvergenceWarning naming the quantities, and stops training (as skorch's
    ``EarlyStopping`` does).

    Examples
    --------
    >>> DivergenceGuard().diverged_
    False
    """

    diverged_ = False

    def on_train_begin(self, net, **kwargs):  # noqa: D102
        self.diverged_ = False

    @staticmethod
    def _bad(net, k: int | None = None) -> list[str]:
        """List what is not finite (of model ``k`` when models train as one)."""

        def part(t):
            return t if k is None else t[k]

        row = net.history[-1]
        bad = [
            key for key, v in row.items() if _non_finite(v if k is None else _of(v, k))
        ]
        if not all(
            bool(torch.isfinite(part(p)).all()) for p in net.module_.parameters()
        ):
            bad.append("weights")
        bad += [
            name
            for name, t in net.algorithm_.state_tensors().items()
            if not bool(torch.isfinite(part(t)).all())
        ]
        return bad

    def on_epoch_end(self, net, **kwargs):  # noqa: D102
        K = net.algorithm_.n_models
        if K is not None:  # models trained as one: mark, and let the others go on
            done = net.history[-2, "diverged_each"] if len(net.history) > 1 else []
            each = [bool(done and done[k]) or bool(self._bad(net, k)) for k in range(K)]
            net.history.record("diverged_each", each)
            return
        bad = self._bad(net)
        if not bad:
            return
        net.restore(net.last_finished_)
        net.history.record("diverged", True)
        self.diverged_ = True
        warn(
            f"Training diverged at epoch {len(net.history)}: "
            f"{', '.join(dict.fromkeys(bad))} became non-finite. Training stopped "
            "and the weights of the last finite epoch were restored; lower lr (or "
            "the dual step) and refit.",
            ConvergenceWarning,
        )
        raise KeyboardInterrupt  # skorch's way for a callback to stop training


def _of(value, k: int):
    """Model ``k``'s part of a value recorded for every model (a list)."""
    return value[k] if isinstance(value, list) else value


def _non_finite(value) -> bool:
    """Whether a recorded number, or list of numbers, holds a NaN or infinity."""
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, float) and not math.isfinite(v) for v in values)


class WeightAveraging(Callback):
    r"""Return the average of the late epochs' weights (stochastic weight averaging).

    From the end of the first epoch past ``start`` of a fit's epochs, folds the
    weights into :class:`torch.optim.swa_utils.AveragedModel`
    (:math:`\bar\theta_n = \bar\theta_{n-1} + (\theta - \bar\theta_{n-1})/n`) and,
    when training ends, puts the average in the network: Izmailov et al. (2018),
    *Averaging Weights Leads to Wider Optima and Better Generalization*, UAI. The
    average lives in the update rule's state (``algorithm_.averaged``), so a
    checkpoint (``f_algorithm``) resumes it; a warm start averages its own epochs
    afresh.

    Parameters
    ----------
    start : float, default=0.5
        Fraction of the fit's epochs before averaging begins.

    Examples
    --------
    >>> WeightAveraging(0.5).start
    0.5
    """

    def __init__(self, start: float = 0.5):
        self.start = start

    def on_epoch_begin(self, net, **kwargs):  # noqa: D102
        first = net.fit_span_[0]
        if first and len(net.history) == first + 1:  # a warm start's first epoch
            net.algorithm_.averaged.n_averaged.zero_()

    def on_epoch_end(self, net, **kwargs):  # noqa: D102
        first, last = net.fit_span_
        if len(net.history) > first + self.start * (last - first):
            net.algorithm_.averaged.update_parameters(net.module_)

    def on_train_end(self, net, **kwargs):  # noqa: D102
        averaged = net.algorithm_.averaged
        if int(averaged.n_averaged) and not net.interrupted_:
            with torch.no_grad():
                for own, avg in zip(
                    net.module_.state_dict().values(),
                    averaged.module.state_dict().values(),
                    strict=True,
                ):
                    own.copy_(avg)


class FairnessMonitor(Callback):
    """Record the objective and every constraint each epoch; warn on a missed bound.

    After each epoch, evaluates on all training rows the network (keys
    ``objective``, ``constraints``, ``max_violation``, each constraint's value on
    hard predictions ``<name>`` and ``<name>_violation``), the averaged weights
    once :class:`WeightAveraging` runs (``avg_*``; ``None`` before averaging
    begins), and, with validation rows, the model that would be returned
    (``valid_*``). When training ends it warns with a ConvergenceWarning if the
    returned model misses a bound on the training set by more than its kind's
    tolerance (:meth:`fairsk.kinds.Kind.tolerance`).

    Examples
    --------
    >>> FairnessMonitor().evaluations_
    {}
    """

    def initialize(self):  # noqa: D102
        self.evaluations_, self.compiled_, self.held_out_ = {}, None, False
        return self

    evaluations_: dict = {}

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):  # noqa: D102
        problem, hist = net.problem_, net.history
        self.compiled_ = problem.data.compiled
        self.held_out_ = problem.holdout is not None
        self.evaluations_ = {"": problem.evaluate()}
        model = candidate(net)
        if _find(net, WeightAveraging) is not None:
            averaged = model is not net.module_
            self.evaluations_["avg_"] = (
                problem.evaluate(forward=model) if averaged else None
            )
        if dataset_valid is not None:
            self.evaluations_["valid_"] = problem.evaluate(dataset_valid, forward=model)
        for prefix, ev in self.evaluations_.items():
            _record(hist, prefix, ev, self.compiled_)

    def on_train_end(self, net, **kwargs):  # noqa: D102
        self.evaluations_ = {}  # logits of every row: not kept with the model
        select = _find(net, SelectFeasible)
        if net.interrupted_ or (select is not None and select.best_ is not None):
            return
        if net.algorithm_.n_models is None:  # else each model's own, after the split
            warn_missed_bounds(
                net.history, self.compiled_, net.algorithm_, self.held_out_
            )


def warn_missed_bounds(history, compiled, algorithm, held_out: bool = False) -> None:
    """Warn when a trained model misses a bound by more than its kind's tolerance.

    Reads the returned model's values from ``history``: the averaged weights'
    (``avg_``) once averaging ran, the validation rows' (``valid_``) when the
    multipliers were driven by them, else the training rows'.
    """
    if compiled is None or not algorithm.uses_constraints:
        return
    # The returned model, on the rows the multipliers were driven by.
    prefix = "avg_" if int(algorithm.averaged.n_averaged) else ""
    prefix = "valid_" if held_out else prefix
    keys = [prefix + con.name + "_violation" for con in compiled.constraints]
    row = next(
        (h for h in reversed(history) if all(_finite(h.get(k)) for k in keys)),
        None,
    )
    if row is None:
        return
    missed = []
    for con, key in zip(compiled.constraints, keys, strict=True):
        violation, tol = row[key], con.form.tolerance(con.bound)
        if violation > tol:
            missed.append(
                f"{con.name} = {row[prefix + con.name]:.4g} (bound "
                f"{con.bound:g}, violation {violation:.4g} > tolerance {tol:.2g})"
            )
    if missed:
        warn(
            f"The model returned after epoch {row['epoch']} misses its bound on "
            f"the training set: {'; '.join(missed)}. The bound may be infeasible "
            "or too tight for this data and model, or training too short: loosen "
            "the bound, raise max_epochs or the dual step. history_ records each "
            f"epoch's value ('{prefix}<name>_violation').",
            ConvergenceWarning,
        )


def _finite(value) -> bool:
    return value is not None and bool(np.isfinite(value))


def _record(hist, prefix: str, ev, compiled) -> None:
    """Write one evaluation to the history; ``None`` values when there is none yet.

    (Every epoch records the same keys: PrintLog's columns stay aligned, and an
    empty cell means "not yet", e.g. averaging has not begun.) ``ev`` may be a
    list, one evaluation per model trained as one: each value is then a list.
    """
    evs = ev if isinstance(ev, list) else [ev]

    def put(key, get):
        values = [None if e is None else get(e) for e in evs]
        hist.record(prefix + key, values if isinstance(ev, list) else values[0])

    put("objective", lambda e: e["objective"])
    if compiled is None:
        return
    put("constraints", lambda e: e["constraints"].tolist())
    put("max_violation", lambda e: e["max_violation"])
    for i, con in enumerate(compiled.constraints):
        put(con.name, lambda e, i=i: e["report"][i]["value"])
        put(con.name + "_violation", lambda e, i=i: e["report"][i]["violation"])


class BoundMargins(Callback):
    r"""Train each constraint row against its bound tightened by its sampling error.

    Before the first epoch and after each, every row's bound :math:`b_j` becomes
    :math:`b_j - z\,\mathrm{se}_j`, with :math:`z` the one-sided normal quantile
    of ``confidence`` and :math:`\mathrm{se}_j` the standard error of the row's
    estimate on the training set (from the per-cell variances, see
    :meth:`~fairsk.constraints.CompiledConstraints.margins`); a gap is never asked
    to go below zero. ``history`` records them as ``margins``.

    What this assumes: a *fixed* model whose training-set estimate is one draw
    among many from the same population. The network is fitted on those very
    rows, so it can meet the tightened bound on them by fitting their noise; the
    margin does not account for that, and with the clip at zero a bound smaller
    than its margin (a small group) becomes a bound of zero. It is no guarantee
    that the bound holds on new data.

    Parameters
    ----------
    confidence : float, default=0.9
        One-sided level in (0.5, 1).

    Examples
    --------
    >>> round(BoundMargins(0.9).z, 4)
    1.2816
    """

    def __init__(self, confidence: float = 0.9):
        self.confidence = confidence

    @property
    def z(self) -> float:
        """The normal quantile of ``confidence``."""
        return float(scipy.stats.norm.ppf(self.confidence))

    def _update(self, net, ev):
        problem = net.problem_
        evs = ev if isinstance(ev, list) else [ev]
        if problem.data.compiled is None or "cell_var" not in evs[0]:
            return None
        datas = getattr(problem, "datas", [problem.data])
        margins = [
            d.compiled.margins(e["cell_var"], e["cell_n"], self.z)
            for d, e in zip(datas, evs, strict=True)
        ]
        problem.set_margins(margins if isinstance(ev, list) else margins[0])
        return margins if isinstance(ev, list) else margins[0]

    def _evaluate(self, net) -> dict:
        # With held-out rows (holdout_constraints), their estimates' errors.
        problem = net.problem_
        if problem.holdout is not None:
            return problem.evaluate(problem.holdout)
        monitor = _find(net, FairnessMonitor)
        evaluated = monitor is not None and monitor.evaluations_
        return monitor.evaluations_[""] if evaluated else problem.evaluate()

    def on_epoch_begin(self, net, **kwargs):  # noqa: D102
        if net.problem_.margins is None:  # the first epoch of this fit
            self._update(net, self._evaluate(net))

    def on_epoch_end(self, net, **kwargs):  # noqa: D102
        margins = self._update(net, self._evaluate(net))
        if margins is not None:
            each = isinstance(margins, list)
            value = [m.tolist() for m in margins] if each else margins.tolist()
            net.history.record("margins", value)


class SelectFeasible(Callback):
    """Return the epoch's model with the best validation objective among feasible ones.

    Reads ``valid_max_violation`` and ``valid_objective`` (recorded by
    :class:`FairnessMonitor` for the model that would be returned) after each
    epoch; keeps in memory the weights of the best epoch -- the lowest validation
    objective among the epochs that meet every bound on the validation rows, or,
    if none does, the least violating -- and records ``valid_feasible_best``
    (``True`` when the epoch is the best so far: skorch's ``Checkpoint(monitor=
    "valid_feasible_best")`` saves the same epochs to disk). When training ends
    it puts those weights in the network, marks the epoch ``selected`` and warns
    if none was feasible.

    Examples
    --------
    >>> SelectFeasible().best_ is None
    True
    """

    best_ = None

    def on_train_begin(self, net, **kwargs):  # noqa: D102
        self.best_ = None

    def on_epoch_end(self, net, **kwargs):  # noqa: D102
        row = net.history[-1]
        violation = row.get("valid_max_violation", 0.0)
        key = (violation > 0, violation if violation > 0 else row["valid_objective"])
        better = self.best_ is None or key < self.best_["key"]
        net.history.record("valid_feasible_best", better)
        if better:
            state = candidate(net).state_dict()
            self.best_ = {
                "key": key,
                "epoch": len(net.history),
                "feasible": violation <= 0,
                "violation": violation,
                "weights": {k: v.detach().clone() for k, v in state.items()},
            }

    def on_train_end(self, net, **kwargs):  # noqa: D102
        best = self.best_
        if best is None or net.interrupted_:
            return
        if not best["feasible"]:
            warn(
                "No epoch met every bound on the validation set; returning the "
                f"least violating one (epoch {best['epoch']}, max violation "
                f"{best['violation']:.4g}). Loosen the bound, train longer or "
                "use a larger validation_fraction.",
                ConvergenceWarning,
            )
        net.module_.load_state_dict(best.pop("weights"))
        net.history[best["epoch"] - 1]["selected"] = True


class CosineLR(LRScheduler):
    r"""skorch's ``LRScheduler`` with torch's ``CosineAnnealingLR`` over each fit.

    The primal step of epoch :math:`e` of a fit of :math:`E` epochs is
    :math:`\eta_{\min} + (\tau - \eta_{\min})(1 + \cos(\pi e / E))/2`
    (Loshchilov & Hutter, 2017, *SGDR*, without restarts), so the final weights
    stop oscillating around the bound. The scheduler is built at the first epoch
    rather than when training begins, after ``LoadInitState`` has restored a
    checkpoint: a resumed fit continues the schedule where it stopped, and a warm
    start schedules its own epochs from ``lr``.

    Parameters
    ----------
    eta_min : float, default=0.0
        The last epoch's step.
    **kwargs
        As for :class:`skorch.callbacks.LRScheduler` (``event_name``...).

    Examples
    --------
    >>> CosineLR().policy.__name__
    'CosineAnnealingLR'
    """

    def __init__(self, eta_min: float = 0.0, **kwargs):
        super().__init__(
            policy=CosineAnnealingLR, monitor=None, eta_min=eta_min, **kwargs
        )

    def on_train_begin(self, net, **kwargs):  # noqa: D102
        self.lr_scheduler_ = None

    def on_train_end(self, net, **kwargs):  # noqa: D102
        self.lr_scheduler_ = None  # it holds the optimizer: not pickled twice

    def on_epoch_begin(self, net, **kwargs):  # noqa: D102
        if self.lr_scheduler_ is not None:
            return
        first, last = net.fit_span_
        done = len(net.history) - 1 - first
        if done == 0:
            for group in net.optimizer_.param_groups:
                group["lr"] = group["initial_lr"] = float(net.lr)
        self.lr_scheduler_ = self.policy_(
            net.optimizer_,
            T_max=max(last - first, 1),
            last_epoch=done - 1,
            **self.kwargs,
        )
