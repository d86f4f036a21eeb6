"""Constraint compilation and reporting against hand computations and fairlearn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
)
from sklearn.metrics import log_loss

from fairsk.constraints import (
    CONSTRAINTS,
    Constraint,
    compile_constraints,
    make_constraints,
)
from fairsk.groups import GroupEncoder


def _report(constraint, logits, y, groups, pairing="auto", bound=0.05, weight=None):
    """Compile on (y, groups) and report on hard predictions from ``logits``."""
    enc = GroupEncoder()
    codes = enc.fit_transform(groups)
    w = np.ones(len(y)) if weight is None else weight
    mass = np.zeros((len(enc.groups_), 2))
    np.add.at(mass, (codes, y.astype(int)), w)
    compiled = compile_constraints(
        make_constraints(constraint, bound, pairing), mass, enc.groups_
    )
    lookup = {tuple(c): i for i, c in enumerate(compiled.cells)}
    cell = torch.tensor(
        [lookup.get((g, int(t)), -1) for g, t in zip(codes, y, strict=True)]
    )
    lt = torch.tensor(logits, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    wt = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    M = compiled.cell_means(compiled.quantity_matrix(lt, yt, hard=True), cell, wt)
    c, S = compiled.values(M)
    return compiled, c, compiled.report(S)


@pytest.fixture
def random_problem():
    rng = np.random.default_rng(3)
    n = 400
    groups = rng.choice(["a", "b", "c", "d"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    y = (rng.random(n) < np.where(groups == "a", 0.6, 0.3)).astype(float)
    logits = rng.normal(size=n) + 0.8 * (groups == "b")
    return logits, y, groups


def test_loss_gap_rows_by_hand():
    cc = compile_constraints(
        make_constraints("loss_gap", 0.01),
        np.array([[30.0, 10.0], [20.0, 20.0]]),
        ["a", "b"],
    )
    # L_a = 0.75 M[a,0] + 0.25 M[a,1]; L_b = 0.5 M[b,0] + 0.5 M[b,1].
    np.testing.assert_allclose(
        cc.K, [[0.75, 0.25, -0.5, -0.5], [-0.75, -0.25, 0.5, 0.5]]
    )
    np.testing.assert_allclose(cc.b, [0.01, 0.01])
    assert cc.cells.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_one_vs_mean_rows_by_hand():
    mass = np.array([[10.0, 10.0], [20.0, 0.0], [0.0, 10.0]])
    cc = compile_constraints(
        make_constraints("demographic_parity", 0.1), mass, list("xyz")
    )
    # 3 groups -> one_vs_mean: population PR = (20 PR_x + 20 PR_y + 10 PR_z) / 50.
    assert len(cc.row_names) == 6
    S_vec = cc.A[[0, 1, 2, 3]]  # PR_x, PR_y, PR_z, PR_pop
    M = np.array([0.2, 0.6, 0.5, 0.9])  # cells (x,0), (x,1), (y,0), (z,1)
    pr = S_vec @ M
    np.testing.assert_allclose(pr[:3], [0.4, 0.5, 0.9])
    np.testing.assert_allclose(pr[3], (20 * 0.4 + 20 * 0.5 + 10 * 0.9) / 50)
    np.testing.assert_allclose(
        cc.K @ M - cc.b,
        [
            0.4 - pr[3] - 0.1,
            pr[3] - 0.4 - 0.1,
            0.5 - pr[3] - 0.1,
            pr[3] - 0.5 - 0.1,
            0.9 - pr[3] - 0.1,
            pr[3] - 0.9 - 0.1,
        ],
    )


@pytest.mark.parametrize("pairing", ["one_vs_each", "one_vs_mean"])
def test_demographic_parity_matches_fairlearn(random_problem, pairing):
    logits, y, groups = random_problem
    _, _, rep = _report("demographic_parity", logits, y, groups, pairing)
    method = "between_groups" if pairing == "one_vs_each" else "to_overall"
    expected = demographic_parity_difference(
        y, (logits > 0).astype(int), sensitive_features=groups, method=method
    )
    assert rep[0]["value"] == pytest.approx(expected, abs=1e-12)
    assert rep[0]["violation"] == pytest.approx(expected - 0.05, abs=1e-12)


@pytest.mark.parametrize("pairing", ["one_vs_each", "one_vs_mean"])
def test_equalized_odds_and_opportunity_match_fairlearn(random_problem, pairing):
    logits, y, groups = random_problem
    pred = (logits > 0).astype(int)
    method = "between_groups" if pairing == "one_vs_each" else "to_overall"
    _, _, rep = _report("equalized_odds", logits, y, groups, pairing)
    assert rep[0]["value"] == pytest.approx(
        equalized_odds_difference(y, pred, sensitive_features=groups, method=method),
        abs=1e-12,
    )
    _, _, rep = _report("equal_opportunity", logits, y, groups, pairing)
    assert rep[0]["value"] == pytest.approx(
        equal_opportunity_difference(y, pred, sensitive_features=groups, method=method),
        abs=1e-12,
    )


def test_error_rate_and_bounded_loss_match_metricframe(random_problem):
    logits, y, groups = random_problem
    pred = (logits > 0).astype(int)
    frame = MetricFrame(
        metrics={"error": lambda t, p: np.mean(t != p)},
        y_true=y,
        y_pred=pred,
        sensitive_features=groups,
    )
    _, _, rep = _report("error_rate_parity", logits, y, groups, "one_vs_each")
    by_group = frame.by_group["error"]
    assert rep[0]["value"] == pytest.approx(by_group.max() - by_group.min(), abs=1e-12)
    prob = 1 / (1 + np.exp(-logits))
    losses = [
        log_loss(y[groups == g], prob[groups == g], labels=[0, 1]) for g in "abcd"
    ]
    _, _, rep = _report("bounded_group_loss", logits, y, groups, bound=0.5)
    assert rep[0]["value"] == pytest.approx(max(losses), abs=1e-10)
    _, _, rep = _report("loss_gap", logits, y, groups, "one_vs_each")
    assert rep[0]["value"] == pytest.approx(max(losses) - min(losses), abs=1e-10)


def test_ratios_match_fairlearn(random_problem):
    logits, y, groups = random_problem
    pred = (logits > 0).astype(int)
    _, c, rep = _report(
        "demographic_parity_ratio", logits, y, groups, "one_vs_each", 0.8
    )
    expected = demographic_parity_ratio(y, pred, sensitive_features=groups)
    assert rep[0]["value"] == pytest.approx(expected, abs=1e-12)
    # The rows r*S_b - S_a <= 0 all hold exactly when min/max >= r.
    assert (c.max() <= 0) == (expected >= 0.8)
    _, _, rep = _report("equalized_odds_ratio", logits, y, groups, "one_vs_each", 0.8)
    assert rep[0]["value"] == pytest.approx(
        equalized_odds_ratio(y, pred, sensitive_features=groups), abs=1e-12
    )


def test_weighted_statistics_match_fairlearn(random_problem):
    logits, y, groups = random_problem
    w = np.random.default_rng(0).uniform(0.1, 3, size=len(y))
    _, _, rep = _report(
        "demographic_parity", logits, y, groups, "one_vs_each", weight=w
    )
    expected = demographic_parity_difference(
        y, (logits > 0).astype(int), sensitive_features=groups, sample_weight=w
    )
    assert rep[0]["value"] == pytest.approx(expected, abs=1e-12)


def test_group_without_positives_is_left_out_with_warning():
    mass = np.array([[10.0, 5.0], [8.0, 0.0], [4.0, 4.0]])
    with pytest.warns(UserWarning, match="'b' has no samples with label 1"):
        cc = compile_constraints(
            make_constraints("equal_opportunity", 0.1), mass, list("abc")
        )
    assert not any("[b]" in name for name in cc.row_names)
    assert np.isfinite(cc.K).all()
    with warnings.catch_warnings(), pytest.raises(ValueError, match="at least two"):
        warnings.simplefilter("ignore")
        compile_constraints(
            make_constraints("equal_opportunity", 0.1),
            np.array([[10.0, 5.0], [8.0, 0.0]]),
            list("ab"),
        )


def test_single_group_is_an_error():
    with pytest.raises(ValueError, match="1 group"):
        compile_constraints(
            make_constraints("loss_gap", 0.1), np.array([[3.0, 4.0]]), ["a"]
        )


@pytest.mark.parametrize(
    ("constraint", "bound", "match"),
    [
        ("nope", 0.1, "Unknown constraint"),
        ("loss_gap", -0.1, ">= 0"),
        ("demographic_parity", 1.0, "vacuous"),
        ("demographic_parity_ratio", 1.5, r"\(0, 1\]"),
        ("demographic_parity_ratio", 0.0, r"\(0, 1\]"),
        ("bounded_group_loss", 0.0, "> 0"),
        ("loss_gap", float("nan"), "finite"),
    ],
)
def test_bad_constraints_and_bounds(constraint, bound, match):
    with pytest.raises(ValueError, match=match):
        make_constraints(constraint, bound)


def test_every_shortcut_compiles():
    mass = np.array([[10.0, 5.0], [8.0, 3.0], [4.0, 4.0]])
    for name, spec in CONSTRAINTS.items():
        bound = 0.8 if spec.kind == "ratio" else 0.1
        cc = compile_constraints(make_constraints(name, bound), mass, list("abc"))
        assert cc.n_constraints > 0 and np.isfinite(cc.K).all(), name


def test_custom_statistic_and_constraint_object():
    from fairsk.constraints import Quantity, Statistic

    margin = Quantity("margin", lambda logits, y: torch.tanh(logits))
    stat = Statistic("mean_margin", margin)
    con = Constraint(stat, bound=0.2, name="margin_gap")
    cc = compile_constraints(
        make_constraints(con, None), np.array([[5.0, 5.0], [5.0, 5.0]]), ["a", "b"]
    )
    assert cc.row_names[0].startswith("margin_gap:")
    assert [q.name for q in cc.quantities] == ["margin"]
