"""load_adult: the embedded UCI Adult files, their integrity and licence."""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from fairsk.datasets import TabularEncoder, load_adult
from fairsk.datasets._adult import ADULT_SHA256

DATA = resources.files("fairsk.datasets") / "data"


@pytest.mark.parametrize("name", ["adult.data", "adult.test"])
def test_embedded_files_are_the_original_bytes(name):
    packed = DATA.joinpath(f"{name}.gz").read_bytes()
    assert packed[4:8] == b"\0\0\0\0"  # gzip mtime 0: deterministic
    raw = gzip.decompress(packed)
    assert hashlib.sha256(raw).hexdigest() == ADULT_SHA256[name]


@pytest.mark.parametrize("name", ["adult.data", "adult.test", "adult.names"])
def test_embedded_files_match_shared_data(adult_dir, name):
    raw = gzip.decompress(DATA.joinpath(f"{name}.gz").read_bytes())
    assert raw == (adult_dir / name).read_bytes()


def test_licence_and_attribution_ship_with_the_package():
    text = DATA.joinpath("ADULT_LICENSE.txt").read_text()
    assert "CC BY 4.0" in text or "Attribution 4.0" in text
    assert "10.24432/C5XW20" in text and "Becker" in text and "Kohavi" in text
    for name, digest in ADULT_SHA256.items():
        assert f"{name}   {digest}" in text
    assert "CC BY 4.0" in load_adult().DESCR


@pytest.mark.parametrize(
    ("subset", "rows", "positives", "white"),
    [
        ("train", 32_561, 7_841, 27_816),
        ("test", 16_281, 3_846, 13_946),
        ("all", 48_842, 11_687, 41_762),
    ],
)
def test_rows_target_and_groups(subset, rows, positives, white):
    bunch = load_adult(subset=subset)
    assert bunch.data.shape == (rows, 13)
    assert bunch.target.dtype == np.int64 and set(bunch.target.unique()) == {0, 1}
    assert int(bunch.target.sum()) == positives
    counts = bunch.sensitive_features.value_counts()
    assert counts["White"] == white and counts["Non-White"] == rows - white
    assert len(bunch.fnlwgt) == rows and "fnlwgt" not in bunch.data.columns
    assert bunch.frame.shape == (rows, 14) and bunch.target_names == ["income"]


def test_positive_rate_matches_adult_names():
    # adult.names: P(>50K) = 23.93% over adult.data + adult.test.
    assert round(float(load_adult().target.mean()), 4) == 0.2393


def test_parsing_missing_values_and_columns():
    X = load_adult(subset="test").data
    assert X.columns.tolist() == [
        "age", "workclass", "education", "education-num", "marital-status",
        "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
        "hours-per-week", "native-country",
    ]  # fmt: skip
    assert X.isna().sum()[["workclass", "occupation", "native-country"]].gt(0).all()
    assert not X.apply(lambda c: c.astype(str).str.contains(r"\?|^ ")).any().any()
    assert X["age"].dtype == np.int64 and X["age"].min() == 17


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        (
            "race",
            {"White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"},
        ),
        ("sex", {"Male", "Female"}),
        ("race_binary", {"White", "Non-White"}),
    ],
)
def test_groups(group, expected):
    _, _, A = load_adult(subset="train", group=group, return_X_y=True)
    assert set(A.unique()) == expected


def test_sex_race_small_groups_merged_with_warning():
    with pytest.warns(UserWarning, match="merged into 'other'"):
        _, _, A = load_adult(group="sex_race", min_group_size=300, return_X_y=True)
    counts = A.value_counts()
    assert counts["Male, White"] == 28_735 and counts["Female, Black"] == 2_308
    assert counts["other"] == 155 + 185 + 251 + 285  # Other & Amer-Indian groups
    assert counts.min() >= 300


def test_drop_sensitive_and_numpy_output():
    X, y, A = load_adult(
        subset="test",
        group="sex_race",
        drop_sensitive=True,
        return_X_y=True,
        as_frame=False,
    )
    assert X.shape == (16_281, 11) and X.dtype == object
    assert isinstance(y, np.ndarray) and isinstance(A, np.ndarray)
    bunch = load_adult(drop_sensitive=True)
    assert "race" not in bunch.feature_names and "sex" in bunch.feature_names


def test_invalid_subset():
    with pytest.raises(ValueError, match="subset must be one of"):
        load_adult(subset="validation")


def test_encoded_adult_is_finite_float():
    X, _, _ = load_adult(subset="test", return_X_y=True)
    Z = TabularEncoder().set_output(transform="pandas").fit_transform(X)
    assert isinstance(Z, pd.DataFrame) and (Z.dtypes == np.float64).all()
    assert np.isfinite(Z.to_numpy()).all()
    assert {"workclass_missing", "race_White", "sex_Female"} <= set(Z.columns)
