"""The benchmark's constraint on train and on held-out data, with an interval.

Every run records the constraint as fairsk compiles it, on each classifier's own
predictions, on the training set and on the test set with a Poisson-bootstrap
interval (:func:`fairsk.feasibility.feasibility_report`); :doc:`/benchmark` says
how to read it. fairlearn's baselines are measured on the same compiled
constraint, whatever they ran under.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..constraints import LOSS, cell_mass, compile_constraints, make_constraints
from ..feasibility import feasibility_report
from ..groups import GroupEncoder

__all__ = ["CONFIDENCE", "HELD_OUT_FIELDS", "N_BOOT"]

#: Level of the test interval.
CONFIDENCE = 0.95
#: Bootstrap replicates of the test interval.
N_BOOT = 200
#: Probabilities are clipped to [EPS, 1 - EPS] before the logit, as log_loss does.
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


def compile_on_train(constraint, bound, pairing, y01, groups):
    """Compile ``constraint`` against the training groups, as a fairsk fit does.

    Returns ``(compiled, encoder)``; the encoder gives other rows' group codes.
    """
    encoder = GroupEncoder()
    codes = encoder.fit_transform(np.asarray(groups))
    mass = cell_mass(codes, y01, len(encoder.groups_))
    constraints = make_constraints(constraint, bound, pairing)
    return compile_constraints(constraints, mass, encoder.groups_), encoder


def group_codes(encoder: GroupEncoder, groups) -> np.ndarray:
    """Group code of each row; -1 for a group unseen in training."""
    groups = np.asarray(groups)
    seen = {*encoder.groups_, *encoder.merged_}
    known = np.fromiter((g in seen for g in groups.tolist()), bool, len(groups))
    codes = np.full(groups.shape[0], -1, dtype=np.int64)
    if known.any():
        codes[known] = encoder.transform(groups[known])
    return codes


def baseline_logits(score, pred, compiled) -> np.ndarray:
    """Logits standing for a fairlearn baseline's predictions.

    A loss constraint reads the probabilities (clipped to [EPS, 1 - EPS]); rates
    read only a logit's sign, here the baseline's own hard prediction.
    """
    if any(q.name == LOSS.name for q in compiled.quantities):
        p = np.clip(np.asarray(score, dtype=np.float64), EPS, 1.0 - EPS)
        return np.log(p) - np.log1p(-p)
    return np.where(np.asarray(pred) == 1, 1.0, -1.0)


def _report(compiled, logits, y01, codes, n_boot, seed, split, warn=True):
    code = np.asarray(codes, dtype=np.int64)
    keep = code >= 0
    if warn and not keep.all():
        warnings.warn(
            f"{int((~keep).sum())} {split} rows of groups unseen in training are "
            "left out of the held-out constraint values.",
            UserWarning,
            stacklevel=3,
        )
    z, y = (np.asarray(v, dtype=np.float64)[keep] for v in (logits, y01))
    code = code[keep]
    return feasibility_report(
        compiled, z, y, code, confidence=CONFIDENCE, n_boot=n_boot, random_state=seed
    ).iloc[0]


def constraint_values(compiled, logits, y01, codes, *, bound_free=False, seed=0):
    """Measure the constraint on train, and on test with a bootstrap interval.

    ``logits``, ``y01`` (labels, 0/1) and ``codes`` (:func:`group_codes`) are
    ``{"train": ..., "test": ...}``. A run without a bound of its own
    (``bound_free``) has no violation and no ``holds``; ``seed`` seeds the bootstrap.
    """
    train, test = (
        _report(compiled, logits[s], y01[s], codes[s], N_BOOT * (s == "test"), seed, s)
        for s in ("train", "test")
    )
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


def constraint_value(compiled, logits, y01, codes) -> float:
    """Return the constraint's value without an interval (the per-epoch curves)."""
    return float(_report(compiled, logits, y01, codes, 0, 0, "", warn=False)["value"])
