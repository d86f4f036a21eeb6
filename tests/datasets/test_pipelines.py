"""Every fairsk estimator in a Pipeline behind the dataset encoders, with fairlearn.

Small samples and one epoch: this checks the plumbing (shapes, routing of the
sensitive features, pickling, MetricFrame), not accuracy.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline

import fairsk
from fairsk.datasets import (
    ACSFeatureEncoder,
    TabularEncoder,
    load_adult,
    load_pums_income,
)

from ..common import CLASSIFIERS

N_TRAIN, N_TEST = 600, 300


def test_every_estimator_is_collected():
    exported = {
        name
        for name in fairsk.__all__
        if isinstance(getattr(fairsk, name), type)
        and issubclass(getattr(fairsk, name), ClassifierMixin)
    }
    assert {c.__name__ for c in CLASSIFIERS} == exported
    assert {"SSLALMClassifier", "UnconstrainedClassifier"} <= exported


@pytest.fixture(scope="module")
def adult_sample():
    X, y, A = load_adult(subset="train", return_X_y=True)
    Xt, yt, At = load_adult(subset="test", return_X_y=True)
    rng = np.random.default_rng(0)
    tr = rng.choice(len(X), N_TRAIN, replace=False)
    te = rng.choice(len(Xt), N_TEST, replace=False)
    return (X.iloc[tr], y.iloc[tr], A.iloc[tr]), (Xt.iloc[te], yt.iloc[te], At.iloc[te])


@pytest.fixture(scope="module")
def excerpt_sample(excerpt_2019):
    X, y, A = load_pums_income(excerpt_2019, group="sex", return_X_y=True)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(X), N_TRAIN + N_TEST, replace=False)
    tr, te = idx[:N_TRAIN], idx[N_TRAIN:]
    return (X.iloc[tr], y.iloc[tr], A.iloc[tr]), (X.iloc[te], y.iloc[te], A.iloc[te])


def _fit_and_evaluate(estimator, encoder, train, test):
    (X, y, A), (Xt, yt, At) = train, test
    model = make_pipeline(
        encoder,
        estimator(max_epochs=1, batch_size=128, random_state=0, device="cpu"),
    )
    step = model.steps[-1][0]
    model.fit(X, y, **{f"{step}__sensitive_features": A})
    pred = model.predict(Xt)
    assert pred.shape == (len(Xt),) and set(np.unique(pred)) <= {0, 1}
    frame = MetricFrame(
        metrics={"accuracy": accuracy_score, "selection_rate": selection_rate},
        y_true=yt,
        y_pred=pred,
        sensitive_features=At,
    )
    assert set(frame.by_group.index) == set(At.unique())
    assert 0 <= frame.overall["accuracy"] <= 1
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(Xt), pred)
    return frame


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda e: e.__name__)
def test_adult_pipeline(estimator, adult_sample):
    _fit_and_evaluate(estimator, TabularEncoder(), *adult_sample)


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda e: e.__name__)
def test_acs_excerpt_pipeline(estimator, excerpt_sample):
    _fit_and_evaluate(estimator, ACSFeatureEncoder(), *excerpt_sample)
