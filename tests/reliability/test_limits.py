"""Sizes and magnitudes at the edge of what a fit can take (issue 17, items 5, 9).

- **Batches larger than the data.** The objective minibatch has always been
  capped at the training rows; the constraint sample (``constraint_batch_size``,
  by default ``batch_size``) now is too, so a batch of 10⁶ or 10⁹ on 240 rows
  trains the same model as a batch of 240 instead of taking 42 s an epoch or
  exhausting memory.
- **float32.** Training runs in float32 (largest value 3.4e38). Every real
  hyperparameter above that (``lr``, ``alpha``, ``dual_lr``, ...) is a
  ValueError naming the parameter and the limit, raised before training (it
  was a RuntimeError from deep inside torch, after the estimator looked
  fitted); a bound above ``MAX_BOUND`` (1e18; larger bounds overflowed an
  epoch's sums and the fit "diverged" untrained) likewise. Sample weights are
  relative: any finite, non-negative weights train the same model as the same
  weights scaled by a power of two (1e36 and above overflowed).
- **A fit that raises leaves the estimator unfitted**, whatever it held before
  (a previous fit's model included): ``check_is_fitted`` fails and ``predict``
  raises NotFittedError rather than answer with a half-built model.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from fairsk import (
    ALMClassifier,
    SSLALMClassifier,
    StochasticGhostClassifier,
    SwitchingSubgradientClassifier,
)

from ..common import TINY

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _history(clf) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "dur"} for row in clf.history_]


@pytest.mark.parametrize(
    "cls", [SSLALMClassifier, SwitchingSubgradientClassifier], ids=lambda c: c.__name__
)
@pytest.mark.parametrize(
    "huge",
    [
        pytest.param({"batch_size": 10**5}, id="batch_1e5"),
        pytest.param({"constraint_batch_size": 10**5}, id="constraint_batch_1e5"),
        pytest.param({"batch_size": 10**9}, id="batch_1e9"),
        pytest.param(
            {"batch_size": 10**9, "constraint_batch_size": 10**9}, id="both_1e9"
        ),
    ],
)
def test_batches_larger_than_the_data_are_capped(cls, huge, synthetic):
    X, y, A = synthetic
    n = len(y)
    params = {**TINY, "max_epochs": 2}
    capped = {k: n for k in huge}
    expected = cls(**{**params, **capped}).fit(X, y, sensitive_features=A)
    clf = cls(**{**params, **huge}).fit(X, y, sensitive_features=A)
    assert clf.predict_proba(X).tobytes() == expected.predict_proba(X).tobytes()
    assert _history(clf) == _history(expected)


def test_the_cap_is_documented():
    doc = " ".join(SSLALMClassifier.__doc__.split())
    assert "capped at the number of training rows" in doc


# -- float32 ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (SSLALMClassifier, "lr"),
        (SSLALMClassifier, "alpha"),
        (SSLALMClassifier, "dual_lr"),
        (ALMClassifier, "penalty"),
        (SwitchingSubgradientClassifier, "constraint_lr"),
        (StochasticGhostClassifier, "proximal_weight"),
    ],
)
def test_a_parameter_beyond_float32_is_a_clear_error(cls, name, synthetic):
    X, y, A = synthetic
    clf = cls(**TINY).set_params(**{name: 1e39})
    with pytest.raises(
        ValueError,
        match=rf"{name}=1e\+39 is larger than float32 can hold \(3\.4e\+38\)",
    ):
        clf.fit(X, y, sensitive_features=A)
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"bound": 1e38}, id="bound"),
        pytest.param(
            {"constraint": ["demographic_parity", "loss_gap"], "bound": [0.1, 1e20]},
            id="bound_in_list",
        ),
    ],
)
def test_a_bound_too_large_for_float32_is_a_clear_error(params, synthetic):
    X, y, A = synthetic
    clf = SSLALMClassifier(**TINY, **params)
    with pytest.raises(
        ValueError, match=r"bound of 'loss_gap' is 1e\+\d\d; .* at most 1e\+18"
    ):
        clf.fit(X, y, sensitive_features=A)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


def test_the_largest_bound_trains(synthetic):
    X, y, A = synthetic
    clf = SSLALMClassifier(**TINY, bound=1e18).fit(X, y, sensitive_features=A)
    assert "diverged" not in clf.history_[-1]
    assert np.isfinite(clf.history_[-1, "objective"])


@pytest.mark.parametrize("scale", [2.0**120, 2.0**-120], ids=["2^120", "2^-120"])
def test_weights_are_relative_whatever_their_magnitude(scale, synthetic):
    X, y, A = synthetic
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    plain = SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A, sample_weight=w)
    scaled = SSLALMClassifier(**TINY).fit(
        X, y, sensitive_features=A, sample_weight=w * scale
    )
    assert "diverged" not in scaled.history_[-1]
    assert scaled.predict_proba(X).tobytes() == plain.predict_proba(X).tobytes()


def test_huge_weights_train(synthetic):
    X, y, A = synthetic
    w = np.full(len(y), 1e37)
    clf = SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A, sample_weight=w)
    same = SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A)
    assert "diverged" not in clf.history_[-1]
    np.testing.assert_allclose(clf.predict_proba(X), same.predict_proba(X), atol=1e-5)


# -- a failed fit ------------------------------------------------------------------
class _Crash(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("crash in epoch 1")


def test_a_fit_that_raises_while_training_leaves_it_unfitted(synthetic):
    X, y, A = synthetic
    clf = SSLALMClassifier(**TINY, callbacks=[_Crash()])
    with pytest.raises(RuntimeError, match="crash in epoch 1"):
        clf.fit(X, y, sensitive_features=A)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not [k for k in vars(clf) if k.endswith("_") and not k.startswith("_")]


@pytest.mark.parametrize("warm_start", [False, True], ids=["refit", "warm_start"])
def test_a_failed_refit_drops_the_previous_model(warm_start, synthetic):
    X, y, A = synthetic
    clf = SSLALMClassifier(**TINY, warm_start=warm_start)
    clf.fit(X, y, sensitive_features=A)
    # A refit that crashes while training; a warm start (whose network keeps
    # its callbacks) given the wrong number of features.
    clf.set_params(callbacks=[_Crash()])
    with pytest.raises((RuntimeError, ValueError), match=r"crash in epoch 1|features"):
        clf.fit(X[:, :2] if warm_start else X, y, sensitive_features=A)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    # Fitting again works from scratch.
    clf.set_params(callbacks=None).fit(X, y, sensitive_features=A)
    assert clf.predict(X).shape == y.shape
