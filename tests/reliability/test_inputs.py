"""Bad input: each gets a precise error naming the argument and what was expected.

The table :data:`FIT_CASES` is the list the issue asks for: every bad input tried
at ``fit`` and the exception (type and message) it now gets. The other tests cover
prediction-time input, sparse matrices, the one rule for small groups, and messy
data that an upstream transformer (imputer, encoder) makes valid.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import (
    ConvergenceWarning,
    DataConversionWarning,
    NotFittedError,
)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from fairsk import (
    Constraint,
    SSLALMClassifier,
    UnconstrainedClassifier,
)
from fairsk.datasets import TabularEncoder
from fairsk.estimators import inputs as estimator_inputs
from fairsk.exceptions import SmallGroupWarning

from ..common import CLASSIFIERS, TINY, make_synthetic


def _set(arr, index, value):
    out = np.array(arr, dtype=object if isinstance(value, str | None) else None)
    out = out.astype(object) if value is None else out
    out[index] = value
    return out


def _with_nan(X):
    X = X.copy()
    X[3, 1] = np.nan
    return X


def _with_inf(X):
    X = X.copy()
    X[3, 1] = np.inf
    return X


def _labels_with(A, index, value):
    A = A.astype(object).copy()
    A[index] = value
    return A


def error_cases(argname, cases):
    """Parametrize a test over ``cases``, rows (id, input change, exception type,
    message pattern): the change as ``argname``, then ``error`` and ``match``."""
    return pytest.mark.parametrize(
        (argname, "error", "match"),
        [pytest.param(f, e, m, id=name) for name, f, e, m in cases],
    )


def _params(**params):
    """A fit case that only sets the estimator's ``params`` on the data as it is."""
    return lambda X, y, A: (params, X, y, A, None)


