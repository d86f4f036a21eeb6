"""Shared arguments and data for the benchmark tests: tiny, so each run is quick."""

from __future__ import annotations

import pytest

#: A benchmark small enough for a test: 300 training and test rows, one epoch.
TINY = [
    "benchmark",
    "--max-train",
    "300",
    "--max-test",
    "300",
    "--epochs",
    "1",
    "--batch-size",
    "64",
]


@pytest.fixture
def tiny():
    """A fresh copy of :data:`TINY` (tests append to it)."""
    return list(TINY)


@pytest.fixture(scope="session")
def tiny_data():
    """Adult, 300 training and 200 test rows, encoded."""
    from fairsk.benchmark import DatasetSpec, load_benchmark_data

    return load_benchmark_data(DatasetSpec(max_train=300, max_test=200))
