"""SensitiveFeatureBuilder: group labels from PUMS codes or Adult's text columns."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from fairsk.datasets import ACSFeatureEncoder, SensitiveFeatureBuilder
from fairsk.groups import GroupEncoder

PUMS = pd.DataFrame(
    {
        "AGEP": [30, 40, 50, 60, 70, 80],
        "SEX": [1, 2, 2, 1, 2, 1],
        "RAC1P": [1, 2, 6, 1, 9, 4],
    }
)
ADULT = pd.DataFrame(
    {
        "age": [30, 40, 50],
        "race": ["White", "Black", "Asian-Pac-Islander"],
        "sex": ["Male", "Female", "Female"],
    }
)


@pytest.mark.parametrize(
    ("group", "pums", "adult"),
    [
        (
            "race_binary",
            ["White", "Non-White", "Non-White", "White", "Non-White", "Non-White"],
            ["White", "Non-White", "Non-White"],
        ),
        (
            "race",
            ["White", "Black", "Asian", "White", "Two or more races", "Alaska Native"],
            ["White", "Black", "Asian-Pac-Islander"],
        ),
        (
            "sex",
            ["Male", "Female", "Female", "Male", "Female", "Male"],
            ["Male", "Female", "Female"],
        ),
        (
            "sex_race",
            ["Male, White", "Female, Black", "Female, Asian", "Male, White",
             "Female, Two or more races", "Male, Alaska Native"],
            ["Male, White", "Female, Black", "Female, Asian-Pac-Islander"],
        ),
    ],
)  # fmt: skip
def test_groupings_on_pums_codes_and_adult_text(group, pums, adult):
    for X, expected in [(PUMS, pums), (ADULT, adult)]:
        labels = SensitiveFeatureBuilder(group).fit(X).sensitive_features(X)
        assert labels.tolist() == expected
        assert labels.name == group and labels.index.equals(X.index)


def test_column_names_as_groups():
    builder = SensitiveFeatureBuilder(["SEX", "RAC1P"]).fit(PUMS)
    assert builder.sensitive_features(PUMS).tolist()[:2] == ["1, 1", "2, 2"]
    assert builder.columns_ == ["SEX", "RAC1P"]
    with pytest.raises(ValueError, match=r"columns \['HISP'\] are not in X"):
        SensitiveFeatureBuilder("HISP").fit(PUMS)
    with pytest.raises(ValueError, match="needs a race column"):
        SensitiveFeatureBuilder("race").fit(PUMS[["AGEP", "SEX"]])


def test_min_group_size_merges_with_the_shared_warning():
    builder = SensitiveFeatureBuilder("race", min_group_size=2)
    with pytest.warns(UserWarning, match=r"min_group_size=2 were merged into 'other'"):
        builder.fit(PUMS)
    assert builder.merged_ == ["Alaska Native", "Asian", "Black", "Two or more races"]
    assert builder.counts_ == {"White": 2, "other": 4}
    labels = builder.sensitive_features(PUMS)
    assert labels.tolist() == ["White", "other", "other", "White", "other", "other"]
    # The labels feed GroupEncoder (what the estimators use) without further merging.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = GroupEncoder(min_group_size=2).fit_transform(labels)
    assert codes.tolist() == [0, 1, 1, 0, 1, 1]


def test_drop_transform_and_feature_names():
    builder = SensitiveFeatureBuilder("sex_race", drop=True).fit(PUMS)
    assert builder.transform(PUMS).columns.tolist() == ["AGEP"]
    assert builder.get_feature_names_out().tolist() == ["AGEP"]
    keep = SensitiveFeatureBuilder("sex").fit(PUMS)
    pd.testing.assert_frame_equal(keep.transform(PUMS), PUMS)
    assert keep.get_feature_names_out().tolist() == ["AGEP", "SEX", "RAC1P"]


def test_in_a_pipeline_before_the_encoder_and_pickles():
    pipe = make_pipeline(
        SensitiveFeatureBuilder("race", drop=True), ACSFeatureEncoder()
    ).fit(PUMS)
    assert pipe.get_feature_names_out().tolist() == ["AGEP", "SEX_1", "SEX_2"]
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.transform(PUMS), pipe.transform(PUMS))
    builder = clone(SensitiveFeatureBuilder("sex_race", min_group_size=1)).fit(ADULT)
    assert (
        pickle.loads(pickle.dumps(builder))
        .sensitive_features(ADULT)
        .equals(builder.sensitive_features(ADULT))
    )


def test_missing_values_and_validation():
    X = PUMS.assign(RAC1P=[1, 2, np.nan, 1, 9, 4])
    labels = SensitiveFeatureBuilder("race").fit(X).sensitive_features(X)
    assert labels[2] == "missing"
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        SensitiveFeatureBuilder().fit(PUMS.to_numpy())
    with pytest.raises(ValueError, match="min_group_size"):
        SensitiveFeatureBuilder(min_group_size=0).fit(PUMS)
    with pytest.raises(Exception, match="not fitted"):
        SensitiveFeatureBuilder().sensitive_features(PUMS)