# Each case: id, a function (X, y, A) -> (estimator params, X, y, A, sample_weight),
# the exception type and a regular expression its message matches.
FIT_CASES = [
    # -- X ---------------------------------------------------------------------
    ("X_nan", lambda X, y, A: ({}, _with_nan(X), y, A, None), ValueError,
     r"Input X contains NaN"),
    ("X_inf", lambda X, y, A: ({}, _with_inf(X), y, A, None), ValueError,
     r"Input X contains infinity"),
    ("X_1d", lambda X, y, A: ({}, X[:, 0], y, A, None), ValueError,
     r"Expected 2D array, got 1D array"),
    ("X_3d", lambda X, y, A: ({}, X[:, :, None], y, A, None), ValueError,
     r"Found array with dim 3"),
    ("X_no_rows", lambda X, y, A: ({}, X[:0], y[:0], A[:0], None), ValueError,
     r"0 sample\(s\) \(shape=\(0, 3\)\)"),
    ("X_no_columns", lambda X, y, A: ({}, X[:, :0], y, A, None), ValueError,
     r"0 feature\(s\) \(shape=\(240, 0\)\)"),
    ("X_text", lambda X, y, A: ({}, np.full(X.shape, "x"), y, A, None), ValueError,
     r"could not convert string to float"),
    ("X_complex", lambda X, y, A: ({}, X + 1j, y, A, None), ValueError,
     r"Complex data not supported"),
    # -- y ---------------------------------------------------------------------
    ("y_one_class", lambda X, y, A: ({}, X, np.ones_like(y), A, None), ValueError,
     r"needs samples of 2 classes in y, but the data contain only one class"),
    ("y_three_classes", lambda X, y, A: ({}, X, np.arange(len(y)) % 3, A, None),
     ValueError, r"Only binary classification is supported.*multiclass \(3"),
    ("y_continuous", lambda X, y, A: ({}, X, X[:, 0], A, None), ValueError,
     r"Unknown label type: continuous"),
    ("y_nan", lambda X, y, A: ({}, X, _set(y.astype(float), 4, np.nan), A, None),
     ValueError, r"Input y contains NaN"),
    ("y_none", lambda X, y, A: ({}, X, _set(y.astype(object), 4, None), A, None),
     ValueError, r"y contains missing values \(NaN/None\) at rows \[4\]"),
    ("y_2d", lambda X, y, A: ({}, X, np.column_stack([y, y]), A, None), ValueError,
     r"y should be a 1d array, got an array of shape \(240, 2\)"),
    ("y_short", lambda X, y, A: ({}, X, y[:-1], A, None), ValueError,
     r"inconsistent numbers of samples: \[240, 239\]"),
    # -- sensitive_features ----------------------------------------------------
    ("A_missing", lambda X, y, A: ({}, X, y, None, None), ValueError,
     r"needs the group of each sample: call fit\(X, y, sensitive_features=A\)"),
    ("A_short", lambda X, y, A: ({}, X, y, A[:-1], None), ValueError,
     r"sensitive_features has 239 rows but X has 240"),
    ("A_nan", lambda X, y, A: ({}, X, y, _labels_with(A, 5, np.nan), None),
     ValueError, r"sensitive_features contains missing values \(NaN/None\) at rows "
     r"\[5\]"),
    ("A_none", lambda X, y, A: ({}, X, y, _labels_with(A, 5, None), None),
     ValueError, r"sensitive_features contains missing values"),
    ("A_inf", lambda X, y, A: ({}, X, y, np.where(A == "a", 0.0, np.inf), None),
     ValueError, r"sensitive_features contains inf"),
    ("A_ragged", lambda X, y, A: (
        {}, X, y, [[1, 2] if i % 2 else [1] for i in range(len(y))], None),
     TypeError, r"sensitive_features must hold one hashable label per sample"),
    ("A_scalar", lambda X, y, A: ({}, X, y, "a", None), ValueError,
     r"sensitive_features must be 1-D labels or a 2-D array, got a scalar"),
    ("A_3d", lambda X, y, A: ({}, X, y, np.zeros((len(y), 2, 2)), None), ValueError,
     r"sensitive_features must be 1-D or 2-D, got 3 dimensions"),
    ("A_single_group", lambda X, y, A: ({}, X, y, np.full(len(y), "a"), None),
     ValueError, r"sensitive_features has a single group \('a'\)"),
    ("A_single_after_merge", _params(min_group_size=10_000),
     ValueError, r"single group \('other' after merging small groups\)"),
    ("A_one_group_with_positives", lambda X, y, A: (
        {"constraint": "equal_opportunity", "bound": 0.05}, X, np.where(A == "b", 0, y),
        A, None),
     ValueError, r"'equal_opportunity' needs true_positive_rate in at least two "
     r"groups, but only 1"),
    # -- sample_weight ---------------------------------------------------------
    ("w_short", lambda X, y, A: ({}, X, y, A, np.ones(len(y) - 1)), ValueError,
     r"sample_weight.shape == \(239,\), expected \(240,\)"),
    ("w_negative", lambda X, y, A: ({}, X, y, A, -np.ones(len(y))), ValueError,
     r"Negative values in data passed to `sample_weight`"),
    ("w_nan", lambda X, y, A: ({}, X, y, A, _set(np.ones(len(y)), 0, np.nan)),
     ValueError, r"Input sample_weight contains NaN"),
    ("w_zero", lambda X, y, A: ({}, X, y, A, np.zeros(len(y))), ValueError,
     r"Sample weights must contain at least one non-zero number"),
    ("w_zero_for_a_group", lambda X, y, A: ({}, X, y, A, (A == "a").astype(float)),
     ValueError, r"sample_weight is zero for every sample of group\(s\) \['b'\]"),
    # -- constraints and bounds ------------------------------------------------
    ("constraint_unknown", _params(constraint="nope"),
     InvalidParameterError, r"The 'constraint' parameter .* Got 'nope'"),
    ("constraint_unknown_in_list",
     _params(constraint=["loss_gap", "nope"], bound=[0.1, 0.1]),
     ValueError,
     r"Unknown constraint 'nope'; expected one of \[[^]]*'loss_gap'[^]]*\]"),
    ("constraint_empty", _params(constraint=[]),
     ValueError, r"constraint is empty"),
    ("constraint_wrong_type", _params(constraint=3),
     InvalidParameterError, r"The 'constraint' parameter .* Got 3"),
    ("bound_negative", _params(bound=-0.1),
     InvalidParameterError, r"The 'bound' parameter .* range \[0.0, inf\)"),
    ("bound_negative_in_list", _params(bound=[-0.1]),
     ValueError, r"bound for 'loss_gap' must be >= 0, got -0.1"),
    ("bound_nan", _params(bound=np.nan),
     InvalidParameterError, r"The 'bound' parameter .* Got nan"),
    ("bound_inf", _params(bound=np.inf),
     InvalidParameterError, r"The 'bound' parameter .* Got inf"),
    ("bound_text", _params(bound=["x"]), ValueError,
     r"bound for 'loss_gap' must be a finite number, got 'x'"),
    ("bound_rate_one", _params(constraint="demographic_parity", bound=1.0),
     ValueError, r"a bound >= 1 is vacuous \(got 1.0\)"),
    ("bound_rate_above_one", _params(constraint="equalized_odds", bound=1.5),
     ValueError, r"'equalized_odds' compares rates.*got 1.5"),
    ("bound_ratio_zero", _params(constraint="demographic_parity_ratio", bound=0.0),
     ValueError, r"ratio constraint 'demographic_parity_ratio' .* must be in "
     r"\(0, 1\], got 0.0"),
    ("bound_ratio_above_one",
     _params(constraint="demographic_parity_ratio", bound=1.2),
     ValueError, r"must be in \(0, 1\], got 1.2"),
    ("bound_upper_zero", _params(constraint="bounded_group_loss", bound=0.0),
     ValueError, r"upper bound on a loss and must be > 0"),
    ("bound_count", _params(bound=[0.1, 0.2]),
     ValueError, r"bound has 2 values for 1 constraints"),
    ("constraint_object_bad_bound",
     _params(constraint=Constraint("positive_rate", bound=2.0)),
     ValueError, r"'positive_rate_difference' compares rates"),
    ("pairing_unknown", _params(pairing="all"),
     InvalidParameterError, r"The 'pairing' parameter"),
    # -- other parameters ------------------------------------------------------
    ("min_group_size_zero", _params(min_group_size=0),
     InvalidParameterError, r"The 'min_group_size' parameter"),
    ("hidden_zero", _params(hidden_layer_sizes=(8, 0)),
     ValueError, r"hidden_layer_sizes must be positive integers .* got \(8, 0\)"),
    ("hidden_fraction", _params(hidden_layer_sizes=(2.5,)),
     ValueError, r"hidden_layer_sizes must be positive integers"),
    ("lr_zero", _params(lr=0.0),
     InvalidParameterError, r"The 'lr' parameter .* range \(0.0, inf\)"),
    ("lr_inf", _params(lr=np.inf),
     InvalidParameterError, r"The 'lr' parameter .* Got inf"),
    ("max_epochs_zero", _params(max_epochs=0),
     InvalidParameterError, r"The 'max_epochs' parameter"),
    ("select_feasible_without_validation", _params(select="feasible"),
     ValueError, r"set validation_fraction"),
    ("validation_too_few_per_cell", lambda X, y, A: (
        {"validation_fraction": 0.2}, X, y, _labels_with(A, 0, "lonely"), None),
     ValueError, r"validation_fraction needs at least 2 samples of each label in "
     r"every group"),
]  # fmt: skip


