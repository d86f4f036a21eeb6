"""Problems a user would want told, not left to find out (issue 17, item 11).

- A group too small to estimate its constraint (a few rows among hundreds)
  gets a :class:`fairsk.exceptions.SmallGroupWarning` with its size and what to
  do.
- A fitted classifier that predicts one class for all its training rows gets a
  ConvergenceWarning (3 epochs at a small step on 3,000 rows predicted no
  positive at all, silently).
- fairsk's fairness scorers without the groups (metadata routing off) raise
  :class:`fairsk.exceptions.MissingSensitiveFeaturesError`, which scikit-learn's
  searches do not turn into a NaN score: a grid search no longer "picks" the
  first of all-NaN candidates.
- Sparse input is densified with a DataConversionWarning once per fit and once
  for the predictions after it, not on every ``predict``.
- ``device="gpu"`` (not a torch device) is a ValueError that says which
  devices exist, not torch's raw RuntimeError.
- ``TabularEncoder`` standardises a finite 1e300 (its square overflowed
  float64 and the column became NaN, which the classifier then blamed on the
  data), and names the output columns of a frame with integer column names.
- Resuming from a checkpoint missing ``params.pt`` or ``algorithm.pt`` (while
  its history is there) is a ValueError naming the missing files, instead of a
  silent resume to a different model; an empty folder still starts afresh.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from skorch.callbacks import LoadInitState

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.datasets import TabularEncoder
from fairsk.exceptions import MissingSensitiveFeaturesError, SmallGroupWarning
from fairsk.scorers import SCORERS, loss_gap_scorer

from ..common import TINY, StopAtEpochEnd, checkpoint, make_synthetic


# -- small groups ---------------------------------------------------------------------
def test_a_tiny_group_is_named_with_its_size(synthetic_400):
    X, y, A = synthetic_400
    A = A.copy()
    A[:2] = "tiny"
    with pytest.warns(
        SmallGroupWarning,
        match=r"Group 'tiny' is too small .*: 2 training samples of 400 .*"
        r"min_group_size",
    ):
        clf = SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A)
    assert clf.groups_ == ["a", "b", "tiny"]  # kept, as documented


def test_a_cell_too_small_for_a_conditional_rate(synthetic_400):
    # A big group with 3 positives: its true-positive rate rests on 3 rows.
    X, y, A = synthetic_400
    y = y.copy()
    b_pos = np.flatnonzero((A == "b") & (y == 1))
    y[b_pos[3:]] = 0
    with pytest.warns(SmallGroupWarning, match=r"Group 'b' .*\(3 with label 1;"):
        SSLALMClassifier(**TINY, constraint="equal_opportunity", bound=0.1).fit(
            X, y, sensitive_features=A
        )


def test_groups_of_ordinary_size_warn_nothing(synthetic_400):
    X, y, A = synthetic_400
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallGroupWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A)


# -- a single class predicted ------------------------------------------------------
def test_predicting_one_class_on_the_training_data_warns():
    X, _, A = make_synthetic(n=3000)
    y = (X[:, 0] > 1.0).astype(int)  # 16% positives: a slow start predicts none
    clf = SSLALMClassifier(max_epochs=3, lr=0.001, random_state=0)
    with pytest.warns(
        ConvergenceWarning,
        match=r"predicts class 0 for all 3000 training samples",
    ):
        clf.fit(X, y, sensitive_features=A)
    assert clf.predict(X).sum() == 0  # what the warning says


def test_a_classifier_predicting_both_classes_does_not_warn(synthetic_400):
    X, y, A = synthetic_400
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = UnconstrainedClassifier(**{**TINY, "max_epochs": 10, "lr": 0.2})
        clf.fit(X, y, sensitive_features=A)
    assert len(set(clf.predict(X))) == 2


# -- scorers without groups --------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SCORERS))
def test_a_fairness_scorer_without_groups_fails_loudly(name, synthetic_400):
    X, y, A = synthetic_400
    search = GridSearchCV(
        SSLALMClassifier(**TINY), {"bound": [0.02, 0.1]}, scoring=SCORERS[name], cv=2
    )
    with (
        sklearn.config_context(enable_metadata_routing=False),
        pytest.raises(MissingSensitiveFeaturesError, match="enable_metadata_routing"),
    ):
        search.fit(X, y, sensitive_features=A)


def test_cross_validate_without_groups_fails_loudly(synthetic_400):
    X, y, A = synthetic_400
    with pytest.raises(MissingSensitiveFeaturesError, match="sensitive_features"):
        cross_validate(
            SSLALMClassifier(**TINY),
            X,
            y,
            scoring=loss_gap_scorer,
            cv=2,
            params={"sensitive_features": A},
        )


def test_the_scorers_work_with_routing(synthetic_400):
    X, y, A = synthetic_400
    search = GridSearchCV(
        SSLALMClassifier(**TINY), {"bound": [0.02, 0.1]}, scoring=loss_gap_scorer, cv=2
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, sensitive_features=A)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


# -- sparse input ------------------------------------------------------------------
def _conversions(record) -> int:
    return sum(issubclass(w.category, DataConversionWarning) for w in record)


def test_sparse_input_warns_once_per_fit_and_once_after(synthetic_400):
    X, y, A = synthetic_400
    S = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    clf = SSLALMClassifier(**TINY)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf.fit(S, y, sensitive_features=A)
        assert _conversions(record) == 1
        for _ in range(3):
            clf.predict(S)
            clf.predict_proba(S)
        clf.feasibility_report(S, y, A, n_boot=0)
        assert _conversions(record) == 2  # the fit's, then the first predict's
        clf.fit(S, y, sensitive_features=A)
        clf.predict(S)
        assert _conversions(record) == 4  # a new fit warns afresh


# -- devices --------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["gpu", "cuda:x", "banana"])
def test_an_unknown_device_is_a_clear_error(device, synthetic_400):
    X, y, A = synthetic_400
    with pytest.raises(
        ValueError, match=rf"device='{device}' is not a torch device.*'cpu'"
    ):
        SSLALMClassifier(**TINY, device=device).fit(X, y, sensitive_features=A)


# -- TabularEncoder ------------------------------------------------------------------
@pytest.mark.parametrize("big", [1e200, 1e300, -1e308])
def test_tabular_encoder_standardises_huge_finite_values(big, synthetic_400):
    X, y, A = synthetic_400
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1]})
    frame.loc[0, "a"] = big
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow on the way
        out = TabularEncoder().fit_transform(frame)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-9)
    pipe = make_pipeline(TabularEncoder(), SSLALMClassifier(**TINY))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(frame, y, sslalmclassifier__sensitive_features=A)
    assert np.isfinite(pipe.predict_proba(frame)).all()


def test_tabular_encoder_scaling_is_unchanged_on_ordinary_data(synthetic_400):
    X, _, _ = synthetic_400
    frame = pd.DataFrame({"a": X[:, 0] * 1e3 + 7, "b": X[:, 1]})
    out = TabularEncoder().fit_transform(frame)
    expected = (frame - frame.mean()) / frame.std(ddof=0)
    np.testing.assert_allclose(out, expected.to_numpy(), rtol=1e-12, atol=1e-12)


def test_tabular_encoder_names_integer_columns():
    frame = pd.DataFrame({0: [1.0, 2.0, 3.0, 4.0], 1: ["x", "y", "x", None]})
    enc = TabularEncoder().fit(frame)
    assert enc.get_feature_names_out().tolist() == ["0", "1_x", "1_y", "1_missing"]
    assert enc.transform(frame).shape == (4, 4)
    ordinal = TabularEncoder(categorical_features=[1], encoding="ordinal").fit(frame)
    assert ordinal.get_feature_names_out().tolist() == ["0", "1"]


# -- checkpoints -------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["params.pt", "algorithm.pt", "optimizer.pt"])
def test_a_checkpoint_missing_a_file_does_not_resume(missing, tmp_path, synthetic):
    X, y, A = synthetic
    params = {**TINY, "max_epochs": 4}
    with pytest.warns(UserWarning, match="interrupted"):
        SSLALMClassifier(
            **params, callbacks=[checkpoint(tmp_path), StopAtEpochEnd(2)]
        ).fit(X, y, sensitive_features=A)
    os.remove(tmp_path / missing)
    cp = checkpoint(tmp_path)
    clf = SSLALMClassifier(**params, callbacks=[cp, LoadInitState(cp)])
    with pytest.raises(
        ValueError, match=rf"checkpoint in .* is incomplete: {missing} is missing"
    ):
        clf.fit(X, y, sensitive_features=A)
    assert not hasattr(clf, "net_")


def test_an_empty_checkpoint_folder_starts_afresh(tmp_path, synthetic):
    X, y, A = synthetic
    cp = checkpoint(tmp_path)
    clf = SSLALMClassifier(**TINY, callbacks=[cp, LoadInitState(cp)])
    clf.fit(X, y, sensitive_features=A)
    fresh = SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A)
    assert clf.predict_proba(X).tobytes() == fresh.predict_proba(X).tobytes()
