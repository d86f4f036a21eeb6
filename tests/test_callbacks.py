"""skorch's callbacks and idioms on fairsk's classifiers, and fairsk's own callbacks.

The engine runs skorch's own training loop (issue 13): every skorch callback gets
what skorch promises it, named callbacks take ``callbacks__<name>__<param>``, a
callback instance the user passes is the one that runs, and any torch module
returning one logit per row trains.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import (
    BatchScoring,
    Callback,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
    ProgressBar,
)
from torch import nn

from fairsk import (
    PenaltyClassifier,
    SSLALMClassifier,
    SwitchingSubgradientClassifier,
    UnconstrainedClassifier,
)
from fairsk.callbacks import WeightAveraging

from .common import TINY

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: Tiny settings with validation rows, for callbacks that read validation scores.
VALID = {**TINY, "validation_fraction": 0.25}


def test_epoch_scoring_on_validation_and_training(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(
        **VALID,
        callbacks=[
            ("acc", EpochScoring("accuracy", name="acc", lower_is_better=False)),
            EpochScoring("f1", on_train=True, name="train_f1", lower_is_better=False),
        ],
    ).fit(X, y, sensitive_features=A)
    acc = clf.history_[:, "acc"]
    f1 = clf.history_[:, "train_f1"]
    assert len(acc) == len(f1) == TINY["max_epochs"]
    assert all(0.0 <= v <= 1.0 for v in acc + f1)
    # valid_acc (skorch's default for a binary net) scores the same rows.
    assert acc == clf.history_[:, "valid_acc"]


def test_batch_scoring_records_each_validation_batch(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(
        **VALID,
        callbacks=[BatchScoring("accuracy", name="bacc", lower_is_better=False)],
    ).fit(X, y, sensitive_features=A)
    last = clf.history_[-1]
    assert 0.0 <= last["bacc"] <= 1.0
    assert any("bacc" in b for b in last["batches"])


def test_early_stopping_on_validation_loss(synthetic_320):
    X, y, A = synthetic_320
    stop = EarlyStopping(monitor="valid_loss", patience=1, threshold=10.0)
    clf = SSLALMClassifier(**{**VALID, "max_epochs": 10}, callbacks=[("es", stop)])
    clf.fit(X, y, sensitive_features=A)
    # A threshold of 10 is never beaten: it stops after patience + 1 epochs.
    assert clf.n_iter_ == 2


def test_early_stopping_on_a_fairness_score(synthetic_320):
    X, y, A = synthetic_320
    stop = EarlyStopping(monitor="valid_loss_gap", patience=1, threshold=10.0)
    clf = SSLALMClassifier(**{**VALID, "max_epochs": 10}, callbacks=[stop])
    assert clf.fit(X, y, sensitive_features=A).n_iter_ == 2


@pytest.mark.parametrize(
    "cb",
    [
        EarlyStopping(),
        EpochScoring("accuracy"),
        ("es", EarlyStopping(monitor="valid_loss_gap")),
    ],
    ids=["early_stopping", "epoch_scoring", "named"],
)
def test_validation_scores_without_validation_rows_name_the_fix(synthetic_320, cb):
    X, y, A = synthetic_320
    with pytest.raises(ValueError, match="set validation_fraction"):
        SSLALMClassifier(**TINY, callbacks=[cb]).fit(X, y, sensitive_features=A)


class _GradNorms(Callback):
    """Records the gradient norm after clipping (GradientNormClipping runs first)."""

    def initialize(self):
        self.norms_ = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        self.norms_.append(float(torch.norm(torch.stack([g.norm() for g in grads]))))


def test_gradient_norm_clipping_clips_what_the_step_uses(synthetic_320):
    X, y, A = synthetic_320
    seen = _GradNorms()
    SSLALMClassifier(
        **TINY,
        callbacks=[GradientNormClipping(gradient_clip_value=1e-3), seen],
    ).fit(X, y, sensitive_features=A)
    assert len(seen.norms_) == TINY["max_epochs"] * len(X) // 32  # one per step
    assert max(seen.norms_) <= 1e-3 * (1 + 1e-4)
    unclipped = _GradNorms()
    SSLALMClassifier(**TINY, callbacks=[unclipped]).fit(X, y, sensitive_features=A)
    assert max(unclipped.norms_) > 1e-2


def test_lr_scheduler_with_a_constant_schedule(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(
        **{**TINY, "lr": 0.1},
        lr_schedule="constant",
        callbacks=[LRScheduler(policy="StepLR", step_size=1, gamma=0.5)],
    ).fit(X, y, sensitive_features=A)
    np.testing.assert_allclose(clf.history_[:, "event_lr"], [0.1, 0.05, 0.025])


def test_default_cosine_schedule_is_a_named_callback(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(**{**TINY, "max_epochs": 4, "lr": 0.1})
    clf.fit(X, y, sensitive_features=A)
    lrs = clf.history_[:, "event_lr"]
    np.testing.assert_allclose(lrs, 0.05 * (1 + np.cos(np.pi * np.arange(4) / 4)))
    assert dict(clf.net_.callbacks_)["lr_scheduler"].policy.__name__ == (
        "CosineAnnealingLR"
    )


def test_progress_bar_runs(synthetic_320, capsys):
    X, y, A = synthetic_320
    SSLALMClassifier(**TINY, callbacks=[ProgressBar()]).fit(X, y, sensitive_features=A)
    assert capsys.readouterr() is not None


def test_print_log_columns_stay_aligned_once_averaging_starts(synthetic_320):
    X, y, A = synthetic_320
    out = io.StringIO()
    with redirect_stdout(out):
        SSLALMClassifier(**{**VALID, "max_epochs": 4}, average=0.5, verbose=1).fit(
            X, y, sensitive_features=A
        )
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    header, rule, rows = lines[0], lines[1], lines[2:]
    assert len(rows) == 4
    # Every row has the header's width and no more columns than it.
    widths = [len(re.sub(r"\x1b\[[0-9;]*m", "", row)) for row in rows]
    assert set(widths) == {len(rule)}
    assert "avg_loss_gap" in header


class _Recorder(Callback):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


def test_the_users_callback_instance_is_the_one_that_runs(synthetic_320):
    X, y, A = synthetic_320
    mine = _Recorder()
    SSLALMClassifier(**TINY, callbacks=[mine]).fit(X, y, sensitive_features=A)
    assert mine.epochs == TINY["max_epochs"]


def test_set_params_on_a_named_callback(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(
        **{**VALID, "max_epochs": 10},
        callbacks=[("es", EarlyStopping(patience=5, threshold=10.0))],
    )
    clf.set_params(callbacks__es__patience=1)
    assert clf.callbacks[0][1].patience == 1
    assert clf.fit(X, y, sensitive_features=A).n_iter_ == 2
    with pytest.raises(ValueError, match="no callback named 'nope'"):
        clf.set_params(callbacks__nope__patience=1)


def test_grid_search_over_a_named_callback(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(
        **{**VALID, "max_epochs": 6},
        callbacks=[("es", EarlyStopping(patience=1, threshold=10.0))],
    )
    search = GridSearchCV(clf, {"callbacks__es__patience": [1, 3]}, cv=2)
    search.fit(X, y, sensitive_features=A)
    epochs = {p["callbacks__es__patience"]: None for p in search.cv_results_["params"]}
    assert set(epochs) == {1, 3}
    best = search.best_estimator_
    assert best.n_iter_ == best.callbacks[0][1].patience + 1


def test_fairsk_callbacks_are_named_and_settable(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(**{**TINY, "max_epochs": 4}).fit(X, y, sensitive_features=A)
    names = [name for name, _ in clf.net_.callbacks_]
    for name in ("divergence", "averaging", "fairness", "margins", "lr_scheduler"):
        assert name in names
    averaging = dict(clf.net_.callbacks_)["averaging"]
    assert isinstance(averaging, WeightAveraging) and averaging.start == 0.5
    clf.net_.set_params(callbacks__averaging__start=0.0)
    assert dict(clf.net_.callbacks_)["averaging"].start == 0.0
    # The estimator's own setting is the one home of that value.
    clf.set_params(average=None, confidence=None).fit(X, y, sensitive_features=A)
    names = [name for name, _ in clf.net_.callbacks_]
    assert "averaging" not in names and "margins" not in names


def test_multipliers_and_loss_curve(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A)
    lam = clf.multipliers_
    assert list(lam.index) == clf.constraint_names_
    np.testing.assert_array_equal(lam.to_numpy(), clf.history_[-1, "multipliers"])
    assert clf.loss_curve_ == clf.history_[:, "train_loss"]
    assert len(clf.loss_curve_) == clf.n_iter_
    plain = PenaltyClassifier(**TINY).fit(X, y, sensitive_features=A)
    assert plain.multipliers_ is None and len(plain.loss_curve_) == plain.n_iter_


class SmallNet(nn.Module):
    """A network with batch norm and dropout, one logit per row."""

    def __init__(self, n_features, width=16, dropout=0.1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, width),
            nn.BatchNorm1d(width),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(width, 1),
        )

    def forward(self, X):
        return self.body(X)  # shape (n, 1): one logit per row


def test_custom_module_class_with_routed_arguments(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(**TINY, module=SmallNet, module__width=8)
    assert clf.get_params()["module__width"] == 8
    clf.fit(X, y, sensitive_features=A)
    assert isinstance(clf.net_.module_, SmallNet)
    assert clf.net_.module_.body[0].out_features == 8
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
    # Seeded from random_state although SmallNet draws its initial weights from
    # torch's global generator: the caller's global state does not matter.
    a = SSLALMClassifier(**TINY, module=SmallNet, module__dropout=0.0)
    b = SSLALMClassifier(**TINY, module=SmallNet, module__dropout=0.0)
    torch.manual_seed(123)
    pa = a.fit(X, y, sensitive_features=A).predict_proba(X)
    torch.manual_seed(7)
    pb = b.fit(X, y, sensitive_features=A).predict_proba(X)
    np.testing.assert_array_equal(pa, pb)


def test_custom_module_instance_is_copied_for_each_fit(synthetic_320):
    X, y, A = synthetic_320
    net = SmallNet(X.shape[1], width=8, dropout=0.0)
    before = [p.detach().clone() for p in net.parameters()]
    clf = SSLALMClassifier(**TINY, module=net)
    p1 = clf.fit(X, y, sensitive_features=A).predict_proba(X)
    p2 = clf.fit(X, y, sensitive_features=A).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)  # both fits start from the same weights
    for b, p in zip(before, net.parameters(), strict=True):
        assert torch.equal(b, p)  # the user's instance is untouched


class TwoLogits(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.lin = nn.Linear(n_features, 2)

    def forward(self, X):
        return self.lin(X)


def test_a_module_without_one_logit_per_row_is_rejected(synthetic_320):
    X, y, A = synthetic_320
    with pytest.raises(ValueError, match=r"one logit per row.*\(2, 2\)"):
        SSLALMClassifier(**TINY, module=TwoLogits).fit(X, y, sensitive_features=A)
    with pytest.raises(TypeError, match=r"torch\.nn\.Module class or instance"):
        SSLALMClassifier(**TINY, module=dict).fit(X, y, sensitive_features=A)
    with pytest.raises(ValueError, match="'module' parameter"):
        SSLALMClassifier(**TINY, module=len).fit(X, y, sensitive_features=A)


def test_any_torch_optimizer_for_the_primal_step(synthetic_320):
    X, y, A = synthetic_320
    clf = SSLALMClassifier(
        **{**TINY, "lr": 0.01},
        optimizer=torch.optim.Adam,
        optimizer__betas=(0.8, 0.9),
    ).fit(X, y, sensitive_features=A)
    inner = clf.net_.optimizer_.optimizer  # SSL-ALM's Moreau envelope wraps it
    assert isinstance(inner, torch.optim.Adam)
    assert inner.param_groups[0]["betas"] == (0.8, 0.9)
    assert np.isfinite(clf.predict_proba(X)).all()
    plain = UnconstrainedClassifier(**TINY, optimizer=torch.optim.Adam).fit(X, y)
    assert isinstance(plain.net_.optimizer_, torch.optim.Adam)


def test_switching_takes_sgd_only(synthetic_320):
    X, y, A = synthetic_320
    with pytest.raises(ValueError, match="only SGD"):
        SwitchingSubgradientClassifier(**TINY, optimizer=torch.optim.Adam).fit(
            X, y, sensitive_features=A
        )


def test_divergence_is_reported_by_its_callback(synthetic_320):
    X, y, A = synthetic_320
    with pytest.warns(ConvergenceWarning, match="Training diverged at epoch 1"):
        clf = SSLALMClassifier(**{**TINY, "lr": 1e6}).fit(
            X * 1e3, y, sensitive_features=A
        )
    assert clf.history_[-1, "diverged"] is True
