"""Fixtures for the datasets tests: the real data folder, and a no-network guard."""

from __future__ import annotations

from pathlib import Path

import pytest

#: ``../shared/data`` beside the repository (CI has the same folder there).
SHARED_DATA = (Path(__file__).parents[2] / ".." / "shared" / "data").resolve()


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"real data {path} is absent; these tests need the shared data folder "
            "../shared/data beside the repository (see its README.md)"
        )
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _require(SHARED_DATA)


@pytest.fixture(scope="session")
def excerpt_2019(shared_data) -> Path:
    return _require(shared_data / "acs-excerpts" / "national2019.csv")


@pytest.fixture(scope="session")
def excerpt_2018(shared_data) -> Path:
    return _require(shared_data / "acs-excerpts" / "national2018.csv")


@pytest.fixture(scope="session")
def excerpt_dictionary(shared_data) -> Path:
    return _require(shared_data / "acs-excerpts" / "data_dictionary.json")


@pytest.fixture(scope="session")
def adult_dir(shared_data) -> Path:
    return _require(shared_data / "adult")


@pytest.fixture
def no_network(monkeypatch):
    """Make any HTTP request through ``requests`` fail, as offline."""
    import requests

    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(url)
        raise requests.exceptions.ConnectionError(
            f"Failed to resolve 'www2.census.gov' (offline test) for {url}"
        )

    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)
    return calls
