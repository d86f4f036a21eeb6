"""load_acs: folktables' own tasks on files in folktables' on-disk layout, offline.

The files here are SYNTHETIC person records written by the tests in the exact
layout and column format of the Census Bureau's PUMS CSVs; they test mechanics only
(which rows, which columns, which errors), never statistics.
"""

from __future__ import annotations

import importlib
import io
import pickle
import zipfile
from pathlib import Path

import folktables
import numpy as np
import pandas as pd
import pytest

from fairsk.datasets import (
    ACS_TASKS,
    ACSDownloadError,
    ACSFeatureEncoder,
    acs_person_file,
    get_data_home,
    load_acs,
)

# The module (the package attribute folktables.load_acs is a function).
folktables_load_acs = importlib.import_module("folktables.load_acs")

# Every column any of the five tasks reads (features, targets, filters), plus the
# identifier columns a Census file starts with.
_SYNTHETIC_CODES = {
    "COW": range(1, 10), "SCHL": range(1, 25), "MAR": range(1, 6),
    "RELP": range(0, 18), "SEX": (1, 2), "RAC1P": range(1, 10), "DIS": (1, 2),
    "ESP": range(1, 9), "CIT": range(1, 6), "MIG": (1, 2, 3), "MIL": range(1, 5),
    "ANC": (1, 2, 3, 4, 8), "NATIVITY": (1, 2), "DEAR": (1, 2), "DEYE": (1, 2),
    "DREM": (1, 2), "ESR": range(1, 7), "FER": (1, 2), "GCL": (1, 2),
    "JWTR": range(1, 13), "PUBCOV": (1, 2),
    "OCCP": (10, 440, 1021, 2205, 3255, 4720, 5240, 6260, 9130, 9920),
    "POBP": (6, 40, 48, 72, 110, 210, 303, 414, 501),
    "POWPUMA": (100, 200, 1400),
}  # fmt: skip
_OFTEN_MISSING = (
    "COW", "WKHP", "OCCP", "ESP", "MIG", "MIL", "GCL", "FER", "JWTR", "JWMNP",
    "POWPUMA", "POVPIP", "ESR", "PINCP", "SCHL", "RELP",
)  # fmt: skip


def write_synthetic_psam_p40(path: Path, n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Write SYNTHETIC person records as a Census ``psam_p40.csv`` (Oklahoma).

    Returns the frame written (NaN where the CSV has an empty field).
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "RT": "P",
            "SERIALNO": [f"2018SYN{i:07d}" for i in range(n)],
            "SPORDER": 1,
            "PUMA": rng.choice(["00100", "00200", "01400"], size=n),
            "ST": 40,
            "ADJINC": 1013097,
            "PWGTP": rng.integers(0, 200, size=n),  # 0 exercises ACSIncome's filter
            "AGEP": rng.integers(0, 96, size=n),
            "WKHP": rng.integers(0, 99, size=n).astype(float),
            "JWMNP": rng.integers(1, 120, size=n).astype(float),
            "POVPIP": rng.integers(0, 502, size=n).astype(float),
            "PINCP": rng.choice([-5000, 0, 90, 101, 30000, 50000, 50001, 120000], n),
        }
    )
    for col, codes in _SYNTHETIC_CODES.items():
        frame[col] = rng.choice(list(codes), size=n)
    frame["PINCP"] = frame["PINCP"].astype(float)
    for col in _OFTEN_MISSING:
        values = frame[col].astype(float)
        values[rng.random(n) < 0.2] = np.nan
        frame[col] = values
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, na_rep="")
    return frame


@pytest.fixture
def synthetic_acs_root(tmp_path) -> Path:
    """A folktables root holding one SYNTHETIC 2018 1-Year Oklahoma person file."""
    write_synthetic_psam_p40(tmp_path / "2018" / "1-Year" / "psam_p40.csv")
    return tmp_path


def _folktables_reference(root: Path, problem):
    data = folktables.ACSDataSource(
        survey_year="2018", horizon="1-Year", survey="person", root_dir=str(root)
    ).get_data(states=["OK"], download=False)
    return problem.df_to_pandas(data)


