"""Acceptance on real data: the ACS 2019 income task, loss gap bound 0.005.

The paper's protocol (ALGORITHMS.md): one 80/20 split stratified on group (and
label here), seed 42; three training seeds. Adults with income, target
PINCP > 50,000, no income-derived feature, groups White vs everyone else.
|ΔL| is fairlearn's per-group log-loss spread (:func:`fairsk.metrics.loss_gap`).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from fairsk import (
    ALMClassifier,
    PenaltyClassifier,
    SSLALMClassifier,
    UnconstrainedClassifier,
)
from fairsk.metrics import loss_gap

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def split(acs_income):
    X, y, A = acs_income
    strata = np.char.add(A.astype(str), y.astype(str))
    return train_test_split(X, y, A, test_size=0.2, random_state=42, stratify=strata)


@pytest.fixture(scope="module")
def results(split):
    Xtr, Xte, ytr, yte, Atr, Ate = split
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small network trains fastest on one thread
    out = {}
    try:
        for cls in (
            UnconstrainedClassifier,
            SSLALMClassifier,
            ALMClassifier,
            PenaltyClassifier,
        ):
            rows = []
            for seed in SEEDS:
                clf = cls(constraint="loss_gap", bound=0.005, random_state=seed)
                clf.fit(Xtr, ytr, sensitive_features=Atr)
                ptr, pte = clf.predict_proba(Xtr)[:, 1], clf.predict_proba(Xte)[:, 1]
                rows.append(
                    (
                        loss_gap(ytr, ptr, sensitive_features=Atr),
                        loss_gap(yte, pte, sensitive_features=Ate),
                        roc_auc_score(yte, pte),
                    )
                )
            out[cls.__name__] = np.mean(rows, axis=0)
    finally:
        torch.set_num_threads(threads)
    return out


def test_unconstrained_is_unfair(results):
    train_gap, _, auc = results["UnconstrainedClassifier"]
    assert train_gap > 0.05 and auc > 0.85


def test_sslalm_meets_the_bound_and_keeps_auc(results):
    train_gap, test_gap, auc = results["SSLALMClassifier"]
    assert train_gap <= 0.0075
    assert test_gap <= 0.02
    assert auc >= results["UnconstrainedClassifier"][2] - 0.02


@pytest.mark.parametrize("name", ["ALMClassifier", "PenaltyClassifier"])
def test_baselines_halve_the_gap(results, name):
    assert results[name][0] <= results["UnconstrainedClassifier"][0] / 2
