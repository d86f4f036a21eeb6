"""Models trained as one (:mod:`fairsk.batched`) equal their separate fits."""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from fairsk import (
    PenaltyClassifier,
    SSLALMClassifier,
    SwitchingSubgradientClassifier,
    UnconstrainedClassifier,
    batched,
)
from fairsk.batched import batchable, fit_together

from .common import TINY, make_synthetic

ATOL = 1e-4  # the batched products sum in another order: float rounding only


def _alone(est, X, y, A, rows=None, w=None):
    r = slice(None) if rows is None else rows
    return est.fit(X[r], y[r], sensitive_features=A[r], sample_weight=w)


def _same(batched, alone, X):
    assert batched.n_iter_ == alone.n_iter_
    np.testing.assert_allclose(
        batched.predict_proba(X), alone.predict_proba(X), atol=ATOL
    )
    np.testing.assert_allclose(
        batched.history_[:, "train_loss"], alone.history_[:, "train_loss"], atol=ATOL
    )


@pytest.mark.parametrize(
    "cls", [SSLALMClassifier, PenaltyClassifier, UnconstrainedClassifier]
)
def test_bounds_and_seeds_equal_separate_fits(cls):
    X, y, A = make_synthetic(300)
    settings = [(0.05, 0), (0.2, 1), (0.05, 2)]
    extra = {} if cls is UnconstrainedClassifier else {"constraint": "loss_gap"}
    make = [
        cls(**{**TINY, **extra, "random_state": s}, **({"bound": b} if extra else {}))
        for b, s in settings
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a tiny fit may miss its bound: both warn
        together = fit_together(make, X, y, sensitive_features=A)
        alone = [_alone(e.__class__(**e.get_params()), X, y, A) for e in make]
    for b, a in zip(together, alone, strict=True):
        _same(b, a, X)
    if cls is SSLALMClassifier:
        np.testing.assert_allclose(
            together[1].multipliers_, alone[1].multipliers_, atol=ATOL
        )
        assert not np.allclose(together[0].multipliers_, together[1].multipliers_)


def test_folds_equal_fits_on_the_fold_rows(monkeypatch):
    """Models on different rows of one X (CV folds, sizes differing by one)."""
    runs = []
    train = batched._train
    monkeypatch.setattr(batched, "_train", lambda e, *a: runs.append(train(e, *a)))
    X, y, A = make_synthetic(301)
    folds = [tr for tr, _ in StratifiedKFold(3).split(X, y)]
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    make = [SSLALMClassifier(**TINY, bound=0.1) for _ in folds]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        together = fit_together(
            make, X, y, sensitive_features=A, rows=folds, sample_weight=w
        )
        for est, r in zip(together, folds, strict=True):
            alone = SSLALMClassifier(**TINY, bound=0.1).fit(
                X[r], y[r], sensitive_features=A[r], sample_weight=w[r]
            )
            _same(est, alone, X)
            assert est.n_features_in_ == 3
            assert list(est.groups_) == list(alone.groups_)
    assert len(runs) == 1  # 200 and 201 rows: last minibatches of 8 and 9 rows


def test_a_warm_start_after_training_together_continues_each_model():
    """Each model keeps its own generator and multipliers: fitting on continues it."""
    X, y, A = make_synthetic(200)
    make = [SSLALMClassifier(**{**TINY, "random_state": s}) for s in (0, 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        together = fit_together(make, X, y, sensitive_features=A)
        alone = SSLALMClassifier(**{**TINY, "random_state": 1}).fit(
            X, y, sensitive_features=A
        )
        for est in (together[1], alone):
            est.set_params(warm_start=True).fit(X, y, sensitive_features=A)
    _same(together[1], alone, X)


def test_what_cannot_train_together_is_fitted_alone_with_the_same_results():
    X, y, A = make_synthetic(200)
    ssg = [SwitchingSubgradientClassifier(**TINY, bound=b) for b in (0.05, 0.1)]
    assert "not batched" in batchable(ssg)
    assert "dual_update='momentum'" in batchable(
        [SSLALMClassifier(dual_update="momentum")] * 2
    )
    assert "different classes" in batchable([SSLALMClassifier(), PenaltyClassifier()])
    assert "differ in more than" in batchable(
        [SSLALMClassifier(lr=0.1), SSLALMClassifier(lr=0.2)]
    )
    assert "validation_fraction" in batchable(
        [SSLALMClassifier(validation_fraction=0.2)] * 2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        together = fit_together(ssg, X, y, sensitive_features=A)
        alone = _alone(SwitchingSubgradientClassifier(**TINY, bound=0.1), X, y, A)
    _same(together[1], alone, X)


def test_a_diverging_model_stops_and_rolls_back_as_its_separate_fit():
    X, y, A = make_synthetic(200)
    make = [SSLALMClassifier(**{**TINY, "lr": 1e6, "random_state": s}) for s in (0, 1)]
    with pytest.warns(Warning) as caught:
        together = fit_together(make, X, y, sensitive_features=A)
    assert any("diverg" in str(w.message).lower() for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = SSLALMClassifier(**{**TINY, "lr": 1e6, "random_state": 1}).fit(
            X, y, sensitive_features=A
        )
    _same(together[1], alone, X)
    assert np.isfinite(together[0].predict_proba(X)).all()
