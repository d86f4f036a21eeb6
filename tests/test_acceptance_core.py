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


class BatchNormNet(torch.nn.Module):
    """The paper's 64-32 network with batch norm: one logit per row."""

    def __init__(self, n_features):
        super().__init__()
        layers, width = [], n_features
        for out in (64, 32):
            layers += [
                torch.nn.Linear(width, out),
                torch.nn.BatchNorm1d(out),
                torch.nn.ReLU(),
            ]
            width = out
        self.body = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))

    def forward(self, X):
        return self.body(X)


def test_a_custom_module_meets_the_bound(split, results):
    # Issue 13: any torch network trains under the constraint (skorch's module=).
    # Measured (seed 0): train |dL| .0055, AUC .881. With dropout 0.1 the train
    # gap of the eval-mode network was .014: the constraint is estimated on the
    # train-mode (dropped-out) network, which is not the one predict uses.
    Xtr, Xte, ytr, yte, Atr, _ = split
    clf = SSLALMClassifier(
        module=BatchNormNet, constraint="loss_gap", bound=0.005, random_state=0
    )
    clf.fit(Xtr, ytr, sensitive_features=Atr)
    assert isinstance(clf.net_.module_, BatchNormNet)
    ptr, pte = clf.predict_proba(Xtr)[:, 1], clf.predict_proba(Xte)[:, 1]
    assert loss_gap(ytr, ptr, sensitive_features=Atr) <= 0.0075
    assert roc_auc_score(yte, pte) >= results["UnconstrainedClassifier"][2] - 0.02
