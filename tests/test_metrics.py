"""The paper's metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from fairlearn.metrics import (
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
)

from fairsk.metrics import (
    PAPER_METRICS,
    _quantile_distance,
    auc_m,
    inaccuracy,
    independence,
    loss_gap,
    paper_metrics,
    separation,
    sufficiency,
    wasserstein,
)

# Eight people, two groups of four. Hard predictions are score > 0.5:
#   group a: y 1 1 0 0, score .9 .4 .6 .2 -> pred 1 0 1 0
#   group b: y 1 1 0 0, score .8 .3 .2 .1 -> pred 1 0 0 0
Y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
S = np.array([0.9, 0.4, 0.6, 0.2, 0.8, 0.3, 0.2, 0.1])
A = np.array(list("aaaabbbb"))
P = (S > 0.5).astype(int)


def bce(y, p):
    return -math.log(p) if y == 1 else -math.log(1 - p)


# By hand, from the table above.
HAND = {
    # PR_a = 2/4, PR_b = 1/4
    "ind": 0.25,
    # TPR_a = 1/2, TPR_b = 1/2; FPR_a = 1/2, FPR_b = 0
    "sp": 0.0 + 0.5,
    # 3 mistakes of 8 (a: 2nd and 3rd, b: 2nd)
    "ina": 3 / 8,
    # PPV_a = 1/2, PPV_b = 1/1; NPV_a = 1/2, NPV_b = 2/3
    "sf": 0.5 + (2 / 3 - 1 / 2),
    # AUC_a: 3 of the 4 (positive, negative) pairs ordered; AUC_b: 4 of 4
    "auc_m": (3 / 4 + 1) / 2,
    # sorted scores a .2 .4 .6 .9, b .1 .2 .3 .8: gaps .1 .2 .3 .1
    "wd": math.sqrt((0.01 + 0.04 + 0.09 + 0.01) / 4),
    "loss_gap": abs(
        np.mean([bce(1, 0.9), bce(1, 0.4), bce(0, 0.6), bce(0, 0.2)])
        - np.mean([bce(1, 0.8), bce(1, 0.3), bce(0, 0.2), bce(0, 0.1)])
    ),
    "accuracy": 5 / 8,
    "demographic_parity_difference": 0.25,
    # max(|dTPR|, |dFPR|)
    "equalized_odds_difference": 0.5,
    "equal_opportunity_difference": 0.0,
    # error rates a 2/4, b 1/4
    "error_rate_difference": 0.25,
    # FPR_a = 1/2, FPR_b = 0
    "false_positive_rate_difference": 0.5,
    "max_group_error": 0.5,
    "max_group_loss": np.mean([bce(1, 0.9), bce(1, 0.4), bce(0, 0.6), bce(0, 0.2)]),
}


def test_paper_metrics_match_hand_computed_values():
    got = paper_metrics(Y, S, A)
    assert set(got) == set(HAND)
    for key, value in HAND.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    assert set(PAPER_METRICS) <= set(got)


def test_each_metric_function_matches_hand_values():
    kw = {"sensitive_features": A}
    assert independence(Y, P, **kw) == pytest.approx(HAND["ind"])
    assert separation(Y, P, **kw) == pytest.approx(HAND["sp"])
    assert sufficiency(Y, P, **kw) == pytest.approx(HAND["sf"])
    assert inaccuracy(Y, P) == pytest.approx(HAND["ina"])
    assert auc_m(Y, S, **kw) == pytest.approx(HAND["auc_m"])
    assert loss_gap(Y, S, **kw) == pytest.approx(HAND["loss_gap"])
    assert wasserstein(Y, S, **kw) == pytest.approx(HAND["wd"])


def test_threshold_and_explicit_predictions():
    # At 0.35, a's 0.4 turns positive (a: 1 1 1 0); b's 0.3 stays negative.
    got = paper_metrics(Y, S, A, threshold=0.35)
    assert got["ind"] == pytest.approx(3 / 4 - 1 / 4)
    # Explicit predictions override the threshold (a randomised classifier's).
    pred = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    got = paper_metrics(Y, S, A, y_pred=pred)
    assert got["ind"] == 1.0
    assert got["auc_m"] == pytest.approx(HAND["auc_m"])  # scores unchanged


def test_labels_may_be_boolean_and_groups_any_hashable():
    got = paper_metrics(Y.astype(bool), S, np.where(A == "a", 1, 2))
    assert got["sf"] == pytest.approx(HAND["sf"])


def test_more_groups_use_largest_minus_smallest():
    y = np.array([1, 0, 1, 0, 1, 0])
    pred = np.array([1, 1, 1, 0, 0, 0])
    groups = np.array(list("aabbcc"))
    # selection rates a 1, b 1/2, c 0
    assert independence(y, pred, sensitive_features=groups) == 1.0
    # TPR a 1, b 1, c 0; FPR a 1, b 0, c 0
    assert separation(y, pred, sensitive_features=groups) == 2.0
    # Wd: the largest pairwise distance (a vs c: every score differs by 0.8)
    s = np.array([0.9, 0.9, 0.5, 0.5, 0.1, 0.1])
    assert wasserstein(y, s, sensitive_features=groups) == pytest.approx(0.8)


def test_undefined_rates_give_nan_not_zero():
    # Group b predicts no positive: its PPV is undefined, so is Sf.
    pred = np.array([1, 0, 1, 0, 0, 0, 0, 0])
    assert math.isnan(sufficiency(Y, pred, sensitive_features=A))
    # Group b holds one class: its AUC is undefined.
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0])
    assert math.isnan(auc_m(y, S, sensitive_features=A))
    # The loss is still defined for a one-class group.
    assert math.isfinite(loss_gap(y, S, sensitive_features=A))


def test_wasserstein2_unequal_sizes_by_hand():
    # a: quantile 0 on (0, 1/2], 1 on (1/2, 1]; b: 0 on (0, 2/3], 1 on (2/3, 1].
    # They differ by 1 on (1/2, 2/3]: W2 = sqrt(1/6), W1 = 1/6.
    scores = np.array([0.0, 1.0, 0.0, 0.0, 1.0])
    groups = np.array(list("aabbb"))
    assert wasserstein(None, scores, sensitive_features=groups) == pytest.approx(
        math.sqrt(1 / 6)
    )
    assert wasserstein(None, scores, sensitive_features=groups, p=1) == pytest.approx(
        1 / 6
    )
    # One point against two: W2^2 = (0.5^2 + 0.5^2) / 2.
    assert _quantile_distance([0.0, 1.0], [0.5], 2) == pytest.approx(0.5)


def test_quantile_distance_agrees_with_scipy_for_p1():
    rng = np.random.default_rng(3)
    u, v = rng.random(37), rng.normal(size=23)
    wu, wv = rng.random(37), rng.random(23)
    ours = _quantile_distance(u, v, 1, wu, wv)
    assert ours == pytest.approx(scipy.stats.wasserstein_distance(u, v, wu, wv))


def test_wasserstein2_equals_numpy_quantiles_and_respects_weights():
    rng = np.random.default_rng(4)
    u, v = rng.random(30), rng.random(20)
    # numpy's inverted_cdf quantiles on the merged levels (i/30, j/20): exact.
    levels = np.union1d(np.arange(1, 31) / 30, np.arange(1, 21) / 20)
    width = np.diff(levels, prepend=0)
    mid = levels - width / 2
    qu = np.quantile(u, mid, method="inverted_cdf")
    qv = np.quantile(v, mid, method="inverted_cdf")
    expected = math.sqrt(np.sum(width * (qu - qv) ** 2))
    assert _quantile_distance(u, v, 2) == pytest.approx(expected)
    # Integer weights are repetitions.
    w = rng.integers(1, 4, 30)
    assert _quantile_distance(u, v, 2, w) == pytest.approx(
        _quantile_distance(np.repeat(u, w), v, 2)
    )


def test_agrees_with_fairlearn_on_random_data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.clip(0.3 * y + 0.7 * rng.random(500), 0, 1)
    groups = rng.choice(["x", "y", "z"], 500)
    pred = (s > 0.5).astype(int)
    m = paper_metrics(y, s, groups)
    dpd = demographic_parity_difference(y, pred, sensitive_features=groups)
    eod = equalized_odds_difference(y, pred, sensitive_features=groups)
    assert m["ind"] == pytest.approx(dpd)
    assert m["equalized_odds_difference"] == pytest.approx(eod)
    eopd = equal_opportunity_difference(y, pred, sensitive_features=groups)
    assert m["equal_opportunity_difference"] == pytest.approx(eopd)
    # Sp adds the two spreads that EOD takes the larger of.
    assert eod <= m["sp"] <= 2 * eod + 1e-12


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="0/1"):
        paper_metrics([0, 2, 1], [0.1, 0.2, 0.3], ["a", "b", "a"])
    with pytest.raises(ValueError, match="same length"):
        independence([0, 1], [0, 1, 1], sensitive_features=["a", "b", "b"])
    with pytest.raises(ValueError, match="rows"):
        auc_m([0, 1], [0.2, 0.4], sensitive_features=["a"])
    with pytest.raises(ValueError, match="at least 1"):
        wasserstein(None, [0.1, 0.2], sensitive_features=["a", "b"], p=0.5)
