"""ACSFeatureEncoder and TabularEncoder: column kinds, missing codes, the contract."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from fairsk.datasets import ACSFeatureEncoder, TabularEncoder, load_pums_income
from fairsk.datasets._pums_codes import CATEGORICAL, GROUPED, NUMERIC, major_category


@parametrize_with_checks([TabularEncoder(), TabularEncoder(encoding="ordinal")])
def test_tabular_encoder_passes_sklearn_checks(estimator, check):
    check(estimator)


def test_code_tables_are_disjoint_and_cover_folktables_tasks():
    import folktables

    assert not CATEGORICAL & NUMERIC
    assert set(GROUPED) <= CATEGORICAL
    for name in ("ACSIncome", "ACSEmployment", "ACSPublicCoverage", "ACSMobility",
                 "ACSTravelTime", "ACSHealthInsurance"):  # fmt: skip
        features = set(getattr(folktables, name).features)
        assert features <= CATEGORICAL | NUMERIC, features - CATEGORICAL - NUMERIC


@pytest.mark.parametrize(
    ("column", "codes", "labels"),
    [
        # 2018 occupation codes (first and last code of several groups)...
        ("OCCP", [10, 440, 500, 960, 1005, 1240, 1305, 2001, 3601, 4330, 6005,
                  6765, 6800, 9005, 9830, 9920],
         ["MGR", "MGR", "BUS", "FIN", "CMM", "CMM", "ENG", "CMS", "HLS", "PRS",
          "FFF", "CON", "EXT", "TRN", "MIL", "UNEMPLOYED"]),
        # ... and 2010 codes, whose groups start at the same boundaries.
        ("OCCP", [430, 950, 1300, 1965, 4300, 8965, 9000, 9750],
         ["MGR", "FIN", "ENG", "SCI", "PRS", "PRD", "TRN", "TRN"]),
        ("INDP", [170, 290, 770, 1070, 3990, 8561, 9670, 9920],
         ["AGR", "AGR", "CON", "MFG", "MFG", "ENT", "MIL", "UNEMPLOYED"]),
        ("POBP", [1, 56, 60, 72, 78, 110, 217, 303, 360, 414, 501, 554],
         ["US", "US", "US_ISLAND_AREAS", "US_ISLAND_AREAS", "US_ISLAND_AREAS",
          "EUROPE", "ASIA", "AMERICAS", "AMERICAS", "AFRICA", "OCEANIA_AT_SEA",
          "OCEANIA_AT_SEA"]),
    ],
)  # fmt: skip
def test_major_categories(column, codes, labels):
    assert major_category(column, codes).tolist() == labels
    as_text = [f"{c:04d}" for c in codes]  # zero-padded, as in Census CSV text
    assert major_category(column, as_text).tolist() == labels


def test_major_categories_missing_and_unknown():
    out = major_category("OCCP", [np.nan, None, "", "N", "abc", 5, 10_000])
    assert out.tolist() == ["missing"] * 4 + ["unknown"] * 3


@pytest.mark.parametrize("column", sorted(GROUPED))
def test_major_categories_change_only_at_published_boundaries(column):
    codes = np.arange(0, 12_000)
    labels = major_category(column, codes)
    changes = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    assert changes.tolist() == [start for start, _ in GROUPED[column]]
    assert labels[0] == "unknown" and labels[-1] == "unknown"


def _toy():
    return pd.DataFrame(
        {
            "AGEP": [30, 45, 61, 17],
            "WKHP": [40.0, np.nan, 20.0, np.nan],
            "SEX": [1, 2, 2, 1],
            "SCHL": [2.0, 10.0, 21.0, np.nan],
            "OCCP": [1021.0, 4720.0, np.nan, 10.0],
        }
    )


def test_acs_encoder_columns_and_missing():
    X = _toy()
    encoder = ACSFeatureEncoder().fit(X)
    assert encoder.numeric_features_ == ["AGEP", "WKHP"]
    assert encoder.grouped_features_ == ["OCCP"]
    assert encoder.categorical_features_ == ["SEX", "SCHL"]
    assert encoder.get_feature_names_out().tolist() == [
        "AGEP", "WKHP", "WKHP_missing", "OCCP_MGR", "OCCP_CMM", "OCCP_SAL",
        "OCCP_missing", "SEX_1", "SEX_2", "SCHL_2", "SCHL_10", "SCHL_21",
        "SCHL_missing",
    ]  # fmt: skip
    Z = encoder.transform(X)
    assert Z.dtype == np.float64 and Z.shape == (4, 13) and not np.isnan(Z).any()
    np.testing.assert_array_equal(Z[:, 2], [0, 1, 0, 1])  # WKHP_missing
    np.testing.assert_allclose(Z[:, :2].mean(axis=0), 0, atol=1e-12)  # scaled


def test_acs_encoder_ordinal_follows_code_order():
    X = _toy()
    encoder = ACSFeatureEncoder(encoding="ordinal", scale_numeric=False).fit(X)
    names = encoder.get_feature_names_out().tolist()
    Z = encoder.transform(X)
    np.testing.assert_array_equal(Z[:, names.index("SCHL")], [0, 1, 2, 3])
    np.testing.assert_array_equal(Z[:, names.index("AGEP")], X["AGEP"])
    unseen = X.assign(SCHL=[24.0, 2.0, 2.0, 2.0])
    assert encoder.transform(unseen)[0, names.index("SCHL")] == -1


def test_acs_encoder_unseen_codes_and_new_missing():
    encoder = ACSFeatureEncoder().fit(_toy())
    new = _toy().assign(SEX=[3, 1, 1, 1], AGEP=[np.nan, 1, 2, 3])
    Z = encoder.transform(new)
    names = encoder.get_feature_names_out().tolist()
    assert not np.isnan(Z).any()
    assert Z[0, names.index("SEX_1")] == Z[0, names.index("SEX_2")] == 0


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("numeric", ["MYCOL"]), ("categorical", ["MYCOL_a", "MYCOL_b"]), ("drop", [])],
)
def test_acs_encoder_unknown_columns(rule, expected):
    X = _toy().assign(MYCOL=[1.5, 2.5, 1.5, 2.5])
    if rule == "categorical":
        X["MYCOL"] = ["a", "b", "a", "b"]
    with pytest.raises(ValueError, match=r"\['MYCOL'\] are not PUMS variables"):
        ACSFeatureEncoder().fit(X)
    names = ACSFeatureEncoder(unknown_columns=rule).fit(X).get_feature_names_out()
    assert [n for n in names if n.startswith("MYCOL")] == expected


def test_acs_encoder_without_grouping_and_with_min_frequency():
    X = _toy()
    names = ACSFeatureEncoder(group_high_cardinality=False).fit(X)
    assert "OCCP_4720" in names.get_feature_names_out()
    rare = ACSFeatureEncoder(min_frequency=2).fit(X).get_feature_names_out()
    assert "SCHL_infrequent_sklearn" in rare


def test_acs_encoder_needs_a_dataframe_and_validates_params():
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        ACSFeatureEncoder().fit(_toy().to_numpy())
    with pytest.raises(ValueError, match="encoding"):
        ACSFeatureEncoder(encoding="binary").fit(_toy())
    encoder = ACSFeatureEncoder().fit(_toy())
    with pytest.raises(ValueError, match="feature names"):
        encoder.transform(_toy()[["SEX", "AGEP", "WKHP", "SCHL", "OCCP"]])


def test_acs_encoder_pickle_clone_set_output(excerpt_2019):
    X, _, _ = load_pums_income(excerpt_2019, return_X_y=True)
    encoder = ACSFeatureEncoder().fit(X)
    Z = encoder.transform(X)
    assert Z.shape == (22_363, len(encoder.get_feature_names_out()))
    assert not np.isnan(Z).any() and Z.dtype == np.float64
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(encoder)).transform(X), Z)
    framed = clone(encoder).set_output(transform="pandas").fit_transform(X)
    assert list(framed.columns) == encoder.get_feature_names_out().tolist()
    np.testing.assert_array_equal(framed.to_numpy(), Z)
    # NOC and NPF are "N" (not applicable) for many people: explicit indicators.
    assert {"NOC_missing", "NPF_missing", "INDP_missing", "EDU_1"} <= set(framed)


def test_encoders_in_a_pipeline_learn_something(excerpt_2019):
    X, y, _ = load_pums_income(excerpt_2019, return_X_y=True)
    model = make_pipeline(ACSFeatureEncoder(), LogisticRegression(max_iter=300))
    model.fit(X[:15_000], y[:15_000])
    accuracy = model.score(X[15_000:], y[15_000:])
    assert accuracy > max(y.mean(), 1 - y.mean()) + 0.05
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X[:50]), model.predict(X[:50]))


def test_tabular_encoder_explicit_categorical_features():
    X = pd.DataFrame(
        {"code": [1, 2, 1], "x": [0.5, 1.5, 2.5], "flag": [True, False, True]}
    )
    auto = TabularEncoder().fit(X)
    assert auto.categorical_features_ == ["flag"] and auto.numeric_features_ == [
        "code",
        "x",
    ]
    explicit = TabularEncoder(["code"]).fit(X)
    assert explicit.categorical_features_ == ["code"]
    assert explicit.numeric_features_ == ["x", "flag"]
    with pytest.raises(ValueError, match="not columns of X"):
        TabularEncoder(["nope"]).fit(X)
