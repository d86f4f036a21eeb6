"""Behaviour of the core classifiers: inputs, labels, groups, weights, warm start.

Seeds and pickles of every classifier: tests/reliability (determinism, pickle).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from fairsk import SSLALMClassifier, UnconstrainedClassifier

from .common import CLASSIFIERS, make_synthetic

FAST = {"max_epochs": 4, "batch_size": 32, "random_state": 0}


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_fit_predict_contract(cls, synthetic):
    X, y, A = synthetic
    clf = cls(**FAST).fit(X, y, sensitive_features=A)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    scores = clf.decision_function(X)
    np.testing.assert_array_equal(clf.predict(X), (scores > 0).astype(int))
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-scores)))
    assert clf.n_features_in_ == 3 and clf.n_iter_ == 4
    assert 0.6 < clf.score(X, y) <= 1.0
    hist = clf.history_
    assert len(hist) == 4
    for key in ("epoch", "dur", "train_loss", "objective", "loss_gap", "max_violation"):
        assert key in hist[-1], key
    if cls is not UnconstrainedClassifier:
        assert len(hist[-1, "constraints"]) == len(clf.constraint_names_) == 2


def test_string_labels_and_inputs(synthetic):
    X, y, A = synthetic
    labels = np.where(y == 1, "high", "low")
    frame = pd.DataFrame(X.astype(np.float32), columns=["a", "b", "c"])
    clf = SSLALMClassifier(**FAST).fit(frame, labels, sensitive_features=pd.Series(A))
    assert clf.classes_.tolist() == ["high", "low"]
    assert clf.feature_names_in_.tolist() == ["a", "b", "c"]
    # classes_[1] is the positive class of decision_function / predict_proba[:, 1].
    pred = clf.predict(frame)
    assert set(pred) <= {"high", "low"}
    np.testing.assert_array_equal(pred == "low", clf.decision_function(frame) > 0)
    same = SSLALMClassifier(**FAST).fit(X, labels, sensitive_features=A)
    np.testing.assert_allclose(
        same.predict_proba(X), clf.predict_proba(frame), atol=1e-6
    )
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"a": "z"}))
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])


def test_sensitive_feature_types(synthetic):
    X, y, A = synthetic
    codes = (A == "a").astype(int)
    by_int = SSLALMClassifier(**FAST).fit(X, y, sensitive_features=codes)
    by_bool = SSLALMClassifier(**FAST).fit(X, y, sensitive_features=codes.astype(bool))
    by_cat = SSLALMClassifier(**FAST).fit(
        X, y, sensitive_features=pd.Series(A, dtype="category")
    )
    assert by_int.groups_ == [0, 1] and by_bool.groups_ == [False, True]
    assert by_cat.groups_ == ["a", "b"]
    # The same partition trains the same model whatever the labels' type.
    np.testing.assert_array_equal(by_int.predict(X), by_bool.predict(X))
    _, _, second = make_synthetic(seed=1, groups=("u", "v"))  # drawn apart from A
    both = SSLALMClassifier(**FAST).fit(
        X, y, sensitive_features=np.column_stack([A, second])
    )
    assert len(both.groups_) == 4 and all(isinstance(g, tuple) for g in both.groups_)
    assert len(both.constraint_names_) == 8  # 4 groups, one_vs_mean, 2 rows each


def test_errors_say_what_to_do(synthetic):
    X, y, A = synthetic
    with pytest.raises(ValueError, match="sensitive_features=A"):
        SSLALMClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="single group"):
        SSLALMClassifier(**FAST).fit(X, y, sensitive_features=np.zeros(len(y)))
    with pytest.raises(ValueError, match="Only binary classification"):
        SSLALMClassifier(**FAST).fit(X, np.arange(len(y)) % 3, sensitive_features=A)
    with pytest.raises(ValueError, match="only one class"):
        SSLALMClassifier(**FAST).fit(X, np.ones(len(y)), sensitive_features=A)
    with pytest.raises(ValueError, match="rows but X has"):
        SSLALMClassifier(**FAST).fit(X, y, sensitive_features=A[:-1])
    with pytest.raises(ValueError, match="missing values"):
        SSLALMClassifier(**FAST).fit(
            X, y, sensitive_features=np.where(A == "a", None, A)
        )
    with pytest.raises(ValueError, match=r"'constraint' parameter .* Got 'nope'"):
        SSLALMClassifier(constraint="nope").fit(X, y, sensitive_features=A)
    with pytest.raises(ValueError, match="bound"):
        SSLALMClassifier(constraint="demographic_parity", bound=1.5).fit(
            X, y, sensitive_features=A
        )


def test_unconstrained_needs_no_groups_and_monitors_them(synthetic):
    X, y, A = synthetic
    plain = UnconstrainedClassifier(**FAST).fit(X, y)
    assert "loss_gap" not in plain.history_[-1]
    monitored = UnconstrainedClassifier(**FAST).fit(X, y, sensitive_features=A)
    # Monitoring does not change training: same draws, same model.
    np.testing.assert_array_equal(plain.predict_proba(X), monitored.predict_proba(X))
    assert monitored.history_[-1, "loss_gap"] >= 0


def test_min_group_size_merges_with_warning(synthetic):
    X, y, A = synthetic
    A = A.astype(object)
    A[:5] = "tiny"
    with pytest.warns(UserWarning, match="'tiny' \\(5 samples\\)"):
        clf = SSLALMClassifier(min_group_size=10, **FAST).fit(
            X, y, sensitive_features=A
        )
    assert "tiny" not in clf.groups_ and "other" in clf.groups_


def test_warm_start_continues(synthetic):
    X, y, A = synthetic
    clf = SSLALMClassifier(warm_start=True, **FAST).fit(X, y, sensitive_features=A)
    multipliers = clf.history_[-1, "multipliers"]
    net = clf.net_
    clf.set_params(max_epochs=2)
    clf.fit(X, y, sensitive_features=A)
    assert clf.net_ is net and len(clf.history_) == 6 and clf.n_iter_ == 6
    assert clf.history_[3, "multipliers"] == multipliers
    cold = SSLALMClassifier(**FAST).fit(X, y, sensitive_features=A)
    cold.fit(X, y, sensitive_features=A)
    assert len(cold.history_) == 4
    with pytest.raises(ValueError, match="classes"):
        clf.fit(X, np.where(y == 1, "a", "b"), sensitive_features=A)


def test_sample_weight(synthetic):
    X, y, A = synthetic
    ones = SSLALMClassifier(**FAST).fit(
        X, y, sensitive_features=A, sample_weight=np.ones(len(y))
    )
    plain = SSLALMClassifier(**FAST).fit(X, y, sensitive_features=A)
    np.testing.assert_allclose(ones.predict_proba(X), plain.predict_proba(X), atol=1e-6)
    w = np.where(A == "b", 5.0, 1.0)
    weighted = SSLALMClassifier(**FAST).fit(X, y, sensitive_features=A, sample_weight=w)
    assert not np.allclose(weighted.predict_proba(X), plain.predict_proba(X))
    with pytest.raises(ValueError, match="Negative values"):
        SSLALMClassifier(**FAST).fit(X, y, sensitive_features=A, sample_weight=-w)


def test_constrained_training_reduces_the_gap():
    # A small group whose labels the network (blind to the group) fits worse.
    X, y, A = make_synthetic(p=[0.8, 0.2])
    kw = {**FAST, "max_epochs": 30}
    free = UnconstrainedClassifier(**kw).fit(X, y, sensitive_features=A)
    fair = SSLALMClassifier(bound=0.01, **kw).fit(X, y, sensitive_features=A)
    assert free.history_[-1, "loss_gap"] > 0.05
    assert fair.history_[-1, "avg_loss_gap"] < free.history_[-1, "loss_gap"] / 2


def test_verbose_prints_a_table(synthetic, capsys):
    X, y, A = synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Four epochs do not reach the bound: that warning is not the printer's.
        warnings.simplefilter("ignore", ConvergenceWarning)
        SSLALMClassifier(verbose=1, **FAST).fit(X, y, sensitive_features=A)
    out = capsys.readouterr().out
    assert "train_loss" in out and "loss_gap" in out and out.count("\n") >= 6


def test_validation_history_matches_the_validation_report():
    # Three groups in unequal label mixes: valid_* must use the validation rows'
    # own proportions, as feasibility_report (and fairlearn) does.
    X, y, A = make_synthetic(n=3000, groups=("a", "b", "c"), p=[0.6, 0.3, 0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = SSLALMClassifier(
            constraint="equalized_odds",
            bound=0.05,
            validation_fraction=0.3,
            **FAST,
        ).fit(X, y, sensitive_features=A)
    report = clf.validation_report_.set_index("constraint")
    last = clf.history_[-1]
    assert last["valid_equalized_odds"] == pytest.approx(
        report.loc["equalized_odds", "value"], abs=1e-6
    )
