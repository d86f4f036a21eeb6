"""The constraint on train and on test: compilation, baselines' logits, intervals."""

from __future__ import annotations

import numpy as np
import pytest

from fairsk.benchmark.heldout import (
    EPS,
    HELD_OUT_FIELDS,
    baseline_logits,
    compile_on_train,
    constraint_values,
    group_codes,
)
from fairsk.metrics import paper_metrics


@pytest.fixture(scope="module")
def splits():
    rng = np.random.default_rng(1)
    out = {}
    for split, n in (("train", 600), ("test", 500)):
        groups = rng.choice(["a", "b"], n, p=[0.3, 0.7])
        y = rng.integers(0, 2, n)
        # Group a gets higher scores: a clear demographic-parity gap.
        z = rng.normal(size=n) + 0.8 * (groups == "a") + 0.5 * (2 * y - 1)
        out[split] = (z, y, groups)
    return out


def values(splits, constraint, bound, **kwargs):
    _, y, g = splits["train"]
    compiled, encoder = compile_on_train(constraint, bound, "auto", y, g)
    return constraint_values(
        compiled,
        {s: splits[s][0] for s in splits},
        {s: splits[s][1] for s in splits},
        {s: group_codes(encoder, splits[s][2]) for s in splits},
        **kwargs,
    )


def test_values_on_train_are_the_paper_metrics(splits):
    z, y, g = splits["train"]
    p = 1 / (1 + np.exp(-z))
    metrics = paper_metrics(y, p, g)
    dp = values(splits, "demographic_parity", 0.05)
    assert dp["train_constraint_value"] == pytest.approx(metrics["ind"])
    gap = values(splits, "loss_gap", 0.05)
    assert gap["train_constraint_value"] == pytest.approx(metrics["loss_gap"])


def test_interval_and_holds(splits):
    out = values(splits, "demographic_parity", 0.05, seed=0)
    assert set(out) == set(HELD_OUT_FIELDS)
    assert out["constraint_bound"] == 0.05
    low, value, high = (
        out["test_constraint_low"],
        out["test_constraint_value"],
        out["test_constraint_high"],
    )
    assert 0 <= low < value < high
    assert out["test_constraint_violation"] == pytest.approx(value - 0.05)
    # The gap is far above 0.05, and far below 0.9: the interval says so.
    assert not out["test_constraint_holds"]
    assert values(splits, "demographic_parity", 0.9)["test_constraint_holds"]
    # Seeded: the same interval again; another seed, another one.
    assert values(splits, "demographic_parity", 0.05, seed=0) == out
    other = values(splits, "demographic_parity", 0.05, seed=1)
    assert other["test_constraint_high"] != high
    assert other["test_constraint_value"] == value


def test_ratio_bounds_hold_above(splits):
    out = values(splits, "demographic_parity_ratio", 0.3)
    assert out["test_constraint_low"] <= out["test_constraint_value"] <= 1
    assert out["test_constraint_violation"] == pytest.approx(
        0.3 - out["test_constraint_value"]
    )
    assert out["test_constraint_holds"] == (out["test_constraint_low"] >= 0.3)
    strict = values(splits, "demographic_parity_ratio", 0.99)
    assert not strict["test_constraint_holds"]


def test_bound_free_runs_hold_nothing(splits):
    out = values(splits, "loss_gap", 0.01, bound_free=True)
    assert out["test_constraint_value"] > 0
    for key in (
        "constraint_bound",
        "train_constraint_violation",
        "test_constraint_violation",
        "test_constraint_holds",
    ):
        assert out[key] is None


def test_rows_of_unseen_groups_are_left_out(splits):
    z, y, g = splits["test"]
    with_new = {**splits, "test": (z, y, np.where(np.arange(len(g)) < 5, "new", g))}
    kept = {**splits, "test": (z[5:], y[5:], g[5:])}
    with pytest.warns(UserWarning, match="5 test rows of groups unseen"):
        out = values(with_new, "demographic_parity", 0.05)
    assert out == values(kept, "demographic_parity", 0.05)


def test_baseline_logits():
    rates, _ = compile_on_train(
        "equalized_odds", 0.1, "auto", [0, 1, 0, 1], list("aabb")
    )
    # Rates: the sign is the baseline's own prediction, not its score.
    assert baseline_logits([0.9, 0.1], [0, 1], rates).tolist() == [-1.0, 1.0]
    loss, _ = compile_on_train("loss_gap", 0.1, "auto", [0, 1, 0, 1], list("aabb"))
    logits = baseline_logits([0.0, 0.25, 1.0], [0, 0, 1], loss)
    assert logits[1] == pytest.approx(np.log(1 / 3))
    assert logits[0] == pytest.approx(np.log(EPS)) and logits[2] == -logits[0]