@error_cases("case", FIT_CASES)
def test_bad_fit_input_gets_a_precise_error(case, error, match, synthetic):
    params, X, y, A, w = case(*synthetic)
    clf = SSLALMClassifier(**{**TINY, **params})
    with pytest.raises(error, match=match):
        clf.fit(X, y, sensitive_features=A, sample_weight=w)
    assert not hasattr(clf, "net_")


def test_missing_cuda_is_a_clean_error(synthetic):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here: device='cuda' is valid")
    X, y, A = synthetic
    with pytest.raises(ValueError, match=r"device='cuda' .* CUDA is not available"):
        SSLALMClassifier(device="cuda", **TINY).fit(X, y, sensitive_features=A)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_every_classifier_rejects_the_basic_faults(cls, synthetic):
    X, y, A = synthetic
    clf = cls(**TINY)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.fit(_with_nan(X), y, sensitive_features=A)
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X, np.zeros_like(y), sensitive_features=A)
    with pytest.raises(ValueError, match="rows but X has"):
        clf.fit(X, y, sensitive_features=A[:-2])
    if cls is not UnconstrainedClassifier:
        with pytest.raises(ValueError, match="single group"):
            clf.fit(X, y, sensitive_features=np.zeros(len(y)))


# -- prediction-time input ------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_on_frame():
    X, y, A = make_synthetic()
    frame = pd.DataFrame(X, columns=["f0", "f1", "f2"])
    return SSLALMClassifier(**TINY).fit(frame, y, sensitive_features=A), frame, y, A


