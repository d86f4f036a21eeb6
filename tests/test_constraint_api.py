"""The constraint family end to end: groups, pairings, kinds, custom statistics.

tests/test_constraints.py checks compiled constraints against fairlearn's metrics
on fixed predictions; here every feature goes through an estimator's ``fit`` (or
through :class:`~fairsk.problem.FairProblem`, for the minibatch estimates that
training sees).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from fairlearn.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.constraints import (
    Constraint,
    Quantity,
    Statistic,
    compile_constraints,
    make_constraints,
)
from fairsk.groups import GroupEncoder
from fairsk.nets import MLP
from fairsk.problem import FairProblem
from fairsk.sampling import TrainingData

from .common import make_synthetic

FAST = {"max_epochs": 6, "batch_size": 32, "random_state": 0}


def hard_report(clf, X, y, A) -> pd.Series:
    """Each constraint's value on hard predictions, by name (no bootstrap)."""
    rep = clf.feasibility_report(X, y, A, n_boot=0)
    return rep.set_index("constraint")["value"]


# -- groups: intersections, pairings -------------------------------------------------


def test_two_columns_are_intersections_end_to_end():
    # The positive rate is high for (p, F) and (q, M) and low for the other two
    # intersections, while each column alone splits the data into halves with
    # similar rates: only intersectional groups see the disparity.
    rng = np.random.default_rng(5)
    n = 1200
    A2 = pd.DataFrame(
        {"group": rng.choice(["p", "q"], size=n), "sex": rng.choice(["F", "M"], size=n)}
    )
    high = (A2["group"] == "p").to_numpy() == (A2["sex"] == "F").to_numpy()
    X = np.column_stack([np.where(high, 1.0, -1.0), rng.normal(size=(n, 2))])
    y = (X[:, 1] + 1.2 * X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    kw = {"constraint": "demographic_parity", "bound": 0.05, **FAST}
    clf = SSLALMClassifier(pairing="one_vs_mean", **kw).fit(X, y, sensitive_features=A2)
    assert clf.groups_ == [("p", "F"), ("p", "M"), ("q", "F"), ("q", "M")]
    assert len(clf.constraint_names_) == 2 * 4
    assert any("[('q', 'M')]" in name for name in clf.constraint_names_)
    pred = clf.predict(X)
    dpd = demographic_parity_difference(
        y, pred, sensitive_features=A2, method="to_overall"
    )
    # fairlearn crosses the two columns the same way.
    assert hard_report(clf, X, y, A2)["demographic_parity"] == pytest.approx(dpd)
    free = UnconstrainedClassifier(**FAST).fit(X, y)
    free_dpd = demographic_parity_difference(
        y, free.predict(X), sensitive_features=A2, method="to_overall"
    )
    assert free_dpd > 0.2 and dpd < free_dpd / 3
    for column in ("group", "sex"):
        assert (
            demographic_parity_difference(
                y, free.predict(X), sensitive_features=A2[column], method="to_overall"
            )
            < 0.05
        )


@pytest.mark.parametrize("n_groups", [3, 4])
@pytest.mark.parametrize(
    ("constraint", "n_stats"),
    [("demographic_parity", 1), ("equalized_odds", 2), ("error_rate_ratio", 1)],
)
def test_pairing_row_counts(n_groups, constraint, n_stats):
    X, y, A = make_synthetic(n=600, groups=("a", "b", "c", "d")[:n_groups])
    bound = 0.8 if constraint.endswith("ratio") else 0.1
    fitted = {}
    for pairing in ("one_vs_each", "one_vs_mean"):
        clf = SSLALMClassifier(
            constraint=constraint, bound=bound, pairing=pairing, **FAST
        ).fit(X, y, sensitive_features=A)
        fitted[pairing] = clf
    each = fitted["one_vs_each"].constraint_names_
    mean = fitted["one_vs_mean"].constraint_names_
    n_pairs = len(list(itertools.combinations(range(n_groups), 2)))
    # Two inequalities per compared pair (both signs, or both ratio directions).
    assert len(each) == n_stats * 2 * n_pairs
    assert len(mean) == n_stats * 2 * n_groups
    assert not any("[pop]" in name for name in each)
    assert all("[pop]" in name for name in mean)
    for clf in fitted.values():
        assert len(clf.history_[-1, "constraints"]) == len(clf.constraint_names_)


def test_auto_pairing_is_pairwise_for_two_groups_only():
    X, y, A = make_synthetic(n=600, groups=("a", "b", "c"))
    two = np.isin(A, ["a", "b"])
    kw = {"constraint": "demographic_parity", "bound": 0.1, **FAST}
    clf2 = SSLALMClassifier(**kw).fit(X[two], y[two], sensitive_features=A[two])
    clf3 = SSLALMClassifier(**kw).fit(X, y, sensitive_features=A)
    assert clf2.constraints_[0].pairing == "one_vs_each"
    assert clf3.constraints_[0].pairing == "one_vs_mean"


# -- kinds: ratio and upper bounds --------------------------------------------------


def test_ratio_bound_raises_the_min_max_ratio():
    # Base rates of about 10%, 50% and 90%, and the network sees the group.
    X, y, A = make_synthetic(
        n=1500, groups=("a", "b", "c"), shifts=[-1.1, 0.4, 1.9], group_feature=True
    )
    free = UnconstrainedClassifier(**FAST).fit(X, y)
    free_ratio = demographic_parity_ratio(y, free.predict(X), sensitive_features=A)
    clf = SSLALMClassifier(
        constraint="demographic_parity_ratio",
        bound=0.8,
        pairing="one_vs_each",
        **{**FAST, "max_epochs": 10},
    ).fit(X, y, sensitive_features=A)
    ratio = demographic_parity_ratio(y, clf.predict(X), sensitive_features=A)
    assert free_ratio < 0.3
    assert ratio >= 0.7 and ratio > free_ratio + 0.4
    assert hard_report(clf, X, y, A)["demographic_parity_ratio"] == pytest.approx(ratio)


def test_bounded_group_loss_end_to_end():
    # The groups need opposite rules and the network cannot tell them apart (the
    # group is not a feature): ERM fits the large group and fails the small one,
    # whose loss a bound then caps at the large group's expense.
    rng = np.random.default_rng(2)
    n = 1500
    A = np.where(rng.random(n) < 0.8, "big", "small")
    X = rng.normal(size=(n, 2))
    sign = np.where(A == "big", 1.0, -1.0)
    y = (sign * X[:, 0] + 0.3 * rng.normal(size=n) > 0).astype(int)

    def group_losses(clf):
        p = clf.predict_proba(X)[:, 1]
        return {
            g: log_loss(y[A == g], p[A == g], labels=[0, 1]) for g in ("big", "small")
        }

    free = UnconstrainedClassifier(**FAST).fit(X, y)
    clf = SSLALMClassifier(
        constraint="bounded_group_loss", bound=0.75, confidence=None, **FAST
    ).fit(X, y, sensitive_features=A)
    free_loss, loss = group_losses(free), group_losses(clf)
    assert free_loss["small"] > 1.0
    assert max(loss.values()) <= 0.75 + 0.05
    assert hard_report(clf, X, y, A)["bounded_group_loss"] == pytest.approx(
        max(loss.values()), rel=1e-5
    )
    assert [n.split(": ")[1] for n in clf.constraint_names_] == [
        "loss[big] <= 0.75",
        "loss[small] <= 0.75",
    ]


# -- the Constraint object API ------------------------------------------------------


def mean_probability(logits, y):
    """A custom quantity: the predicted probability (a soft positive rate)."""
    return torch.sigmoid(logits)


def raw_logit(logits, y):
    """A custom quantity that is not a rate: the logit itself."""
    return logits


def test_custom_statistic_end_to_end():
    # Base rates of about 10% and 90%, and the network sees the group.
    X, y, A = make_synthetic(
        n=1000, groups=("a", "b"), shifts=[-1.1, 1.9], group_feature=True
    )
    probability = Statistic(
        "mean_probability", Quantity("probability", mean_probability)
    )
    con = Constraint(probability, bound=0.03, name="probability_gap")
    clf = SSLALMClassifier(constraint=con, **{**FAST, "max_epochs": 15})
    clf.fit(X, y, sensitive_features=A)
    assert clf.constraint_names_[0].startswith("probability_gap: mean_probability[a]")
    assert "probability_gap" in clf.history_[-1]
    p = clf.predict_proba(X)[:, 1]
    gap = abs(p[A == "a"].mean() - p[A == "b"].mean())
    assert hard_report(clf, X, y, A)["probability_gap"] == pytest.approx(gap, rel=1e-5)
    free = UnconstrainedClassifier(**FAST).fit(X, y)
    q = free.predict_proba(X)[:, 1]
    assert abs(q[A == "a"].mean() - q[A == "b"].mean()) > 0.3
    assert gap <= 0.06


def test_custom_quantity_that_is_not_a_rate_takes_bounds_above_one():
    # Mean logits can differ by more than 1; only built-in rates reject bound >= 1.
    X, y, A = make_synthetic(n=600)
    logit_gap = Constraint(Statistic("mean_logit", Quantity("logit", raw_logit)))
    clf = SSLALMClassifier(constraint=logit_gap, bound=1.5, **FAST).fit(
        X, y, sensitive_features=A
    )
    z = clf.decision_function(X)
    gap = abs(z[A == "a"].mean() - z[A == "b"].mean())
    assert hard_report(clf, X, y, A)["mean_logit_difference"] == pytest.approx(
        gap, rel=1e-5
    )
    with pytest.raises(ValueError, match="vacuous"):
        make_constraints("demographic_parity", 1.5)


def test_custom_quantity_cannot_shadow_a_taken_name():
    # Training computes "loss" as the BCE: a custom quantity under that name (or
    # two different quantities under one name) would silently be replaced.
    mass = np.array([[10.0, 5.0], [8.0, 3.0]])
    tanh = Quantity("loss", lambda logits, y: torch.tanh(logits))
    with pytest.raises(ValueError, match="name already taken"):
        compile_constraints(
            make_constraints(Constraint(Statistic("t", tanh)), 0.1), mass, list("ab")
        )
    other = Quantity("score", mean_probability)
    with pytest.raises(ValueError, match="name already taken"):
        compile_constraints(
            make_constraints(
                ["demographic_parity", Constraint(Statistic("p", other))], 0.1
            ),
            mass,
            list("ab"),
        )


def test_grid_search_over_constraint_and_bound():
    X, y, A = make_synthetic(n=600, groups=("a", "b", "c"))
    fitted = []

    class Spy(SSLALMClassifier):
        def fit(self, X, y, sensitive_features=None, sample_weight=None):
            super().fit(X, y, sensitive_features, sample_weight)
            fitted.append([(c.name, c.kind, c.bound) for c in self.constraints_])
            return self

    ratio = Constraint("positive_rate", bound=0.7, kind="ratio", name="pr_ratio")
    grid = {
        "constraint": ["demographic_parity", "equalized_odds", ratio],
        "bound": [0.02, 0.2],
    }
    search = GridSearchCV(Spy(**{**FAST, "max_epochs": 2}), grid, cv=StratifiedKFold(2))
    search.fit(X, y, sensitive_features=A)
    params = search.cv_results_["params"]
    assert len(params) == 6
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    seen = {tuple(f) for f in fitted}
    for p in params:
        con = p["constraint"]
        if isinstance(con, str):
            assert ((con, "difference", p["bound"]),) in seen
        else:  # its own bound wins over the estimator's
            assert (("pr_ratio", "ratio", 0.7),) in seen
    best = search.best_estimator_
    assert best.bound == search.best_params_["bound"]
    assert len(fitted) == 6 * 2 + 1


# -- minibatch estimates --------------------------------------------------------------


def tiny_group_problem(weighted: bool):
    """A FairProblem whose group ``c`` has 4 rows, one of them positive."""
    rng = np.random.default_rng(0)
    n = 904
    A = np.array(["a"] * 600 + ["b"] * 300 + ["c"] * 4)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * (A == "a") > 0.2).astype(float)
    y[-4:] = [1, 0, 0, 0]
    w = rng.uniform(0.2, 3.0, size=n) if weighted else None
    codes = GroupEncoder().fit_transform(A)
    mass = np.zeros((3, 2))
    np.add.at(mass, (codes, y.astype(int)), 1.0 if w is None else w)
    names = ["demographic_parity", "equalized_odds", "loss_gap", "error_rate_parity"]
    compiled = compile_constraints(make_constraints(names, 0.05), mass, list("abc"))
    data = TrainingData(X, y, codes, w, compiled, 64, "cpu")
    torch.manual_seed(0)
    module = MLP(3, (16,))
    return FairProblem(module, data, torch.Generator().manual_seed(0))


