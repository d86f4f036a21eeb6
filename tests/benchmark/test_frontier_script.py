"""The comparison logic of ``benchmarks/bench_frontier.py`` (no fitting here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_frontier.py"


@pytest.fixture(scope="module")
def frontier():
    spec = importlib.util.spec_from_file_location("bench_frontier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def point(method, bound, dp, accuracy):
    return {"method": method, "bound": bound, "dp": dp, "accuracy": accuracy}


def test_frontier_keeps_the_staircase_and_interpolates(frontier):
    mine = [
        point("fairsk SSL-ALM", 0.01, 0.02, 0.79),
        point("fairsk SSL-ALM", 0.02, 0.04, 0.78),  # dominated: lower acc, higher DP
        point("fairsk SSL-ALM", 0.05, 0.06, 0.80),
    ]
    assert frontier.frontier_at(mine, 0.01) is None  # below the lowest DP
    assert frontier.frontier_at(mine, 0.02) == pytest.approx(0.79)
    # Between (0.02, 0.79) and (0.06, 0.80): the dominated point is skipped.
    assert frontier.frontier_at(mine, 0.04) == pytest.approx(0.795)
    assert frontier.frontier_at(mine, 0.5) == pytest.approx(0.80)


def test_compare_counts_the_unconstrained_network_as_the_loose_end(frontier):
    points = [
        point("fairsk SSL-ALM", 0.1, 0.10, 0.80),
        point("fairsk unconstrained", None, 0.30, 0.82),
        point("EG(LogReg)", 0.1, 0.20, 0.805),
        point("LogReg", None, 0.25, 0.81),  # not a mitigation: not compared
    ]
    (line,) = frontier.compare(points)
    assert line.startswith("EG(LogReg)")
    assert "frontier at DP 0.2000: 0.8100 (ahead by 0.0050)" in line
    assert "best fairsk model at <= DP: bound 0.1, acc 0.8000" in line