def test_person_file_layout_matches_folktables(tmp_path):
    for year, name in [(2018, "psam_p40.csv"), (2016, "ss16pok.csv")]:
        path = acs_person_file(tmp_path, "OK", year, "1-Year")
        assert path == tmp_path / str(year) / "1-Year" / name
        path.parent.mkdir(parents=True)
        path.write_text("RT\n")
        found = folktables_load_acs.initialize_and_download(
            str(path.parent), "OK", year, "1-Year", "person", download=False
        )
        assert Path(found) == path
    assert acs_person_file(tmp_path, "ca", 2019, "5-Year").name == "psam_p06.csv"


@pytest.mark.parametrize("task", sorted(ACS_TASKS))
def test_load_acs_gives_folktables_rows(synthetic_acs_root, task):
    problem = getattr(folktables, ACS_TASKS[task])
    X, y, A = load_acs(
        task, ["OK"], 2018, root=synthetic_acs_root, download=False, return_X_y=True
    )
    ref_X, ref_y, _ = _folktables_reference(synthetic_acs_root, problem)
    assert 0 < len(X) == len(ref_X) == len(y) == len(A)
    assert list(X.columns) == list(problem.features) == list(ref_X.columns)
    # folktables turns NaN into 0 (np.nan_to_num); fairsk keeps NaN.
    np.testing.assert_array_equal(
        X.fillna(0).to_numpy(dtype=float), ref_X.to_numpy(dtype=float)
    )
    np.testing.assert_array_equal(y.to_numpy(), ref_y.iloc[:, 0].astype(int))
    assert set(np.unique(y)) <= {0, 1} and y.dtype == np.int64


def test_income_rows_are_acsincome_filter(synthetic_acs_root):
    written = pd.read_csv(synthetic_acs_root / "2018" / "1-Year" / "psam_p40.csv")
    keep = (
        (written.AGEP > 16)
        & (written.PINCP > 100)
        & (written.WKHP > 0)
        & (written.PWGTP >= 1)
    )
    bunch = load_acs("income", ["OK"], 2018, root=synthetic_acs_root, download=False)
    expected = written[keep].reset_index(drop=True)
    assert len(bunch.data) == keep.sum()
    pd.testing.assert_series_equal(
        bunch.data["AGEP"], expected["AGEP"], check_dtype=False
    )
    np.testing.assert_array_equal(bunch.target, (expected.PINCP > 50_000).astype(int))
    # Missing codes stay missing (COW is often missing in the synthetic file).
    assert bunch.data["COW"].isna().sum() == expected["COW"].isna().sum() > 0
    white = np.where(expected.RAC1P == 1, "White", "Non-White")
    np.testing.assert_array_equal(bunch.sensitive_features, white)
    assert bunch.frame.shape == (len(expected), len(bunch.feature_names) + 1)
    assert bunch.target_names == ["PINCP"] and "ACSIncome" in bunch.DESCR


def test_load_acs_groups_drop_and_arrays(synthetic_acs_root):
    X, y, A = load_acs(
        "income",
        "OK",
        root=synthetic_acs_root,
        download=False,
        group="sex_race",
        drop_sensitive=True,
        return_X_y=True,
        as_frame=False,
    )
    assert isinstance(X, np.ndarray) and X.shape[1] == 8  # SEX and RAC1P dropped
    assert all(", " in label for label in A)
    assert A.dtype == object and y.dtype == np.int64


def test_load_acs_missing_file_names_it(tmp_path, no_network):
    with pytest.raises(FileNotFoundError) as info:
        load_acs("income", ["OK", "AL"], 2018, root=tmp_path, download=False)
    message = str(info.value)
    folder = tmp_path / "2018" / "1-Year"
    assert str(folder / "psam_p40.csv") in message
    assert str(folder / "psam_p01.csv") in message
    assert str(folder) in message
    assert "csv_pok.zip" in message and "www2.census.gov" in message
    assert "download=True" in message and "FAIRSK_DATA" in message
    assert not folder.exists()  # nothing created when nothing is read
    assert no_network == []