def assert_unbiased(draws: torch.Tensor, full: np.ndarray):
    """The mean of independent draws is within 5 standard errors of ``full``."""
    draws = draws.double().numpy()
    assert np.isfinite(draws).all()
    se = draws.std(axis=0) / np.sqrt(len(draws))
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - full), 5 * se + 1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_minibatch_estimates_are_unbiased_with_a_tiny_group(weighted):
    problem = tiny_group_problem(weighted)
    with torch.no_grad():
        full = problem.evaluate()["constraints"]
        # The rows every draw reads include the tiny group's cells: no batch misses
        # a group, so no estimate is undefined (or a silent placeholder).
        sampler = problem.data.sampler
        rows = sampler.sample(torch.Generator().manual_seed(2), 200).view(200, -1)
        for cell, (g, label) in enumerate(problem.data.compiled.cells):
            k = sampler.k
            block = rows[:, cell * k : (cell + 1) * k]
            assert (problem.data.groups[block] == int(g)).all()
            assert (problem.data.y[block] == float(label)).all()
        # Many independent samples at once ...
        batch = problem.gather(torch.arange(0), 3000)
        assert_unbiased(problem.losses(problem.forward(batch.rows_X), batch)[1], full)
        # ... and the gathered batches that training steps on.
        draws = []
        for _ in range(60):
            for batch in problem.batches(64, n_draws=2):
                terms = problem.terms(problem.forward(batch.rows_X), batch)
                draws.append(terms[1:].view(2, -1))
        assert_unbiased(torch.cat(draws), full)


