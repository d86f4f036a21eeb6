"""The PUMS reader and income problem, on the real NIST ACS Data Excerpts."""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from fairsk.datasets import load_pums_income, make_income_problem, read_pums_csv
from fairsk.datasets._pums_codes import major_category

# Counts in ../shared/data/README.md (national2019) and measured on national2018.
README_RAC1P_2019 = {1: 12649, 2: 5935, 6: 1836, 8: 686, 3: 626, 9: 528}


def test_reader_missing_markers_and_text_columns():
    csv = io.StringIO(
        "RT,SERIALNO,PUMA,AGEP,COW,WKHP,PINCP\n"
        "P,2018GQ01,00100,30,N,40,1000\n"
        "P,2018HU02,01-01301,12,,,\n"
    )
    frame = read_pums_csv(csv)
    assert frame["PUMA"].tolist() == ["00100", "01-01301"]
    assert frame["SERIALNO"].tolist() == ["2018GQ01", "2018HU02"]
    assert frame["COW"].isna().all() and frame["WKHP"].isna().sum() == 1
    assert frame["AGEP"].dtype == np.int64 and frame["WKHP"].dtype == np.float64


def test_reader_concatenates_files(excerpt_2018, excerpt_2019):
    both = read_pums_csv([excerpt_2018, excerpt_2019], usecols=["AGEP", "PINCP"])
    assert both.shape == (27_111 + 27_253, 2) and both.index.is_unique


@pytest.mark.parametrize(
    ("path_fixture", "people", "rows", "positives"),
    [
        ("excerpt_2019", 27_253, 22_363, 7_456),
        ("excerpt_2018", 27_111, 22_156, 7_099),
    ],
)
def test_income_task_rows_and_rate(request, path_fixture, people, rows, positives):
    path = request.getfixturevalue(path_fixture)
    assert len(read_pums_csv(path)) == people
    bunch = load_pums_income(path)
    assert bunch.data.shape == (rows, 18)
    assert int(bunch.target.sum()) == positives
    assert bunch.target.dtype == np.int64


def test_income_task_groups_match_readme(excerpt_2019):
    _, _, race = load_pums_income(excerpt_2019, group="race", return_X_y=True)
    counts = race.value_counts()
    labels = {1: "White", 2: "Black", 6: "Asian", 8: "Some other race",
              3: "American Indian", 9: "Two or more races"}  # fmt: skip
    for code, n in README_RAC1P_2019.items():
        assert counts[labels[code]] == n
    assert counts.sum() == 22_363 and counts.min() < 30  # tiny 4, 5, 7
    _, _, sex = load_pums_income(excerpt_2019, group="sex", return_X_y=True)
    assert sex.value_counts().to_dict() == {"Female": 11_625, "Male": 10_738}
    _, _, binary = load_pums_income(excerpt_2019, return_X_y=True)
    assert binary.value_counts().to_dict() == {"White": 12_649, "Non-White": 9_714}


def test_income_features_never_leak(excerpt_2019):
    bunch = load_pums_income(excerpt_2019)
    forbidden = {"PINCP", "PINCP_DECILE", "POVPIP", "PWGTP", "WGTP", "PUMA"}
    assert not forbidden & set(bunch.feature_names)
    assert bunch.feature_names == [
        "AGEP", "SEX", "MSP", "HISP", "RAC1P", "NOC", "NPF", "HOUSING_TYPE",
        "OWN_RENT", "DENSITY", "INDP", "INDP_CAT", "EDU", "DVET", "DREM", "DPHY",
        "DEYE", "DEAR",
    ]  # fmt: skip
    assert (bunch.data["AGEP"] > 16).all()
    X, _, _ = load_pums_income(excerpt_2019, drop_sensitive=True, return_X_y=True)
    assert "RAC1P" not in X.columns and "SEX" in X.columns


def test_problem_is_folktables_basicproblem_and_pickles(excerpt_2019):
    frame = read_pums_csv(excerpt_2019)
    problem = make_income_problem(frame.columns)
    clone = pickle.loads(pickle.dumps(problem))
    features, target, group = clone.df_to_pandas(frame)
    X, y, _ = load_pums_income(excerpt_2019, return_X_y=True)
    assert features.shape == X.shape
    np.testing.assert_array_equal(
        features.to_numpy(dtype=float), X.to_numpy(dtype=float)
    )  # identical, NaN included (no nan_to_num)
    np.testing.assert_array_equal(target.iloc[:, 0].astype(int), y)
    assert group.columns.tolist() == ["RAC1P"] and len(group) == len(y)


def test_problem_validation():
    with pytest.raises(ValueError, match="needs columns"):
        make_income_problem(["SEX", "PINCP"])
    with pytest.raises(ValueError, match="POVPIP"):
        make_income_problem(["AGEP", "PINCP", "POVPIP"], features=["AGEP", "POVPIP"])
    with pytest.raises(ValueError, match="not available"):
        make_income_problem(["AGEP", "PINCP"], features=["WKHP"])
    problem = make_income_problem(
        ["AGEP", "PINCP", "PWGTP", "PWGTP17", "WGTP80", "WAGP", "SCHL"]
    )
    assert problem.features == ["AGEP", "SCHL"] and problem.group is None


def test_threshold_and_min_age(excerpt_2019):
    frame = read_pums_csv(excerpt_2019)
    bunch = load_pums_income(excerpt_2019, threshold=25_000, min_age=25)
    kept = frame[(frame.AGEP > 25) & frame.PINCP.notna()]
    assert len(bunch.target) == len(kept)
    assert int(bunch.target.sum()) == int((kept.PINCP > 25_000).sum())


def test_indp_groups_agree_with_nist_indp_cat(excerpt_2019, excerpt_dictionary):
    frame = read_pums_csv(excerpt_2019, usecols=["INDP", "INDP_CAT"])
    meaning = json.loads(excerpt_dictionary.read_text())["INDP_CAT"]["values"]
    prefix = {
        float(code): text.split(":")[0] for code, text in meaning.items() if code != "N"
    }
    expected = frame["INDP_CAT"].map(prefix).fillna("missing")
    got = pd.Series(major_category("INDP", frame["INDP"]))
    assert (got == expected).all()
    assert got.nunique() == 20  # 19 groups + missing