def test_load_acs_offline_download_raises_clear_error(tmp_path, no_network, capsys):
    with pytest.raises(ACSDownloadError) as info:
        load_acs("income", ["OK"], 2018, root=tmp_path, download=True)
    assert isinstance(info.value, ConnectionError) and isinstance(info.value, OSError)
    message = str(info.value)
    assert "Census Bureau" in message and "could not" in message.lower()
    assert str(tmp_path / "2018" / "1-Year" / "psam_p40.csv") in message
    assert "unzip psam_p40.csv" in message and "download=False" in message
    assert "offline test" in message  # folktables' swallowed exception is reported
    assert len(no_network) == 1 and no_network[0].endswith("/2018/1-Year/csv_pok.zip")
    assert capsys.readouterr().out == ""  # folktables' prints do not leak


def test_load_acs_bad_download_raises_clear_error(tmp_path, monkeypatch):
    import requests

    class NotAZip:
        content = b"<html>Service unavailable</html>"

        def raise_for_status(self):
            return None

    monkeypatch.setattr(requests, "get", lambda url, *a, **k: NotAZip())
    with pytest.raises(ACSDownloadError, match="not a zip file"):
        load_acs("income", ["OK"], 2018, root=tmp_path, download=True)


def test_load_acs_downloads_through_folktables(tmp_path, monkeypatch):
    import requests

    source = tmp_path / "source" / "psam_p40.csv"
    write_synthetic_psam_p40(source)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(source, "psam_p40.csv")
    urls = []

    class Zipped:
        content = buffer.getvalue()

    def fake_get(url, *args, **kwargs):
        urls.append(url)
        return Zipped()

    monkeypatch.setattr(requests, "get", fake_get)
    root = tmp_path / "cache"
    bunch = load_acs("income", ["OK"], 2018, root=root, download=True)
    assert (root / "2018" / "1-Year" / "psam_p40.csv").is_file()
    assert urls == [
        "https://www2.census.gov/programs-surveys/acs/data/pums/2018/1-Year/csv_pok.zip"
    ]
    ref_X, _, _ = _folktables_reference(root, folktables.ACSIncome)
    assert len(bunch.data) == len(ref_X) > 0
    load_acs("income", ["OK"], 2018, root=root, download=True)  # cached: no request
    assert len(urls) == 1


def test_default_root_from_environment(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("FAIRSK_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    with pytest.raises(FileNotFoundError, match=r"psam_p40\.csv"):
        load_acs("income", ["OK"], download=False)
    write_synthetic_psam_p40(
        tmp_path / "env" / "acs" / "2018" / "1-Year" / "psam_p40.csv"
    )
    assert len(load_acs("income", ["OK"], download=False).data) > 0
    monkeypatch.delenv("FAIRSK_DATA")
    import platformdirs

    assert get_data_home() == Path(platformdirs.user_cache_dir("fairsk"))
    assert get_data_home(tmp_path) == tmp_path


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"task": "incme"}, ValueError, "Unknown task 'incme'"),
        ({"task": 3}, TypeError, "task must be"),
        ({"states": ["XX"]}, ValueError, "Unknown state 'XX'"),
        ({"states": []}, ValueError, "states is empty"),
        ({"year": 2012}, ValueError, "year must be an integer >= 2014"),
        ({"horizon": "3-Year"}, ValueError, "horizon must be"),
    ],
)
def test_load_acs_validates_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_acs(**{"root": tmp_path, "download": False, **kwargs})


def test_load_acs_accepts_a_folktables_problem(synthetic_acs_root):
    problem = folktables.BasicProblem(
        features=["AGEP", "SEX"], target="ESR", target_transform=lambda s: s == 1
    )
    bunch = load_acs(problem, ["OK"], root=synthetic_acs_root, download=False)
    assert bunch.feature_names == ["AGEP", "SEX"] and len(bunch.data) == 120


def test_acs_encoder_on_load_acs_output(synthetic_acs_root):
    X, _, _ = load_acs(
        "income", ["OK"], root=synthetic_acs_root, download=False, return_X_y=True
    )
    encoder = ACSFeatureEncoder().fit(X)
    Z = encoder.transform(X)
    assert Z.dtype == np.float64 and not np.isnan(Z).any()
    names = encoder.get_feature_names_out().tolist()
    assert "COW_missing" in names and "WKHP" in names
    assert {"OCCP_MGR", "POBP_US", "POBP_ASIA"} <= set(names)
    assert not any(name.startswith("OCCP_1") for name in names)  # grouped
    clone = pickle.loads(pickle.dumps(encoder))
    np.testing.assert_array_equal(clone.transform(X), Z)
