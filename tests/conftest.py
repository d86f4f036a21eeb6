"""Fixtures shared by every test: synthetic toy data, and the real data beside the
repository.

Tests that need ``../shared/data`` skip with a clear reason when it is absent; CI
always has it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fairsk.engine import torch_threads

from .common import make_synthetic

#: ``../shared/data`` beside the repository (CI has the same folder there).
SHARED_DATA = (Path(__file__).parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture
def synthetic():
    """``make_synthetic()``: 240 rows, 3 features, groups "a" / "b", binary labels.

    Fresh arrays for every test, so a test may change them in place.
    """
    return make_synthetic()


def _synthetic_rows(n: int):
    """The module-scoped fixture ``synthetic_<n>``: ``make_synthetic(n=n)``, made once
    a module and shared by its tests, which read it and do not change it in place."""

    @pytest.fixture(scope="module", name=f"synthetic_{n}")
    def rows():
        return make_synthetic(n=n)

    return rows


#: Larger synthetic data for the modules that fit whole estimators on it (400 rows in
#: batches of 100, or 600 in batches of 50, give round steps an epoch).
synthetic_160 = _synthetic_rows(160)
synthetic_320 = _synthetic_rows(320)
synthetic_400 = _synthetic_rows(400)
synthetic_600 = _synthetic_rows(600)


@pytest.fixture(scope="module")
def one_thread():
    """One torch intra-op thread for a module's tests: on two shared cores a small
    MLP step is an order of magnitude slower with two."""
    with torch_threads(1):
        yield


def require(path: Path) -> Path:
    """Return ``path``, or skip the test when the shared data is absent."""
    if not path.exists():
        pytest.skip(
            f"real data {path} is absent; these tests need the shared data folder "
            "../shared/data beside the repository (see its README.md)"
        )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return require(SHARED_DATA)


@pytest.fixture(scope="session")
def excerpt_2019(shared_data) -> Path:
    return require(shared_data / "acs-excerpts" / "national2019.csv")


@pytest.fixture(scope="session")
def excerpt_2018(shared_data) -> Path:
    return require(shared_data / "acs-excerpts" / "national2018.csv")


@pytest.fixture(scope="session")
def excerpt_dictionary(shared_data) -> Path:
    return require(shared_data / "acs-excerpts" / "data_dictionary.json")


@pytest.fixture(scope="session")
def adult_dir(shared_data) -> Path:
    return require(shared_data / "adult")


@pytest.fixture(scope="session")
def acs_income(excerpt_2019):
    """The real ACS 2019 income task, encoded: ``(X, y, A)`` as numpy arrays.

    Adults with income, target PINCP > 50,000, no income-derived feature, groups
    White vs everyone else; features one-hot / scaled by ACSFeatureEncoder (fit on
    all rows: the acceptance tests compare methods on the same encoding).
    """
    from fairsk.datasets import ACSFeatureEncoder, load_pums_income

    X, y, A = load_pums_income(excerpt_2019, return_X_y=True)
    Xe = ACSFeatureEncoder().fit_transform(X)
    return np.asarray(Xe, dtype=np.float32), np.asarray(y), np.asarray(A)
