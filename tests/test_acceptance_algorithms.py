"""Real-data acceptance of the switching subgradient and Stochastic Ghost classifiers.

On the ACS 2019 income task (groups White vs everyone else, loss_gap bound 0.005),
for seeds 0, 1, 2 (80/20 split stratified on group × label, split seed = model
seed), each new constrained classifier with its defaults must, on the mean over the
seeds,

- at least halve the train |ΔL| = |log_loss(White) - log_loss(Non-White)| of
  UnconstrainedClassifier trained the same way (same epochs and batch size),
- keep its test AUC no more than 0.05 below the unconstrained one (0.03 for
  SwitchingSubgradientClassifier).

Runs in CI (not marked slow). Torch uses one thread here: on two shared cores a
small MLP step is an order of magnitude slower with two intra-op threads.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from fairsk import (
    StochasticGhostClassifier,
    SwitchingSubgradientClassifier,
    UnconstrainedClassifier,
)
from fairsk.metrics import loss_gap

SEEDS = (0, 1, 2)
#: Allowed test-AUC drop below the unconstrained baseline.
AUC_MARGIN = {
    "SwitchingSubgradientClassifier": 0.03,
    "StochasticGhostClassifier": 0.05,
}


def white_gap(y, proba, A) -> float:
    """|ΔL| between White and everyone else (fairsk.metrics.loss_gap)."""
    return loss_gap(y, proba[:, 1], sensitive_features=A == "White")


def evaluate(clf, X, y, A, seed) -> dict:
    train, test = train_test_split(
        np.arange(len(y)),
        test_size=0.2,
        stratify=np.char.add(A.astype(str), y.astype(str)),
        random_state=seed,
    )
    start = time.perf_counter()
    clf.fit(X[train], y[train], sensitive_features=A[train])
    seconds = time.perf_counter() - start
    p_train, p_test = clf.predict_proba(X[train]), clf.predict_proba(X[test])
    return {
        "train_gap": white_gap(y[train], p_train, A[train]),
        "test_gap": white_gap(y[test], p_test, A[test]),
        "auc": roc_auc_score(y[test], p_test[:, 1]),
        "seconds": seconds,
    }


@pytest.fixture(scope="module")
def results(acs_income, one_thread):
    """Per estimator name, the per-seed metrics, and its unconstrained baseline's."""
    X, y, A = acs_income
    out = {}
    for make in (SwitchingSubgradientClassifier, StochasticGhostClassifier):
        clf = make()
        same_way = {"max_epochs": clf.max_epochs, "batch_size": clf.batch_size}
        rows = [evaluate(make(random_state=s), X, y, A, s) for s in SEEDS]
        base = [
            evaluate(UnconstrainedClassifier(random_state=s, **same_way), X, y, A, s)
            for s in SEEDS
        ]
        out[make.__name__] = (rows, base)
    lines = [f"{'estimator':34s} seed  train|ΔL|  test|ΔL|  AUC     fit s"]
    for name, (rows, base) in out.items():
        for label, rs in ((name, rows), ("  Unconstrained, same epochs", base)):
            for s, r in zip(SEEDS, rs, strict=True):
                lines.append(
                    f"{label:34s} {s:4d}  {r['train_gap']:.4f}     {r['test_gap']:.4f}"
                    f"    {r['auc']:.4f}  {r['seconds']:.1f}"
                )
    print("\n".join(lines))
    return out


def mean(rows, key):
    return float(np.mean([r[key] for r in rows]))


@pytest.mark.parametrize("name", sorted(AUC_MARGIN))
def test_halves_the_train_loss_gap(results, name):
    rows, base = results[name]
    assert mean(rows, "train_gap") <= 0.5 * mean(base, "train_gap"), (
        f"{name}: train |ΔL| {mean(rows, 'train_gap'):.4f} vs unconstrained "
        f"{mean(base, 'train_gap'):.4f}"
    )


@pytest.mark.parametrize("name", sorted(AUC_MARGIN))
def test_keeps_the_test_auc(results, name):
    rows, base = results[name]
    drop = mean(base, "auc") - mean(rows, "auc")
    assert drop <= AUC_MARGIN[name], (
        f"{name}: test AUC {mean(rows, 'auc'):.4f} vs unconstrained "
        f"{mean(base, 'auc'):.4f} (drop {drop:.4f} > {AUC_MARGIN[name]})"
    )
