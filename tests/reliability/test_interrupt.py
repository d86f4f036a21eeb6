"""Ctrl-C during a fit: training stops, fit returns, and the fit says so (issue 17).

skorch catches a KeyboardInterrupt raised while training and returns normally;
fairsk keeps that (the interrupt stops training, ``fit`` returns the estimator)
but never lets the result pass for a finished fit:

- it warns with :class:`fairsk.FitInterruptedWarning`, sets ``interrupted_`` to
  True (False after an uninterrupted fit) and records ``"interrupted": True`` in
  the last row of ``history_`` (the row of the epoch it stopped in);
- the returned model is the last *finished* epoch's last iterate: weight
  averaging and ``select="feasible"`` are not applied and the end-of-fit bound
  check does not run; ``n_iter_`` counts the finished epochs. With no finished
  epoch, the initial weights are returned and the warning says so.

A callback that raises KeyboardInterrupt itself is skorch's documented way to
end training early (``EarlyStopping``, the benchmark's time budget): that is a
planned end, not an interruption. Only SIGINT (Ctrl-C) counts as one; the
tests press it with ``signal.raise_signal``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from skorch.callbacks import EarlyStopping

import fairsk
from fairsk import FitInterruptedWarning, SSLALMClassifier

from ..common import CLASSIFIERS, TINY, EndAfter, StopAtEpochEnd, StopMidEpoch

#: No schedule and no averaging: a fit of 2 epochs is the first 2 epochs of a
#: fit of 4, so an interrupted fit can be compared with a shorter one.
PLAIN = {**TINY, "max_epochs": 4, "lr_schedule": "constant", "average": None}


def _fit(params, X, y, A, callbacks=None):
    clf = SSLALMClassifier(**params, callbacks=callbacks)
    return clf.fit(X, y, sensitive_features=A)


def test_the_warning_is_public():
    assert issubclass(FitInterruptedWarning, UserWarning)
    assert fairsk.FitInterruptedWarning is fairsk.exceptions.FitInterruptedWarning
    assert "FitInterruptedWarning" in fairsk.__all__


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_an_uninterrupted_fit_says_it_was_not(cls, synthetic):
    X, y, A = synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitInterruptedWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = cls(**TINY).fit(X, y, sensitive_features=A)
    assert clf.interrupted_ is False
    assert not any("interrupted" in row for row in clf.history_)


@pytest.mark.parametrize(
    ("stopper", "rows"),
    [
        pytest.param(StopAtEpochEnd(2), 2, id="at_the_end_of_epoch_2"),
        pytest.param(StopMidEpoch(3), 3, id="in_epoch_3"),
    ],
)
def test_interrupt_returns_the_last_finished_epoch(stopper, rows, synthetic):
    X, y, A = synthetic
    short = _fit({**PLAIN, "max_epochs": 2}, X, y, A)
    with pytest.warns(
        FitInterruptedWarning,
        match=r"interrupted \(KeyboardInterrupt\) in epoch "
        + str(rows)
        + r" of 4.* weights of epoch 2, the last that finished",
    ):
        clf = _fit(PLAIN, X, y, A, callbacks=[stopper])
    assert clf.interrupted_ is True
    assert len(clf.history_) == rows
    assert clf.history_[-1]["interrupted"] is True
    assert clf.n_iter_ == 2
    # The model of epoch 2, as a 2-epoch fit returns it, bit for bit.
    assert clf.predict_proba(X).tobytes() == short.predict_proba(X).tobytes()


def test_interrupt_while_averaging_returns_the_last_iterate(synthetic):
    X, y, A = synthetic
    params = {**TINY, "max_epochs": 6}  # averaging over epochs 4-6
    with pytest.warns(FitInterruptedWarning, match="not applied"):
        clf = _fit(params, X, y, A, callbacks=[StopAtEpochEnd(5)])
    last = clf.history_[-1]
    assert last["interrupted"] is True and last["epoch"] == 5
    # The returned weights are epoch 5's iterate that history_ describes under
    # its plain keys, not the average (avg_*): their full-data losses differ.
    loss = log_loss(y, clf.predict_proba(X)[:, 1])
    assert loss == pytest.approx(last["objective"], rel=1e-5)
    assert last["avg_objective"] != pytest.approx(last["objective"], rel=1e-5)
    assert not any(row.get("selected") for row in clf.history_)


def test_interrupt_before_any_epoch_finished(synthetic):
    X, y, A = synthetic
    with pytest.warns(FitInterruptedWarning, match="no epoch finished.*initial"):
        clf = _fit(PLAIN, X, y, A, callbacks=[StopMidEpoch(1)])
    assert clf.interrupted_ is True
    assert clf.n_iter_ == 0
    assert clf.history_[-1]["interrupted"] is True
    assert np.isfinite(clf.predict_proba(X)).all()


def test_a_refit_clears_the_flag(synthetic):
    X, y, A = synthetic
    clf = SSLALMClassifier(**PLAIN, callbacks=[StopAtEpochEnd(2)])
    with pytest.warns(FitInterruptedWarning):
        clf.fit(X, y, sensitive_features=A)
    clf.set_params(callbacks=None).fit(X, y, sensitive_features=A)
    assert clf.interrupted_ is False
    assert clf.n_iter_ == 4


# -- planned stops: a callback's own KeyboardInterrupt -------------------------------
def test_a_callback_ending_training_is_not_an_interrupt(synthetic):
    X, y, A = synthetic
    params = {**TINY, "max_epochs": 6}  # averaging over epochs 4-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitInterruptedWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = _fit(params, X, y, A, callbacks=[EndAfter(5)])
    assert clf.interrupted_ is False
    assert clf.n_iter_ == 5
    assert not any("interrupted" in row for row in clf.history_)
    # Finished as a fit that ends there: the average of epochs 4-5.
    last = clf.history_[-1]
    loss = log_loss(y, clf.predict_proba(X)[:, 1])
    assert loss == pytest.approx(last["avg_objective"], rel=1e-5)


def test_early_stopping_is_a_planned_end(synthetic):
    X, y, A = synthetic
    # A relative threshold of 100%: no epoch after the first improves enough.
    stop = EarlyStopping(monitor="train_loss", patience=1, threshold=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitInterruptedWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = _fit({**TINY, "max_epochs": 6}, X, y, A, callbacks=[stop])
    assert clf.interrupted_ is False
    assert clf.n_iter_ == 2
