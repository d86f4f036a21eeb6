"""Nothing lost: interrupted fits resume to the same model; benchmark files are atomic.

A fit checkpointed every epoch with skorch's ``Checkpoint`` (``f_algorithm``
saves the update rule's state: multipliers, slack, anchors, weight averages and
the random generator) and interrupted by a KeyboardInterrupt resumes, in a new
estimator with the same seed and ``LoadInitState``, to predictions bit-identical
to an uninterrupted fit.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from skorch.callbacks import Checkpoint, LoadInitState

from fairsk import FitInterruptedWarning, SSLALMClassifier
from fairsk.benchmark import io as bench_io
from fairsk.benchmark.io import RunStore, atomic_write

from ..common import CLASSIFIERS, TINY, StopAtEpochEnd, StopMidEpoch, checkpoint

SIX = {**TINY, "max_epochs": 6}  # weight averaging over epochs 4-6


def _interrupt_and_resume(cls, params, stopper, folder, X, y, A):
    part = cls(**params, callbacks=[checkpoint(folder), stopper])
    with pytest.warns(FitInterruptedWarning):  # the interrupt stops fit, which returns
        part.fit(X, y, sensitive_features=A)
    assert part.interrupted_
    cp = checkpoint(folder)
    resumed = cls(**params, callbacks=[cp, LoadInitState(cp)])
    resumed.fit(X, y, sensitive_features=A)
    assert not resumed.interrupted_
    assert not any(row.get("interrupted") for row in resumed.history_)
    return part, resumed


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_interrupted_fit_resumes_to_the_same_model(cls, tmp_path, synthetic):
    X, y, A = synthetic
    full = cls(**SIX).fit(X, y, sensitive_features=A)
    part, resumed = _interrupt_and_resume(
        cls, SIX, StopAtEpochEnd(2), tmp_path, X, y, A
    )
    assert part.n_iter_ == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "algorithm.pt",
        "criterion.pt",
        "history.json",
        "optimizer.pt",
        "params.pt",
    ]
    assert resumed.n_iter_ == 6
    np.testing.assert_array_equal(resumed.predict_proba(X), full.predict_proba(X))
    # The resumed history continues the saved one.
    assert resumed.history_[:2, "train_loss"] == part.history_[:, "train_loss"]
    assert resumed.history_[:, "objective"] == full.history_[:, "objective"]


@pytest.mark.parametrize(
    ("params", "stopper"),
    [
        pytest.param(SIX, StopAtEpochEnd(4), id="while_averaging"),
        pytest.param(SIX, StopMidEpoch(3), id="mid_epoch"),
        pytest.param(
            {**SIX, "validation_fraction": 0.25}, StopAtEpochEnd(3), id="validation"
        ),
        pytest.param(
            {
                **SIX,
                "dual_update": "nupi",
                "confidence": None,
                "lr_schedule": "constant",
            },
            StopAtEpochEnd(3),
            id="nupi_constant_lr",
        ),
    ],
)
def test_resume_variants(params, stopper, tmp_path, synthetic):
    X, y, A = synthetic
    full = SSLALMClassifier(**params).fit(X, y, sensitive_features=A)
    _, resumed = _interrupt_and_resume(
        SSLALMClassifier, params, stopper, tmp_path, X, y, A
    )
    np.testing.assert_array_equal(resumed.predict_proba(X), full.predict_proba(X))
    assert resumed.history_[-1, "multipliers"] == full.history_[-1, "multipliers"]


def test_resume_twice(tmp_path, synthetic):
    X, y, A = synthetic
    full = SSLALMClassifier(**SIX).fit(X, y, sensitive_features=A)
    with pytest.warns(FitInterruptedWarning):
        SSLALMClassifier(
            **SIX, callbacks=[checkpoint(tmp_path), StopAtEpochEnd(2)]
        ).fit(X, y, sensitive_features=A)
    cp = checkpoint(tmp_path)
    with pytest.warns(FitInterruptedWarning):
        SSLALMClassifier(
            **SIX, callbacks=[cp, LoadInitState(cp), StopAtEpochEnd(4)]
        ).fit(X, y, sensitive_features=A)
    cp = checkpoint(tmp_path)
    last = SSLALMClassifier(**SIX, callbacks=[cp, LoadInitState(cp)]).fit(
        X, y, sensitive_features=A
    )
    assert len(last.history_) == 6
    np.testing.assert_array_equal(last.predict_proba(X), full.predict_proba(X))


def test_without_f_algorithm_the_resume_differs(tmp_path, synthetic):
    """The update rule's state is what makes the resume exact (this test can fail)."""
    X, y, A = synthetic
    full = SSLALMClassifier(**SIX).fit(X, y, sensitive_features=A)
    plain = Checkpoint(monitor=None, dirname=str(tmp_path))
    with pytest.warns(FitInterruptedWarning):
        SSLALMClassifier(**SIX, callbacks=[plain, StopAtEpochEnd(4)]).fit(
            X, y, sensitive_features=A
        )
    plain = Checkpoint(monitor=None, dirname=str(tmp_path))
    with pytest.warns(UserWarning, match=r"no f_algorithm.*start afresh"):
        resumed = SSLALMClassifier(**SIX, callbacks=[plain, LoadInitState(plain)]).fit(
            X, y, sensitive_features=A
        )
    assert not np.array_equal(resumed.predict_proba(X), full.predict_proba(X))


def test_monitored_checkpoint_formats_file_names_from_the_history(tmp_path, synthetic):
    """Checkpoint formats file names from the last epoch and batch rows."""
    X, y, A = synthetic
    cp = Checkpoint(
        monitor="train_loss_best",
        f_params="params_{last_epoch[epoch]}.pt",
        f_algorithm="algorithm.pt",
        dirname=str(tmp_path),
    )
    clf = SSLALMClassifier(**SIX, callbacks=[cp]).fit(X, y, sensitive_features=A)
    assert (tmp_path / "params_1.pt").exists()
    batches = clf.history_[-1, "batches"]  # skorch's loop: one row per step
    assert sum(b["train_batch_size"] for b in batches) == len(y)


# -- the benchmark's files -------------------------------------------------------
def test_atomic_write_keeps_the_old_file_on_a_crash(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    atomic_write(target, json.dumps({"runs": 1}))

    def crash(src, dst):
        raise KeyboardInterrupt  # the process dies between write and rename

    monkeypatch.setattr(bench_io.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, json.dumps({"runs": 2}))
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"runs": 1}
    assert os.listdir(tmp_path) == ["results.json"]  # no temporary file left
    atomic_write(target, json.dumps({"runs": 2}))
    assert json.loads(target.read_text()) == {"runs": 2}


def test_run_store_resumes_and_retries_broken_records(tmp_path):
    store = RunStore(tmp_path)
    store.save({"run_id": "done", "status": "ok", "score": float("nan")})
    store.save({"run_id": "failed", "status": "error"})
    store.path("torn").write_text('{"run_id": "torn", "sta')  # a non-atomic crash
    records = store.read()
    assert records["torn"] is None  # unreadable: the sweep reruns it
    assert records["failed"]["status"] == "error"
    assert records["done"]["score"] is None  # strict JSON, no NaN
