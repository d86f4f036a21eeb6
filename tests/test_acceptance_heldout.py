"""Acceptance: the loss-gap bound on next year's people, small protected group.

national2019 with the non-White rows subsampled to 10% (about 950 training rows
in the small group), 5 subsampling seeds, evaluated on all of national2018
(see benchmarks/bench_heldout.py, which prints the per-seed table).
"""

from __future__ import annotations

import numpy as np
import pytest

from .common import load_benchmark


@pytest.fixture(scope="module")
def rows(shared_data, excerpt_2019, excerpt_2018):
    return load_benchmark("bench_heldout").experiment(data=shared_data)


def test_gap_holds_on_2018(rows):
    g18 = np.array([r["n2018"] for r in rows])
    assert g18.mean() <= 0.015
    assert g18.std() <= 0.01


def test_auc_stays_close(rows):
    assert np.mean([r["auc_unconstrained"] - r["auc"] for r in rows]) <= 0.02


def test_validation_interval_covers_2018(rows):
    assert sum(r["covered"] for r in rows) >= 4
    assert all(r["valid_low"] <= r["valid"] <= r["valid_high"] for r in rows)


def test_small_group_is_small(rows):
    assert all(850 <= r["small_group_rows"] <= 1100 for r in rows)
