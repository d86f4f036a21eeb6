"""Determinism: one ``random_state``, one model, to the last bit, on CPU.

- Two fits of any classifier with the same ``random_state`` (an int, or a fresh
  ``RandomState`` seeded alike) give bit-identical ``predict_proba`` and the same
  ``history_`` (every recorded value but the wall-clock ``dur``); another seed
  gives another model, so the check is not vacuous.
- A row's prediction does not depend on the rows predicted with it: the same
  label, and a logit equal to float64 rounding (inference runs in float64).
- ``GridSearchCV`` gives bit-identical ``cv_results_`` scores, the same best
  candidate and a bit-identical refitted ``best_estimator_`` whether it runs in
  one process (``n_jobs=1``) or in two workers (``n_jobs=2``), with
  ``sensitive_features`` routed by metadata routing (to the estimator and to a
  fairness scorer) and by the legacy fit-parameter slicing.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from fairsk import SSLALMClassifier, StochasticGhostClassifier
from fairsk.scorers import loss_gap_scorer

from ..common import CLASSIFIERS, TINY, make_synthetic

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: Three groups, a constraint with several rows (TPR and FPR of each group).
PARAMS = {**TINY, "constraint": "equalized_odds", "bound": 0.1}


@pytest.fixture(scope="module")
def synthetic_3_groups():
    return make_synthetic(n=240, seed=1, groups=("a", "b", "c"), p=[0.5, 0.3, 0.2])


def _history(clf) -> list[dict]:
    """Every recorded value of every epoch, but the wall-clock duration."""
    return [
        {k: v for k, v in row.items() if k not in ("dur", "batches")}
        for row in clf.history_
    ]


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_same_seed_same_model(cls, synthetic_3_groups):
    X, y, A = synthetic_3_groups
    first = cls(**PARAMS).fit(X, y, sensitive_features=A)
    second = cls(**PARAMS).fit(X, y, sensitive_features=A)
    p1, p2 = first.predict_proba(X), second.predict_proba(X)
    assert p1.tobytes() == p2.tobytes()  # bit-identical, NaN-safe
    assert _history(first) == _history(second)
    # A clone of a fitted estimator refits to the same model as well.
    again = clone(first).fit(X, y, sensitive_features=A)
    assert again.predict_proba(X).tobytes() == p1.tobytes()
    # Another seed: another initialisation and other minibatches.
    other = cls(**{**PARAMS, "random_state": 1}).fit(X, y, sensitive_features=A)
    assert not np.array_equal(other.predict_proba(X), p1)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_random_state_instances_seeded_alike(cls, synthetic_3_groups):
    X, y, A = synthetic_3_groups
    fits = [
        cls(**{**PARAMS, "random_state": np.random.RandomState(7)}).fit(
            X, y, sensitive_features=A
        )
        for _ in range(2)
    ]
    assert fits[0].predict_proba(X).tobytes() == fits[1].predict_proba(X).tobytes()


def test_prediction_of_a_row_does_not_depend_on_the_others(synthetic_3_groups):
    X, y, A = synthetic_3_groups
    clf = SSLALMClassifier(**PARAMS).fit(X, y, sensitive_features=A)
    whole, labels = clf.decision_function(X), clf.predict(X)
    # One row at a time, in chunks, shuffled: the same decisions, and logits
    # within float64 rounding (a single row takes another BLAS kernel than a
    # batch, so the last bit may differ; float32 would differ by ~1e-7).
    for size in (1, 7, len(X)):
        parts = range(0, len(X), size)
        logits = np.concatenate([clf.decision_function(X[i : i + size]) for i in parts])
        np.testing.assert_allclose(logits, whole, rtol=0, atol=1e-12)
        pred = np.concatenate([clf.predict(X[i : i + size]) for i in parts])
        np.testing.assert_array_equal(pred, labels)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(
        clf.decision_function(X[order]), whole[order], atol=1e-12
    )
    np.testing.assert_array_equal(clf.predict(X[order]), labels[order])


GRID = {"bound": [0.02, 0.1], "lr": [0.05, 0.2]}


def _search(cls, n_jobs, X, y, A, routing: bool):
    scoring = {"accuracy": "accuracy"}
    if routing:  # a scorer that needs the groups: only metadata routing passes them
        scoring["fairness"] = loss_gap_scorer
    search = GridSearchCV(
        cls(**TINY),
        GRID,
        scoring=scoring,
        refit="accuracy",
        cv=StratifiedKFold(3),
        n_jobs=n_jobs,
    )
    with sklearn.config_context(enable_metadata_routing=routing):
        return search.fit(X, y, sensitive_features=A)


@pytest.mark.parametrize("routing", [True, False], ids=["routing_on", "routing_off"])
@pytest.mark.parametrize(
    "cls", [SSLALMClassifier, StochasticGhostClassifier], ids=lambda c: c.__name__
)
def test_grid_search_is_the_same_in_one_or_two_processes(
    cls, routing, synthetic_3_groups
):
    X, y, A = synthetic_3_groups
    serial = _search(cls, 1, X, y, A, routing)
    parallel = _search(cls, 2, X, y, A, routing)
    res1, res2 = serial.cv_results_, parallel.cv_results_
    assert res1["params"] == res2["params"]
    assert len(res1["params"]) == 4
    scores = [k for k in res1 if k.startswith(("mean_test_", "split", "rank_test_"))]
    assert "mean_test_accuracy" in scores
    assert routing == ("mean_test_fairness" in scores)
    for key in scores:
        assert np.asarray(res1[key]).tobytes() == np.asarray(res2[key]).tobytes(), key
    assert np.isfinite(res1["mean_test_accuracy"]).all()
    if routing:  # the groups reached the scorer: finite negated gaps
        assert np.isfinite(res1["mean_test_fairness"]).all()
        assert (res1["mean_test_fairness"] <= 0).all()
    assert serial.best_params_ == parallel.best_params_
    best1, best2 = serial.best_estimator_, parallel.best_estimator_
    assert best1.predict_proba(X).tobytes() == best2.predict_proba(X).tobytes()
    assert best1.groups_ == best2.groups_ == ["a", "b", "c"]
    if routing:  # the candidates are different models, not one repeated
        assert len(set(res1["mean_test_fairness"].tolist())) > 1
