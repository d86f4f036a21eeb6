"""Fixtures for the datasets tests: a no-network guard (data: ../conftest.py)."""

from __future__ import annotations

import pytest


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