def _frame_with(frame, value):
    frame = frame.copy()
    frame.iloc[0, 1] = value
    return frame


PREDICT_CASES = [
    ("fewer_features", lambda f: f.to_numpy()[:, :2], ValueError,
     r"X has 2 features, but SSLALMClassifier is expecting 3 features as input"),
    ("more_features", lambda f: f.assign(f3=1.0), ValueError,
     r"Feature names unseen at fit time:\n- f3"),
    ("renamed_column", lambda f: f.rename(columns={"f0": "z"}), ValueError,
     r"Feature names unseen at fit time:\n- z\nFeature names seen at fit time, yet "
     r"now missing:\n- f0"),
    ("reordered_columns", lambda f: f[["f1", "f0", "f2"]], ValueError,
     r"Feature names must be in the same order as they were in fit"),
    ("nan", lambda f: _frame_with(f, np.nan), ValueError, r"Input X contains NaN"),
    ("inf", lambda f: _frame_with(f, -np.inf), ValueError,
     r"Input X contains infinity"),
    ("no_rows", lambda f: f.iloc[:0], ValueError, r"0 sample\(s\)"),
    ("text", lambda f: f.astype(str).assign(f0="x"), ValueError,
     r"could not convert string to float"),
]  # fmt: skip


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
@error_cases("change", PREDICT_CASES)
def test_bad_predict_input_gets_a_precise_error(
    fitted_on_frame, method, change, error, match
):
    clf, frame, _, _ = fitted_on_frame
    with pytest.raises(error, match=match):
        getattr(clf, method)(change(frame))


def test_predicting_without_names_warns_but_works(fitted_on_frame):
    clf, frame, _, _ = fitted_on_frame
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        pred = clf.predict(frame.to_numpy())
    np.testing.assert_array_equal(pred, clf.predict(frame))


def test_read_only_input_predicts_without_warnings(synthetic):
    X, y, A = synthetic
    clf = SSLALMClassifier(**{**TINY, "max_epochs": 1}).fit(X, y, sensitive_features=A)
    frozen = X.copy()
    frozen.flags.writeable = False  # as pandas hands out its columns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(
            clf.decision_function(frozen), clf.decision_function(X)
        )


def test_predict_before_fit_is_not_fitted_error(synthetic):
    with pytest.raises(NotFittedError):
        SSLALMClassifier().predict(synthetic[0])


FEASIBILITY_CASES = [
    ("unseen_group", lambda X, y, A: (X, y, np.where(A == "a", "a", "zz"), None),
     ValueError, r"sensitive_features has groups not seen in fit: \['zz'\]; known "
     r"groups are \['a', 'b'\]"),
    ("y_short", lambda X, y, A: (X, y[:-1], A, None), ValueError,
     r"y has 239 rows but X has 240"),
    ("A_short", lambda X, y, A: (X, y, A[:-1], None), ValueError,
     r"sensitive_features has 239 rows but X has 240"),
    ("unseen_label", lambda X, y, A: (X, y + 5, A, None), ValueError,
     r"y has labels not seen in fit: \[5, 6\]; the classes are \[0, 1\]"),
    ("negative_weight", lambda X, y, A: (X, y, A, -np.ones(len(y))), ValueError,
     r"Negative values in data passed to `sample_weight`"),
    ("fewer_features", lambda X, y, A: (X[:, :2], y, A, None), ValueError,
     r"X has 2 features, but SSLALMClassifier is expecting 3"),
]  # fmt: skip


