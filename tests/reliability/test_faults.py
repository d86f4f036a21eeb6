"""Training faults: divergence, infeasible or too-tight bounds, multiplier safeguards.

- A non-finite loss, multiplier or other state stops training, restores the last
  finite epoch's weights and warns (ConvergenceWarning) naming what diverged and at
  which epoch; ``history_`` records ``diverged``.
- A bound the returned model misses on the training set by more than
  :meth:`fairsk.kinds.Kind.tolerance` ends with a ConvergenceWarning that
  reports the final violation, which ``history_`` shows; the model stays finite.
- Multipliers never leave the range their safeguard allows.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from fairsk import (
    SSLALMClassifier,
    StochasticGhostClassifier,
    UnconstrainedClassifier,
)
from fairsk.algorithms.dual import DUAL_UPDATES
from fairsk.constraints import (
    Constraint,
    Quantity,
    Statistic,
    hard_positive,
    positive_score,
)
from fairsk.kinds import KINDS, VIOLATION_ATOL

from ..common import CLASSIFIERS, CONSTRAINED, TINY, EndAfter, make_synthetic

SIX = {**TINY, "max_epochs": 6}


def _ids(cls):
    return cls.__name__


# -- divergence --------------------------------------------------------------------
class _Fault:
    """Switch that makes the ``faulty`` quantity NaN; armed by a callback.

    A module-level flag, because the estimator deep-copies its callbacks.
    """

    armed = False


def _faulty_score(logits, y):
    out = positive_score(logits, y)
    return out * float("nan") if _Fault.armed else out


#: A demographic-parity constraint whose training quantity turns NaN when armed
#: (its reported, hard version stays finite).
FAULTY = Constraint(
    Statistic("faulty_rate", Quantity("faulty", _faulty_score, hard_positive)),
    bound=0.1,
    name="faulty",
)


class _ArmAfter(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            _Fault.armed = True


@pytest.fixture
def fault():
    _Fault.armed = False
    yield _Fault
    _Fault.armed = False


#: What each rule reports as non-finite when the constraint estimates turn NaN.
DIVERGED_KEYS = {
    "SSLALMClassifier": {"multipliers", "slack", "train_constraints"},
    "ALMClassifier": {"multipliers", "slack", "train_constraints"},
    "PenaltyClassifier": {"weights", "train_loss"},
    "SwitchingSubgradientClassifier": {"train_constraints"},
    "StochasticGhostClassifier": {"train_constraints"},
}


@pytest.mark.parametrize("cls", CONSTRAINED, ids=_ids)
def test_nan_constraint_estimate_stops_and_restores(cls, fault, synthetic):
    X, y, A = synthetic
    with pytest.warns(ConvergenceWarning, match="Training diverged at epoch 3: ") as w:
        clf = cls(**SIX, constraint=FAULTY, callbacks=[_ArmAfter(2)]).fit(
            X, y, sensitive_features=A
        )
    message = next(str(r.message) for r in w if "diverged" in str(r.message))
    named = set(re.search(r"epoch 3: (.*) became non-finite", message)[1].split(", "))
    assert DIVERGED_KEYS[cls.__name__] <= named, message
    assert "weights of the last finite epoch were restored" in message
    assert len(clf.history_) == 3 and clf.n_iter_ == 3
    assert clf.history_[-1, "diverged"] is True
    assert "diverged" not in clf.history_[1]
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    # The restored model is exactly the one at the end of epoch 2: a fit stopped
    # there (the cosine schedule depends on max_epochs only) returns the same.
    fault.armed = False
    stopped = cls(**SIX, constraint=FAULTY, callbacks=[EndAfter(2)]).fit(
        X, y, sensitive_features=A
    )
    np.testing.assert_array_equal(proba, stopped.predict_proba(X))


@pytest.mark.parametrize(
    "cls", [c for c in CLASSIFIERS if c is not StochasticGhostClassifier], ids=_ids
)
def test_huge_step_diverges_cleanly(cls, synthetic):
    X, y, A = synthetic
    with pytest.warns(ConvergenceWarning, match=r"Training diverged at epoch \d: .*"):
        clf = cls(**{**SIX, "lr": 1e6}).fit(X, y, sensitive_features=A)
    assert clf.history_[-1, "diverged"] is True
    assert np.isfinite(clf.predict_proba(X)).all()
    assert np.isfinite(clf.decision_function(X)).all()


def test_ghost_rejects_a_step_its_recursion_cannot_take(synthetic):
    X, y, A = synthetic
    clf = StochasticGhostClassifier(**{**SIX, "lr": 1e6})
    with pytest.raises(ValueError, match=r"lr \* step_decay < 1"):
        clf.fit(X, y, sensitive_features=A)


def test_overflowing_features_diverge_at_epoch_one(synthetic):
    X, y, A = synthetic
    with pytest.warns(
        ConvergenceWarning, match=r"Training diverged at epoch 1: .*weights"
    ):
        clf = SSLALMClassifier(**SIX).fit(X * 1e20, y, sensitive_features=A)
    # Nothing finite was learnt: the initial weights come back, finite.
    assert len(clf.history_) == 1
    assert np.isfinite(clf.predict_proba(X)).all()


# -- infeasible and too-tight bounds ---------------------------------------------------
#: Bounds no model can meet: a group loss below 1e-6, and parity (met only by a
#: constant classifier, whose loss is near log 2) together with a group loss below
#: 0.3.
IMPOSSIBLE = [
    pytest.param({"constraint": "bounded_group_loss", "bound": 1e-6}, id="loss_1e-6"),
    pytest.param(
        {
            "constraint": ["demographic_parity", "bounded_group_loss"],
            "bound": [0.0, 0.3],
        },
        id="parity_and_loss",
    ),
]


@pytest.mark.parametrize("params", IMPOSSIBLE)
@pytest.mark.parametrize("cls", CONSTRAINED, ids=_ids)
def test_impossible_bound_warns_with_the_final_violation(cls, params, synthetic):
    X, y, A = synthetic
    with pytest.warns(ConvergenceWarning, match="misses its bound") as w:
        clf = cls(**SIX, **params).fit(X, y, sensitive_features=A)
    message = next(str(r.message) for r in w if "misses its bound" in str(r.message))
    # Averaging was on for the last half: the returned model is the average, and
    # the history's avg_ entries of the last epoch are its training report.
    last = clf.history_[-1]
    assert f"after epoch {len(clf.history_)}" in message
    name = "bounded_group_loss"
    violation = last[f"avg_{name}_violation"]
    assert violation > KINDS["upper"].tolerance(0.3)
    assert f"violation {violation:.4g}" in message
    assert f"{name} = {last['avg_' + name]:.4g}" in message
    # history_ shows it every epoch; the returned model is finite and its
    # report on the training data agrees with the history.
    assert all(np.isfinite(h[f"{name}_violation"]) for h in clf.history_)
    assert np.isfinite(clf.predict_proba(X)).all()
    report = clf.feasibility_report(X, y, A, n_boot=0).set_index("constraint")
    assert report.loc[name, "violation"] == pytest.approx(violation, abs=1e-4)


def test_no_warning_when_the_bound_is_met():
    X, y, A = make_synthetic(n=400, seed=1)
    for params in (
        {"bound": 0.005, "max_epochs": 30},
        {"constraint": "demographic_parity", "bound": 0.05, "max_epochs": 20},
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            clf = SSLALMClassifier(**{**TINY, **params}).fit(X, y, sensitive_features=A)
        name = clf.constraints_[0].name
        assert clf.history_[-1, f"avg_{name}_violation"] <= VIOLATION_ATOL


def test_no_warning_on_the_acceptance_task(acs_income):
    """The real ACS income task with the defaults (bound 0.005) does not warn."""
    X, y, A = acs_income
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SSLALMClassifier(random_state=0).fit(X, y, sensitive_features=A)
    assert clf.history_[-1, "avg_loss_gap"] < 0.005 + VIOLATION_ATOL


def test_monitoring_groups_without_constraints_never_warns(synthetic):
    X, y, A = synthetic
    with warnings.catch_warnings():
        # Only the bound's warning is at stake: six epochs of this tiny fit
        # predict one class, which fit rightly reports (issue 17).
        warnings.filterwarnings(
            "error", "The model returned .* misses its bound", ConvergenceWarning
        )
        clf = UnconstrainedClassifier(**SIX).fit(X, y, sensitive_features=A)
    assert clf.history_[-1, "loss_gap_violation"] > VIOLATION_ATOL  # unmet, silent


def test_tolerance_rule():
    assert KINDS["difference"].tolerance(0.0) == VIOLATION_ATOL
    assert KINDS["difference"].tolerance(0.2) == pytest.approx(0.1)
    assert KINDS["ratio"].tolerance(0.8) == pytest.approx(0.1)
    assert KINDS["upper"].tolerance(1e-6) == VIOLATION_ATOL
    assert KINDS["upper"].tolerance(0.5) == pytest.approx(0.05)


# -- multiplier safeguards -------------------------------------------------------------
@pytest.mark.parametrize("rule", sorted(DUAL_UPDATES))
@pytest.mark.parametrize("dual_lr", [0.5, 1e30])
def test_multipliers_stay_within_their_safeguard(rule, dual_lr, synthetic):
    X, y, A = synthetic
    if rule == "pbm" and dual_lr > 1:
        pbm_range = r"'dual_lr' parameter of PenaltyBarrier must be .* \(0.0, 1.0\]"
        with pytest.raises(ValueError, match=pbm_range):
            SSLALMClassifier(**SIX, dual_update=rule, dual_lr=dual_lr).fit(
                X, y, sensitive_features=A
            )
        return
    clf = SSLALMClassifier(
        **SIX,
        constraint="bounded_group_loss",
        bound=1e-6,  # infeasible: the multipliers are pushed up all along
        dual_update=rule,
        dual_lr=dual_lr,
        multiplier_max=10.0,
    )
    with pytest.warns(ConvergenceWarning, match="misses its bound"):
        clf.fit(X, y, sensitive_features=A)
    multipliers = np.array([h["multipliers"] for h in clf.history_])
    assert len(multipliers) == SIX["max_epochs"]  # never diverged
    assert np.isfinite(multipliers).all()
    assert (multipliers <= 10.0).all()
    if rule not in ("ascent", "momentum"):  # the reset rules allow λ < 0
        assert (multipliers >= 0.0).all()
    assert np.isfinite(clf.predict_proba(X)).all()