def test_group_without_positives_is_left_out_end_to_end():
    X, y, A = make_synthetic(n=900, groups=("a", "b", "c"))
    y = np.where(A == "c", 0, y)  # group c: negatives only, so no TPR
    with pytest.warns(UserWarning, match="'c' has no samples with label 1"):
        clf = SSLALMClassifier(constraint="equalized_odds", bound=0.1, **FAST).fit(
            X, y, sensitive_features=A
        )
    tpr_rows = [n for n in clf.constraint_names_ if "true_positive_rate" in n]
    fpr_rows = [n for n in clf.constraint_names_ if "false_positive_rate" in n]
    assert not any("[c]" in n for n in tpr_rows) and len(tpr_rows) == 4
    assert sum("[c]" in n for n in fpr_rows) == 2 and len(fpr_rows) == 6
    history = np.array([h["constraints"] for h in clf.history_])
    assert np.isfinite(history).all()
    rep = clf.feasibility_report(X, y, A, n_boot=20, random_state=0)
    assert np.isfinite(rep[["value", "ci_low", "ci_high"]].to_numpy()).all()
    # By hand: TPR over groups a and b (c has none), FPR over all three, each
    # against the population's rate, as fairlearn's to_overall.
    pred = clf.predict(X)
    gaps = []
    for label, groups in ((1, "ab"), (0, "abc")):
        rows = y == label
        overall = pred[rows].mean()
        gaps += [abs(pred[rows & (A == g)].mean() - overall) for g in groups]
    assert rep.loc[0, "value"] == pytest.approx(max(gaps))
    # An unconditional statistic keeps the group, without a warning about it
    # (the short fit may predict one class: that ConvergenceWarning is not it).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        dp = SSLALMClassifier(constraint="demographic_parity", bound=0.1, **FAST)
        dp.fit(X, y, sensitive_features=A)
    assert sum("[c]" in n for n in dp.constraint_names_) == 2