@error_cases("case", FEASIBILITY_CASES)
def test_bad_feasibility_report_input(case, error, match, synthetic):
    X, y, A = synthetic
    clf = SSLALMClassifier(**{**TINY, "max_epochs": 1}).fit(X, y, sensitive_features=A)
    X, y, A, w = case(X, y, A)
    with pytest.raises(error, match=match):
        clf.feasibility_report(X, y, A, w, n_boot=0)


def test_feasibility_report_without_groups_in_fit(synthetic):
    X, y, A = synthetic
    clf = UnconstrainedClassifier(**{**TINY, "max_epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match="fitted without sensitive_features"):
        clf.feasibility_report(X, y, A)


# -- sparse X -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csc_array, sp.coo_array])
def test_sparse_X_is_densified_with_a_warning(kind, synthetic):
    X, y, A = synthetic
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # actually sparse
    dense = SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A)
    with pytest.warns(DataConversionWarning, match=r"sparse matrix of shape \(240, 3"):
        clf = SSLALMClassifier(**TINY).fit(kind(X), y, sensitive_features=A)
    with pytest.warns(DataConversionWarning, match="densifies it"):
        proba = clf.predict_proba(kind(X))
    # Densifying changes nothing: the same model and the same predictions.
    np.testing.assert_array_equal(proba, dense.predict_proba(X))
    with warnings.catch_warnings():  # told once after a fit (by predict_proba)
        warnings.simplefilter("error", DataConversionWarning)
        report = clf.feasibility_report(kind(X), y, A, n_boot=0)
    assert (
        report["value"].tolist()
        == dense.feasibility_report(X, y, A, n_boot=0)["value"].tolist()
    )
    assert clf.__sklearn_tags__().input_tags.sparse


def test_sparse_X_above_the_limit_is_an_error():
    n, d = 100_000, 2_000  # 2e8 elements, none stored: nothing is allocated
    huge = sp.coo_array((np.zeros(0), (np.zeros(0, int), np.zeros(0, int))), (n, d))
    labels = np.arange(n) % 2
    with pytest.raises(
        ValueError,
        match=r"X is a sparse matrix of shape \(100000, 2000\) \(2e\+08 elements\); "
        r"SSLALMClassifier densifies sparse input only up to 1e\+08 elements "
        r"\(MAX_DENSE_ELEMENTS\)\. Reduce its dimensionality upstream",
    ):
        SSLALMClassifier(**TINY).fit(huge, labels, sensitive_features=labels)


def test_sparse_limit_applies_to_prediction(synthetic, monkeypatch):
    X, y, A = synthetic
    clf = SSLALMClassifier(**{**TINY, "max_epochs": 1}).fit(X, y, sensitive_features=A)
    monkeypatch.setattr(estimator_inputs, "MAX_DENSE_ELEMENTS", 3 * 100)
    with pytest.warns(DataConversionWarning):
        clf.predict(sp.csr_array(X[:100]))  # exactly at the limit: densified
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(ValueError, match=r"shape \(101, 3\)"):
            getattr(clf, method)(sp.csr_array(X[:101]))
    with pytest.raises(ValueError, match="MAX_DENSE_ELEMENTS"):
        clf.feasibility_report(sp.csr_array(X), y, A)


def test_sparse_nan_is_rejected(synthetic):
    X, y, A = synthetic
    with pytest.raises(ValueError, match="Input X contains NaN"):
        SSLALMClassifier(**TINY).fit(
            sp.csr_array(_with_nan(X)), y, sensitive_features=A
        )


# -- groups: the one rule --------------------------------------------------------------
def test_min_group_size_merges_and_names_each_group(synthetic):
    X, y, A = synthetic
    A = A.copy()
    A[:4], A[4:7] = "tiny", "small"
    with pytest.warns(
        UserWarning,
        match=r"min_group_size=5 were merged into 'other': 'small' \(3 samples\), "
        r"'tiny' \(4 samples\)",
    ):
        clf = SSLALMClassifier(min_group_size=5, **TINY).fit(X, y, sensitive_features=A)
    assert clf.groups_ == ["a", "b", "other"]
    assert np.isfinite(clf.predict_proba(X)).all()
    report = clf.feasibility_report(X, y, np.where(A == "tiny", "a", A), n_boot=0)
    assert np.isfinite(report["value"]).all()


def test_group_smaller_than_the_batch_is_kept(synthetic):
    X, y, A = synthetic
    A = A.copy()
    A[:3] = "three"
    y = y.copy()
    y[:3] = [0, 1, 0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)  # 3 epochs: bound unmet
        clf = SSLALMClassifier(**{**TINY, "batch_size": 64}).fit(
            X, y, sensitive_features=A
        )
    # Not merged: kept, with the one warning that says it is too small to
    # estimate its statistics (issue 17).
    assert [w.category for w in caught] == [SmallGroupWarning]
    assert "Group 'three' is too small" in str(caught[0].message)
    assert clf.groups_ == ["a", "b", "three"]
    assert np.isfinite(clf.predict_proba(X)).all()
    assert all(np.isfinite(h["multipliers"]).all() for h in clf.history_)


def test_group_without_positives_leaves_rate_constraints_with_a_warning(synthetic):
    X, y, A = synthetic
    A = A.copy()
    A[:30] = "c"
    y = np.where(A == "c", 0, y)
    with pytest.warns(UserWarning, match=r"Group 'c' has no samples with label 1"):
        clf = SSLALMClassifier(constraint="equalized_odds", bound=0.1, **TINY).fit(
            X, y, sensitive_features=A
        )
    tpr = [n for n in clf.constraint_names_ if "true_positive_rate" in n]
    fpr = [n for n in clf.constraint_names_ if "false_positive_rate" in n]
    assert not any("[c]" in n for n in tpr)  # left out of the TPR rows
    assert any("[c]" in n for n in fpr)  # kept where it has samples
    # An unconditional statistic keeps the group, silently.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        dp = SSLALMClassifier(constraint="demographic_parity", bound=0.1, **TINY)
        dp.fit(X, y, sensitive_features=A)
    assert any("[c]" in n for n in dp.constraint_names_)


def test_the_rule_is_documented():
    doc = SSLALMClassifier.__doc__
    assert "min_group_size : int or None" in doc
    for phrase in ("smaller than the batch", "no positive", "fewer than two"):
        assert phrase in " ".join(doc.split()), phrase


# -- messy data that a transformer makes valid ----------------------------------------
def test_an_upstream_imputer_handles_nan(synthetic):
    X, y, A = synthetic
    X = X.copy()
    X[::7, 1] = np.nan
    pipe = make_pipeline(SimpleImputer(), SSLALMClassifier(**TINY))
    pipe.fit(X, y, sslalmclassifier__sensitive_features=A)
    assert np.isfinite(pipe.predict_proba(X)).all()


def test_tabular_encoder_pipeline_on_a_messy_frame(synthetic):
    X, y, A = synthetic
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "age": np.where(rng.random(len(y)) < 0.1, np.nan, X[:, 0] * 10 + 40),
            "job": rng.choice(["a", "b", None], size=len(y)),
            "flag": rng.random(len(y)) < 0.5,
        }
    )
    pipe = make_pipeline(TabularEncoder(), SSLALMClassifier(**TINY))
    pipe.fit(frame, y, sslalmclassifier__sensitive_features=A)
    new = frame.assign(job=rng.choice(["a", "never seen"], size=len(y)))
    assert np.isfinite(pipe.predict_proba(new)).all()
    with pytest.raises(ValueError, match="Feature names"):
        pipe.predict(frame.drop(columns="job"))
