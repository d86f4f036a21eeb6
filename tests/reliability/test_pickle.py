"""Pickles: round trips (and clones), the version check, GPU-trained models on a CPU.

No GPU is needed: a GPU-trained pickle is simulated by pickling a CPU model while
torch records every storage's location as ``cuda:0`` and the net's device as
``"cuda"`` -- the bytes a CUDA model produces. The test checks that these bytes
really cannot be loaded without a ``map_location`` here, then that the estimator
loads them on the CPU (skorch maps them) and predicts as before.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.serialization
from sklearn.base import clone
from skorch.exceptions import DeviceWarning

from fairsk import SSLALMClassifier, __version__
from fairsk.estimators import base as estimator_base
from fairsk.estimators.base import IncompatibleVersionError

from ..common import CLASSIFIERS, TINY, make_synthetic


@pytest.fixture(scope="module")
def fitted():
    X, y, A = make_synthetic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 epochs: the bound is not met
        clf = SSLALMClassifier(**TINY).fit(X, y, sensitive_features=A)
    return clf, X, y, A


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_round_trip(cls, synthetic):
    X, y, A = synthetic
    clf = cls(**TINY).fit(X, y, sensitive_features=A)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.history_[:, "objective"] == clf.history_[:, "objective"]
    assert not hasattr(back, "_fairsk_version")  # consumed by __setstate__
    unfitted = pickle.loads(pickle.dumps(cls(**TINY)))
    assert unfitted.get_params() == cls(**TINY).get_params()
    fresh = clone(clf)  # a clone of a fitted estimator is unfitted
    assert not hasattr(fresh, "net_") and fresh.get_params() == clf.get_params()


def _pickled_by(version, obj, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(estimator_base, "__version__", version)
        return pickle.dumps(obj)


@pytest.mark.parametrize("old", ["0.0.3", "1.1.0", "0.2.0rc1"])
def test_other_minor_version_fails_clearly(fitted, old, monkeypatch):
    clf = fitted[0]
    blob = _pickled_by(old, clf, monkeypatch)
    with pytest.raises(IncompatibleVersionError) as info:
        pickle.loads(blob)
    message = str(info.value)
    assert f"pickled by fairsk {old}" in message
    assert f"loaded by fairsk {__version__}" in message
    assert "Install the matching fairsk version" in message and "refit" in message
    assert isinstance(info.value, ValueError)


def test_same_minor_version_loads(fitted, monkeypatch):
    clf, X, _, _ = fitted
    major, minor = __version__.split(".")[:2]
    blob = _pickled_by(f"{major}.{minor}.7", clf, monkeypatch)
    np.testing.assert_array_equal(pickle.loads(blob).predict(X), clf.predict(X))


class _Unversioned(SSLALMClassifier):
    """Pickles as a fairsk that recorded no version did: without the entry that
    ``BaseFairClassifier.__getstate__`` adds."""

    def __getstate__(self):
        state = super().__getstate__()
        del state["_fairsk_version"]
        return state


def test_pickle_without_a_version_fails_clearly(synthetic):
    X, y, A = synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 3 epochs: the bound is not met
        blob = pickle.dumps(_Unversioned(**TINY).fit(X, y, sensitive_features=A))
    with pytest.raises(IncompatibleVersionError, match="unknown version"):
        pickle.loads(blob)


# -- GPU-trained pickles on a CPU-only machine --------------------------------------
def _as_if_from_cuda(clf, monkeypatch):
    """Pickle ``clf`` with every storage tagged ``cuda:0`` and device "cuda"."""
    with monkeypatch.context() as m:
        m.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        m.setattr(clf.net_, "device", "cuda")
        # A CUDA generator's state (16 bytes), not a CPU one.
        m.setattr(clf.net_.algorithm_, "rng_state", torch.arange(16, dtype=torch.uint8))
        blob = pickle.dumps(clf)
        inner = clf.net_.__getstate__()["__cuda_dependent_attributes__"]
    return blob, inner


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="simulates a machine without CUDA"
)
def test_gpu_trained_pickle_loads_on_cpu(fitted, monkeypatch):
    clf, X, y, A = fitted
    blob, inner = _as_if_from_cuda(clf, monkeypatch)
    assert b"cuda:0" in blob
    # The simulated bytes are what a CUDA model gives: plain torch loading fails.
    with pytest.raises(RuntimeError, match="deserialize object on a CUDA device"):
        pickle.loads(inner)
    with pytest.warns(DeviceWarning, match="no CUDA devices are available"):
        back = pickle.loads(blob)
    assert torch.device(back.net_.device).type == "cpu"
    assert all(p.device.type == "cpu" for p in back.net_.module_.parameters())
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    # Training continues on the CPU: the CUDA generator state is replaced by a
    # freshly seeded CPU generator.
    back.set_params(warm_start=True, max_epochs=1, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        back.fit(X, y, sensitive_features=A)
    assert len(back.history_) == len(clf.history_) + 1
    assert np.isfinite(back.predict_proba(X)).all()
