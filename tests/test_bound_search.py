"""BoundSearchCV: GridSearchCV over bounds, its fits trained as one."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fairsk import SSLALMClassifier
from fairsk.model_selection import BoundSearchCV, feasible_refit
from fairsk.scorers import loss_gap_scorer

from .common import TINY, make_synthetic

BOUNDS = [0.02, 0.1, 0.3]


@pytest.fixture
def data():
    return make_synthetic(300)


def _same_scores(ours, grid, key, n_test):
    """Equal scores up to one held-out row whose probability sits within float
    rounding of 0.5 (the batched products sum in another order)."""
    np.testing.assert_allclose(
        ours.cv_results_[key], grid.cv_results_[key], rtol=0, atol=1.01 / n_test
    )


def _same_choice(ours, grid, key="mean_test_score", n_test=100):
    """GridSearchCV scores our choice as its own best (up to one row)."""
    assert grid.cv_results_[key][ours.best_index_] >= grid.cv_results_[key].max() - (
        1.01 / n_test
    )


def test_equals_grid_search_with_the_same_selection(data):
    X, y, A = data
    clf = SSLALMClassifier(**TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = BoundSearchCV(clf, BOUNDS, cv=3).fit(X, y, sensitive_features=A)
        grid = GridSearchCV(clf, {"bound": BOUNDS}, cv=3).fit(
            X, y, sensitive_features=A
        )
    for key in ["params", "rank_test_score"] + [
        f"split{i}_test_score" for i in range(3)
    ]:
        np.testing.assert_array_equal(
            np.asarray(ours.cv_results_[key]), np.asarray(grid.cv_results_[key])
        )
    assert list(ours.cv_results_["param_bound"]) == list(
        grid.cv_results_["param_bound"]
    )
    assert ours.best_params_ == grid.best_params_
    assert ours.best_score_ == grid.best_score_
    np.testing.assert_allclose(ours.predict_proba(X), grid.predict_proba(X), atol=1e-6)
    assert ours.n_splits_ == 3 and ours.classes_.tolist() == [0, 1]
    assert clone(ours).get_params()["bounds"] == BOUNDS


def test_routing_fairness_scorer_and_feasible_refit(data):
    X, y, A = data
    scoring = {"accuracy": "accuracy", "fairness": loss_gap_scorer}
    with (
        sklearn.config_context(enable_metadata_routing=True),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        search = BoundSearchCV(
            SSLALMClassifier(**TINY),
            BOUNDS,
            cv=3,
            scoring=scoring,
            refit=feasible_refit(fairness="fairness", score="accuracy"),
        ).fit(X, y, sensitive_features=A)
        grid = GridSearchCV(
            SSLALMClassifier(**TINY),
            {"bound": BOUNDS},
            cv=3,
            scoring=scoring,
            refit=feasible_refit(fairness="fairness", score="accuracy"),
        ).fit(X, y, sensitive_features=A)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_fairness"],
        grid.cv_results_["mean_test_fairness"],
        atol=1e-5,
    )
    assert search.best_index_ == feasible_refit("fairness")(search.cv_results_)
    front = search.frontier_
    assert front["bound"].tolist() == BOUNDS
    assert {"accuracy", "accuracy_ci_low", "loss_gap", "loss_gap_ci_high"} <= set(
        front.columns
    )
    assert (front["loss_gap_ci_low"] <= front["loss_gap"]).all()
    np.testing.assert_allclose(
        front["accuracy"], search.cv_results_["mean_test_accuracy"], atol=1e-12
    )


def test_a_pipeline_fits_its_other_steps_on_each_fold(data):
    X, y, A = data
    pipe = make_pipeline(StandardScaler(), SSLALMClassifier(**TINY))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = BoundSearchCV(pipe, BOUNDS[:2], cv=3).fit(
            X * 10 + 3, y, sslalmclassifier__sensitive_features=A
        )
        grid = GridSearchCV(pipe, {"sslalmclassifier__bound": BOUNDS[:2]}, cv=3).fit(
            X * 10 + 3, y, sslalmclassifier__sensitive_features=A
        )
    _same_scores(ours, grid, "mean_test_score", 100)
    _same_choice(ours, grid)


def test_bad_input_and_failed_fits(data):
    X, y, A = data
    with pytest.raises(ValueError, match="bounds is empty"):
        BoundSearchCV(SSLALMClassifier(**TINY), []).fit(X, y, sensitive_features=A)
    with pytest.raises(ValueError, match="has none"):
        BoundSearchCV(StandardScaler(), [0.1]).fit(X, y)
    with pytest.raises(ValueError, match="sensitive_features"):  # error_score="raise"
        BoundSearchCV(SSLALMClassifier(**TINY), [0.1], error_score="raise").fit(X, y)
    with pytest.warns(FitFailedWarning, match="3 of the 3 fits failed"):
        search = BoundSearchCV(SSLALMClassifier(**TINY), [0.1], cv=3, refit=False)
        search.fit(X, y)
    assert np.isnan(search.cv_results_["mean_test_score"]).all()
