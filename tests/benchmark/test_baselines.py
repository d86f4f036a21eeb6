"""fairlearn baselines: matching constraints, GridSearch's bound, predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairsk.benchmark.baselines import (
    _grid_search_choice,
    build_baseline,
    fairlearn_constraint,
    fit_baseline,
)

# fairlearn 0.15 on pandas 3 (not ours to fix).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:fairlearn")


@pytest.mark.parametrize(
    ("constraint", "moment", "threshold", "tol"),
    [
        ("demographic_parity", "DemographicParity", "demographic_parity", 0.03),
        ("equalized_odds", "EqualizedOdds", "equalized_odds", None),
        (
            "equal_opportunity",
            "TruePositiveRateParity",
            "true_positive_rate_parity",
            0.03,
        ),
        ("error_rate_parity", "ErrorRateParity", None, None),
        ("bounded_group_loss", "BoundedGroupLoss", None, None),
        ("demographic_parity_ratio", "DemographicParity", None, None),
        ("loss_gap", "DemographicParity", "demographic_parity", 0.03),
    ],
)
def test_matching_constraints(constraint, moment, threshold, tol):
    fl = fairlearn_constraint(constraint, 0.03)
    assert fl.moment == moment and fl.threshold == threshold and fl.tol == tol
    made = fl.make_moment()
    assert type(made).__name__ == moment
    if constraint.endswith("_ratio"):
        assert made.ratio == 0.03
    elif constraint != "bounded_group_loss":
        assert made.eps == 0.03
    if constraint == "loss_gap":
        assert fl.note.startswith("proxy:")
    assert fairlearn_constraint("loss_gap", 0.03, proxy=None) is None


class FakeGridSearch:
    """What _grid_search_choice reads from a fitted GridSearch."""

    def __init__(self, bound):
        # Three grid points; rows: the moment's signed gaps (+ and -).
        self.gammas_ = pd.DataFrame(
            {0: [0.3, -0.3], 1: [0.05, -0.05], 2: [0.01, -0.01]}
        )
        self.objectives_ = [0.10, 0.20, 0.30]

        class Moment:
            def bound(self):
                return pd.Series([bound, bound])

        self.constraints_ = Moment()


def test_grid_search_keeps_the_best_model_within_the_bound():
    # Points 1 and 2 are within 0.06; 1 has the lower error.
    assert _grid_search_choice(FakeGridSearch(0.06)) == (1, True)
    # None within 0.001: the least violating one.
    assert _grid_search_choice(FakeGridSearch(0.001)) == (2, False)
    # Everything within 1: the lowest error overall.
    assert _grid_search_choice(FakeGridSearch(1.0)) == (0, True)


@pytest.fixture(scope="module")
def biased():
    rng = np.random.default_rng(0)
    n = 600
    A = rng.choice(["a", "b"], n)
    X = np.column_stack([rng.normal(size=n), (A == "a") + rng.normal(0, 0.3, n)])
    y = (X[:, 0] + 1.5 * (A == "a") + rng.normal(0, 0.5, n) > 0.7).astype(int)
    return X.astype(np.float32), y, A


@pytest.mark.parametrize("name", ["gs-logreg", "eg-logreg", "threshold-logreg"])
def test_mitigations_reduce_disparity_on_float32_input(name, biased):
    from fairlearn.metrics import demographic_parity_difference

    X, y, A = biased
    plain = fit_baseline("logreg", build_baseline("logreg", "", None, 0)[0], X, y, A, 0)
    est, _ = build_baseline(name, "demographic_parity", 0.02, seed=0)
    fitted = fit_baseline(name, est, X, y, A, seed=0)
    X64 = X.astype(np.float64)
    pred = fitted.predict(X64, A)
    score = fitted.score(X64, A)
    assert pred.shape == score.shape == y.shape
    assert ((score >= 0) & (score <= 1)).all()
    before = demographic_parity_difference(
        y, plain.predict(X64, A), sensitive_features=A
    )
    after = demographic_parity_difference(y, pred, sensitive_features=A)
    assert after < before / 2
    if name == "gs-logreg":
        assert fitted.info["feasible_on_train"] in (True, False)
        assert 0 <= fitted.info["grid_index"] < fitted.info["grid_size"]


def test_params_reach_the_fairlearn_estimator():
    est, _ = build_baseline(
        "eg-hgb", "equalized_odds", 0.05, seed=3, params={"max_iter": 7}
    )
    assert est.max_iter == 7 and est.estimator.random_state == 3