# -- fairlearn's moments as constraints ----------------------------------------------
FAIRLEARN_EQUIVALENTS = [
    ("DemographicParity", {"difference_bound": 0.05}, "demographic_parity", 0.05),
    ("DemographicParity", {"ratio_bound": 0.8}, "demographic_parity_ratio", 0.8),
    ("EqualizedOdds", {"difference_bound": 0.1}, "equalized_odds", 0.1),
    ("TruePositiveRateParity", {"difference_bound": 0.1}, "equal_opportunity", 0.1),
    ("FalsePositiveRateParity", {"ratio_bound": 0.7}, "false_positive_rate_ratio", 0.7),
    ("ErrorRateParity", {"difference_bound": 0.05}, "error_rate_parity", 0.05),
]


@pytest.mark.parametrize("moment, kwargs, name, bound", FAIRLEARN_EQUIVALENTS)
def test_a_fairlearn_moment_fits_the_same_model_as_its_name(
    moment, kwargs, name, bound
):
    from fairlearn import reductions

    X, y, A = make_synthetic(n=600, groups=("a", "b", "c"))
    by_moment = SSLALMClassifier(
        constraint=getattr(reductions, moment)(**kwargs), bound=0.3, **FAST
    ).fit(X, y, sensitive_features=A)
    # fairlearn compares each group with the overall statistic: one_vs_mean.
    by_name = SSLALMClassifier(
        constraint=name, bound=bound, pairing="one_vs_mean", **FAST
    ).fit(X, y, sensitive_features=A)
    assert by_moment.constraint_names_ == by_name.constraint_names_
    np.testing.assert_array_equal(by_moment.predict_proba(X), by_name.predict_proba(X))


