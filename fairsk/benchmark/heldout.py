"""The benchmark's constraint on train and on held-out data, with an interval.

A bound met on the training rows may not hold on new data. Every run therefore
records the value of the benchmark's constraint -- exactly as fairsk compiles it,
on each classifier's own hard predictions (its ``predict``) and, for loss
constraints, on its probabilities -- on the training set and on the test set, the
test value with a 95% Poisson-bootstrap percentile interval
(:func:`fairsk.feasibility.feasibility_report`, 200 replicates, seeded with the
run's seed). The bound *holds on test* when the whole interval lies on its feasible
side.

As in every fairsk report, a group's statistic combines the means of its (group,
label) cells with the *training* set's label shares. On the training rows the
values are those of :func:`fairsk.metrics.paper_metrics` (the loss gap is its
``loss_gap``, demographic parity its ``ind`` on the same predictions); on the test
rows they differ from them by as much as the test set's label shares within groups
differ from the training set's, which the split, stratified on group x label, keeps
small.

fairsk's classifiers bring their compiled constraints
(``compiled_constraints_``) and group codes (``group_encoder_``). fairlearn's
baselines have neither: the same constraint is compiled here against the training
groups (:func:`compile_on_train`), and their scores become logits
(:func:`baseline_logits`). A baseline that ran under a proxy (fairlearn has no loss
gap) is measured on the benchmark's constraint all the same.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..constraints import (
    LOSS,
    CompiledConstraints,
    cell_mass,
    compile_constraints,
    make_constraints,
)
from ..feasibility import feasibility_report
from ..groups import GroupEncoder

__all__ = [
    "CONFIDENCE",
    "HELD_OUT_FIELDS",
    "N_BOOT",
    "baseline_logits",
    "compile_on_train",
    "constraint_values",
    "group_codes",
]

#: Level of the test interval.
CONFIDENCE = 0.95
#: Bootstrap replicates of the test interval (each is one bincount per quantity).
N_BOOT = 200
#: Probabilities are clipped to [EPS, 1 - EPS] before the logit, as
#: :func:`sklearn.metrics.log_loss` clips them: a loss gap here is then the
#: ``loss_gap`` of :func:`fairsk.metrics.paper_metrics` on the same rows.
EPS = float(np.finfo(np.float64).eps)

#: What :func:`constraint_values` adds to a run's record.
HELD_OUT_FIELDS = (
    "constraint_bound",
    "train_constraint_value",
    "train_constraint_violation",
    "test_constraint_value",
    "test_constraint_low",
    "test_constraint_high",
    "test_constraint_violation",
    "test_constraint_holds",
)


def compile_on_train(
    constraint: str, bound: float, pairing: str, y01, groups
) -> tuple[CompiledConstraints, GroupEncoder]:
    """Compile ``constraint`` against the training groups, as a fairsk fit would.

    Cell masses are the row counts of each (group, label) cell (the benchmark's
    runs are unweighted), as :class:`~fairsk.estimators.BaseFairClassifier` computes
    them.

    Parameters
    ----------
    constraint : str
        A name from :data:`fairsk.constraints.CONSTRAINTS`.
    bound : float
        Its bound.
    pairing : {"auto", "one_vs_mean", "one_vs_each"}
        Which groups are compared.
    y01 : array-like of shape (n_samples,)
        Training labels as 0/1.
    groups : array-like of shape (n_samples,)
        Training group labels.

    Returns
    -------
    compiled : CompiledConstraints
    encoder : GroupEncoder
        Fitted on ``groups``; its ``transform`` gives the codes of other rows.

    Examples
    --------
    >>> compiled, encoder = compile_on_train(
    ...     "demographic_parity", 0.05, "auto", [0, 1, 0, 1], ["a", "a", "b", "b"]
    ... )
    >>> compiled.row_names[0]
    'demographic_parity: positive_rate[a] - positive_rate[b] <= 0.05'
    >>> encoder.transform(["b", "a"]).tolist()
    [1, 0]
    """
    encoder = GroupEncoder()
    codes = encoder.fit_transform(np.asarray(groups))
    mass = cell_mass(codes, y01, len(encoder.groups_))
    compiled = compile_constraints(
        make_constraints(constraint, bound, pairing), mass, encoder.groups_
    )
    return compiled, encoder


def group_codes(encoder: GroupEncoder, groups) -> np.ndarray:
    """Group code of each row; -1 for a group the encoder did not see in ``fit``.

    A small group can fall entirely in the test split (or out of a training
    subset): its rows have no compiled cell, and :func:`constraint_values` leaves
    them out instead of failing the run.

    Parameters
    ----------
    encoder : GroupEncoder
        Fitted on the training groups (a classifier's ``group_encoder_``).
    groups : array-like of shape (n_samples,)
        Group labels.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)

    Examples
    --------
    >>> encoder = GroupEncoder().fit(["a", "b", "a"])
    >>> group_codes(encoder, ["b", "c", "a"]).tolist()
    [1, -1, 0]
    """
    groups = np.asarray(groups)
    seen = {*encoder.groups_, *encoder.merged_}
    known = np.fromiter((g in seen for g in groups.tolist()), bool, len(groups))
    codes = np.full(groups.shape[0], -1, dtype=np.int64)
    if known.any():
        codes[known] = encoder.transform(groups[known])
    return codes


def baseline_logits(score, pred, compiled: CompiledConstraints) -> np.ndarray:
    r"""Logits standing for a fairlearn baseline's predictions.

    A loss constraint (``loss_gap``, ``bounded_group_loss``) needs the
    probabilities: :math:`\log p - \log(1 - p)`, ``p`` clipped to
    :math:`[\epsilon, 1 - \epsilon]` (:data:`EPS`, as scikit-learn's
    ``log_loss`` clips). Rates read only the sign of a logit: there
    it is the baseline's own hard prediction, so that ExponentiatedGradient and
    ThresholdOptimizer, randomised classifiers whose ``score`` is the probability
    of *predicting* the positive class, are measured on the predictions they
    make (as every other hard metric of the benchmark is), not on that
    probability rounded at 0.5.

    Parameters
    ----------
    score : array-like of shape (n_samples,)
        :meth:`~fairsk.benchmark.baselines.FittedBaseline.score`.
    pred : array-like of shape (n_samples,)
        :meth:`~fairsk.benchmark.baselines.FittedBaseline.predict` (0/1).
    compiled : CompiledConstraints
        The constraint they are measured on.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)

    Examples
    --------
    >>> groups = ["a", "b"]
    >>> rates, _ = compile_on_train("demographic_parity", 0.1, "auto", [0, 1], groups)
    >>> baseline_logits([0.2, 0.7], [1, 0], rates).tolist()  # randomised draws
    [1.0, -1.0]
    >>> loss, _ = compile_on_train("loss_gap", 0.1, "auto", [0, 1], groups)
    >>> baseline_logits([0.5, 1.0], [1, 1], loss).round(1).tolist()
    [0.0, 36.0]
    """
    if any(q.name == LOSS.name for q in compiled.quantities):
        p = np.clip(np.asarray(score, dtype=np.float64), EPS, 1.0 - EPS)
        return np.log(p) - np.log1p(-p)
    return np.where(np.asarray(pred) == 1, 1.0, -1.0)


def constraint_values(
    compiled: CompiledConstraints,
    logits: dict,
    y01: dict,
    codes: dict,
    *,
    bound_free: bool = False,
    seed: int = 0,
) -> dict:
    """Measure the constraint on train, and on test with a bootstrap interval.

    Parameters
    ----------
    compiled : CompiledConstraints
        One constraint (the benchmark's); the first is used when there are more.
    logits, y01, codes : dict
        ``{"train": ..., "test": ...}``: decision values (positive predicts 1),
        0/1 labels and group codes (:func:`group_codes`) of each split. Rows of
        code -1 (groups unseen in training) are left out, with a warning.
    bound_free : bool, default=False
        The run has no bound of its own (an unconstrained algorithm, compiled at
        the sweep's first bound): its violations and ``holds`` are None.
    seed : int, default=0
        Seeds the bootstrap.

    Returns
    -------
    dict
        :data:`HELD_OUT_FIELDS`: ``constraint_bound``, ``train_constraint_value``,
        ``train_constraint_violation`` (``value - bound``; ``bound - value`` for a
        ratio; ``<= 0`` is feasible), ``test_constraint_value``,
        ``test_constraint_low`` and ``test_constraint_high`` (the
        :data:`CONFIDENCE` interval), ``test_constraint_violation`` and
        ``test_constraint_holds`` (the interval is on the feasible side).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = {s: rng.integers(0, 2, 400) for s in ("train", "test")}
    >>> g = {s: rng.integers(0, 2, 400) for s in ("train", "test")}
    >>> z = {s: rng.normal(size=400) for s in ("train", "test")}
    >>> compiled, _ = compile_on_train("demographic_parity", 0.2, "auto", y["train"],
    ...                                g["train"])
    >>> out = constraint_values(compiled, z, y, g, seed=0)
    >>> out["test_constraint_low"] <= out["test_constraint_value"]
    True
    >>> out["test_constraint_high"] <= 0.2, out["test_constraint_holds"]
    (True, True)
    """
    reports = {}
    for split in ("train", "test"):
        code = np.asarray(codes[split], dtype=np.int64)
        keep = code >= 0
        if not keep.all():
            warnings.warn(
                f"{int((~keep).sum())} {split} rows of groups unseen in training are "
                "left out of the held-out constraint values.",
                UserWarning,
                stacklevel=2,
            )
        reports[split] = feasibility_report(
            compiled,
            np.asarray(logits[split], dtype=np.float64)[keep],
            np.asarray(y01[split], dtype=np.float64)[keep],
            code[keep],
            confidence=CONFIDENCE,
            n_boot=N_BOOT if split == "test" else 0,
            random_state=seed,
        ).iloc[0]
    train, test = reports["train"], reports["test"]
    return {
        "constraint_bound": None if bound_free else float(test["bound"]),
        "train_constraint_value": float(train["value"]),
        "train_constraint_violation": None if bound_free else float(train["violation"]),
        "test_constraint_value": float(test["value"]),
        "test_constraint_low": float(test["ci_low"]),
        "test_constraint_high": float(test["ci_high"]),
        "test_constraint_violation": None if bound_free else float(test["violation"]),
        "test_constraint_holds": None if bound_free else bool(test["holds"]),
    }
