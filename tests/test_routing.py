"""Pipelines, grid searches over bounds, fairness scorers and the refit helper."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.model_selection import feasible_refit
from fairsk.scorers import SCORERS, loss_gap_scorer, make_fairness_scorer

from .common import CLASSIFIERS, TINY, make_synthetic

FAST = {"max_epochs": 3, "batch_size": 32, "random_state": 0}


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def test_sensitive_features_requested_by_default(routing):
    request = SSLALMClassifier().get_metadata_routing()
    assert request.fit.requests["sensitive_features"] is True
    assert request.fit.requests["sample_weight"] is None  # sklearn's default


def test_pipeline_routing_on(synthetic, routing):
    X, y, A = synthetic
    pipe = make_pipeline(StandardScaler(), SSLALMClassifier(**FAST))
    pipe.fit(X, y, sensitive_features=A)
    assert pipe[-1].groups_ == ["a", "b"]


def test_pipeline_routing_off(synthetic):
    X, y, A = synthetic
    pipe = make_pipeline(StandardScaler(), SSLALMClassifier(**FAST))
    pipe.fit(X, y, sslalmclassifier__sensitive_features=A)
    assert pipe[-1].groups_ == ["a", "b"]
    with pytest.raises(ValueError, match="sensitive_features=A"):
        make_pipeline(StandardScaler(), SSLALMClassifier(**FAST)).fit(X, y)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_every_classifier_in_a_grid_searched_pipeline(cls, synthetic, routing):
    X, y, A = synthetic
    pipe = make_pipeline(StandardScaler(), cls(**TINY))
    step = pipe.steps[-1][0]
    search = GridSearchCV(pipe, {f"{step}__lr": [0.02, 0.05]}, cv=StratifiedKFold(2))
    search.fit(X, y, sensitive_features=A)
    assert search.best_params_[f"{step}__lr"] in (0.02, 0.05)
    assert search.best_estimator_[-1].groups_ == ["a", "b"]  # the groups arrived


def test_grid_search_over_bound_routing_on(synthetic, routing):
    X, y, A = synthetic
    pipe = make_pipeline(StandardScaler(), SSLALMClassifier(**FAST))
    search = GridSearchCV(
        pipe,
        {"sslalmclassifier__bound": [0.01, 0.05, 0.2]},
        scoring={"accuracy": "accuracy", "fairness": loss_gap_scorer},
        refit=feasible_refit(),
        cv=StratifiedKFold(3),
    )
    search.fit(X, y, sensitive_features=A)
    res = search.cv_results_
    assert len(res["params"]) == 3
    # The fairness scorer received the groups: finite negated loss gaps.
    assert np.all(np.isfinite(res["mean_test_fairness"]))
    assert np.all(res["mean_test_fairness"] <= 0)
    chosen = search.best_index_
    ok = -res["mean_test_fairness"] <= np.array([0.01, 0.05, 0.2])
    if ok.any():
        assert ok[chosen]
        assert res["mean_test_accuracy"][chosen] == res["mean_test_accuracy"][ok].max()
    assert (
        search.best_estimator_[-1].bound
        == res["params"][chosen]["sslalmclassifier__bound"]
    )


def test_grid_search_routing_off_splits_sensitive_features(synthetic):
    X, y, A = synthetic
    seen = []

    class Spy(SSLALMClassifier):
        def fit(self, X, y, sensitive_features=None, sample_weight=None):
            seen.append((len(X), len(sensitive_features)))
            return super().fit(X, y, sensitive_features, sample_weight)

    search = GridSearchCV(Spy(**FAST), {"bound": [0.01, 0.1]}, cv=StratifiedKFold(3))
    search.fit(X, y, sensitive_features=A)
    # Each fold's sensitive features are split with X (legacy fit-param slicing).
    assert all(nx == ns for nx, ns in seen) and len(seen) == 2 * 3 + 1
    assert sorted({nx for nx, _ in seen}) == [len(X) * 2 // 3, len(X)]


def test_fairness_scorers_need_and_use_groups(synthetic, routing):
    X, y, A = synthetic
    clf = UnconstrainedClassifier(**FAST)
    for name, scorer in SCORERS.items():
        out = cross_validate(
            clf, X, y, scoring={"f": scorer}, params={"sensitive_features": A}, cv=3
        )
        assert np.all(out["test_f"] <= 0) and np.all(np.isfinite(out["test_f"])), name


def test_scorer_values_match_fairlearn(routing):
    from fairlearn.metrics import demographic_parity_difference

    # The network sees the group: its predictions differ by group.
    X, y, A = make_synthetic(group_feature=True)
    labels = np.where(y == 1, "yes", "no")  # string labels: positive is "yes"
    clf = UnconstrainedClassifier(**{**FAST, "max_epochs": 15, "lr": 0.2}).fit(
        X, labels
    )
    scorer = make_fairness_scorer("demographic_parity_difference")
    expected = demographic_parity_difference(
        y, (clf.predict(X) == "yes").astype(int), sensitive_features=A
    )
    assert expected > 0.01  # the check below is not trivially 0 == 0
    assert scorer(clf, X, labels, sensitive_features=A) == pytest.approx(-expected)


def test_feasible_refit_falls_back_with_warning():
    cv_results = {
        "mean_test_accuracy": np.array([0.8, 0.7]),
        "mean_test_fairness": np.array([-0.3, -0.2]),
        "params": [{"clf__bound": 0.05}, {"clf__bound": 0.1}],
    }
    with pytest.warns(UserWarning, match="least violating one"):
        assert feasible_refit()(cv_results) == 1
    with pytest.raises(ValueError, match="which parameter is the bound"):
        feasible_refit()({**cv_results, "params": [{"a": 1}, {"b": 2}]})
    assert feasible_refit(bound=0.5)(cv_results) == 0