def test_bounded_group_loss_is_a_bound_on_each_groups_error_rate():
    from fairlearn.reductions import BoundedGroupLoss, SquareLoss, ZeroOneLoss

    X, y, A = make_synthetic(n=400)
    clf = SSLALMClassifier(
        constraint=BoundedGroupLoss(ZeroOneLoss(), upper_bound=0.3), **FAST
    ).fit(X, y, sensitive_features=A)
    assert clf.constraints_[0].name == "bounded_group_error"
    assert clf.constraints_[0].bound == 0.3 and clf.constraints_[0].kind == "upper"
    with pytest.raises(
        ValueError, match=r"BoundedGroupLoss\(SquareLoss\) has no fairsk"
    ):
        SSLALMClassifier(
            constraint=BoundedGroupLoss(SquareLoss(0, 1), upper_bound=0.3), **FAST
        ).fit(X, y, sensitive_features=A)


def test_a_ratio_moment_with_slack_is_refused():
    from fairlearn.reductions import DemographicParity

    X, y, A = make_synthetic(n=400)
    moment = DemographicParity(ratio_bound=0.8, ratio_bound_slack=0.01)
    with pytest.raises(ValueError, match="ratio_bound_slack"):
        SSLALMClassifier(constraint=moment, **FAST).fit(X, y, sensitive_features=A)
