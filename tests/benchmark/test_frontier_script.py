"""The comparison logic of ``benchmarks/bench_frontier.py`` (no fitting here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_frontier.py"


@pytest.fixture(scope="module")
def frontier():
    spec = importlib.util.spec_from_file_location("bench_frontier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def point(method, bound, dp, accuracy, **extra):
    return {"method": method, "bound": bound, "dp": dp, "accuracy": accuracy, **extra}


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


def test_criteria_compare_with_the_own_network_post_processed(frontier):
    # Three cases: below TO(fairsk)'s lowest DP and less accurate than it (not
    # comparable), ahead of every TO(fairsk) point at <= DP, behind one.
    points = [
        point("TO(fairsk)", 0.0, 0.020, 0.796),
        point("TO(fairsk)", 0.05, 0.050, 0.804),
        point("fairsk unconstrained", None, 0.26, 0.816),
        point("fairsk SSL-ALM", 0.01, 0.015, 0.795),
        point("fairsk SSL-ALM", 0.02, 0.020, 0.797),
        point("fairsk SSL-ALM", 0.05, 0.050, 0.803),
        point("TO(HGB)", 0.0, 0.018, 0.7995),
    ]
    lines = frontier.criteria(points)
    assert lines[0].startswith("[not comparable] fairsk SSL-ALM bound 0.01")
    assert "its lowest: bound 0, acc 0.7960 at 0.0200" in lines[0]
    assert lines[1].startswith("[met] fairsk SSL-ALM bound 0.02")
    assert "(ahead by 0.0010)" in lines[1]
    assert lines[2].startswith("[NOT met] fairsk SSL-ALM bound 0.05")
    assert "(behind by 0.0010)" in lines[2]
    # Best SSL-ALM point at DP <= 0.02: 0.797, 0.0025 behind TO(HGB): within 0.003.
    assert lines[3].startswith("[met] TO(HGB) exact")
    assert "behind by 0.0025" in lines[3]
    points[-1] = point("TO(HGB)", 0.0, 0.018, 0.8005)  # now 0.0035 behind
    assert frontier.criteria(points)[3].startswith("[NOT met] TO(HGB) exact")
    points[3] = point("fairsk SSL-ALM", 0.01, 0.015, 0.7965)  # lower DP, more acc
    assert frontier.criteria(points)[0].startswith("[met, dominates]")


def test_criteria_read_the_metric_of_the_constraint(frontier):
    points = [
        point("TO(fairsk)", 0.0, 0.30, 0.80, eo=0.010),
        point("fairsk SSL-ALM", 0.02, 0.10, 0.79, eo=0.015),  # lower DP, higher EO
    ]
    (line,) = frontier.criteria(points, metric="eo")
    assert line.startswith("[NOT met]")  # TO's EO point is lower and more accurate
    assert "at EO 0.0150" in line


def test_mean_over_seeds_groups_by_constraint_with_t_intervals(frontier):
    rows = [
        {
            "seed": s,
            "constraint": c,
            "method": "m",
            "bound": 0.02,
            "accuracy": a,
            "dp": 0.01,
            "eo": 0.02,
            "seconds": 1.0,
        }
        for c in ("dp", "eo")
        for s, a in zip((0, 1, 2), (0.79, 0.80, 0.81), strict=True)
    ]
    points = frontier.mean_over_seeds(rows)
    assert [(p["constraint"], p["n_seeds"]) for p in points] == [("dp", 3), ("eo", 3)]
    assert points[0]["accuracy"] == pytest.approx(0.80)
    # sd 0.01, t(0.975, 2) = 4.303: half-width 4.303 * 0.01 / sqrt(3).
    assert points[0]["accuracy_ci"] == pytest.approx(0.024842, abs=1e-5)
    assert points[0]["dp_ci"] == 0.0


def test_report_from_saved_rows(frontier, tmp_path, capsys):
    def row(seed, constraint, method, bound, accuracy, dp):
        return {
            "seed": seed,
            "constraint": constraint,
            "method": method,
            "bound": bound,
            "accuracy": accuracy,
            "dp": dp,
            "eo": 0.2,
            "seconds": 1.0,
        }

    rows = []
    for seed in (0, 1):
        rows += [
            row(seed, None, "fairsk unconstrained", None, 0.816, 0.26),
            row(seed, "dp", "TO(fairsk)", 0.0, 0.796, 0.015),
            row(seed, "dp", "TO(HGB)", 0.0, 0.798, 0.018),
            row(seed, "dp", "fairsk SSL-ALM", 0.02, 0.797, 0.019),
        ]
    saved = tmp_path / "rows.json"
    saved.write_text(json.dumps(rows))
    assert frontier.main(["--from-json", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "== demographic parity (mean over seeds [0, 1], 95% t-interval) ==" in out
    assert "[met] fairsk SSL-ALM bound 0.02" in out
    assert "equalized odds" not in out  # no EO rows were saved
