"""Run specs, the time budget, one run's record, and the algorithm registry."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import fairsk
from fairsk import UnconstrainedClassifier
from fairsk.benchmark import RunSpec, WallClockBudget, execute, plan_runs
from fairsk.benchmark.heldout import HELD_OUT_FIELDS
from fairsk.benchmark.registry import algorithm_names, our_estimators
from fairsk.benchmark.runs import _compile, _Curves, is_complete
from fairsk.estimators import BaseFairClassifier


def test_wall_clock_budget_stops_after_the_epoch_that_spends_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = UnconstrainedClassifier(
        max_epochs=10_000,
        batch_size=32,
        callbacks=[WallClockBudget(0.0)],
        random_state=0,
    )
    assert clf.fit(X, y).n_iter_ == 1
    # A budget that is never spent leaves max_epochs in charge.
    clf.set_params(max_epochs=3, callbacks=[WallClockBudget(3600)])
    assert clf.fit(X, y).n_iter_ == 3


def test_run_id_is_stable_and_tracks_what_changes_results():
    base = RunSpec("sslalm", 0, "loss_gap", 0.005)
    assert base.run_id == RunSpec("sslalm", 0, "loss_gap", 0.005).run_id
    assert base.run_id.startswith("sslalm_loss_gap_b0.005_s0_")
    changed = [
        RunSpec("sslalm", 1, "loss_gap", 0.005),
        RunSpec("sslalm", 0, "loss_gap", 0.01),
        RunSpec("sslalm", 0, "loss_gap", 0.005, epochs=3),
        RunSpec("sslalm", 0, "loss_gap", 0.005, params=(("lr", 0.1),)),
        RunSpec("sslalm", 0, "loss_gap", 0.005, data_key="other"),
    ]
    assert len({s.run_id for s in [base, *changed]}) == 6
    # Execution details do not change the result, nor the id.
    same = RunSpec("sslalm", 0, "loss_gap", 0.005, threads=4, monitor_bound=0.3)
    assert same.run_id == base.run_id
    # fairlearn baselines ignore the network's budget; fairsk ignores the proxy.
    gs = RunSpec("gs-logreg", 0, "loss_gap", 0.005)
    assert gs.run_id == RunSpec("gs-logreg", 0, "loss_gap", 0.005, epochs=99).run_id
    # The pairing does not change fairlearn's model, but the constraint it is
    # measured on.
    other = RunSpec("gs-logreg", 0, "loss_gap", 0.005, pairing="one_vs_mean")
    assert gs.run_id != other.run_id
    assert base.run_id == RunSpec("sslalm", 0, "loss_gap", 0.005, proxy=None).run_id


def test_plan_runs_sweeps_bounds_and_seeds():
    specs = plan_runs(
        ["sgd", "alm", "eg-logreg", "logreg"],
        [0, 1, 2],
        [0.01, 0.05],
        constraint="demographic_parity",
        params={"alm": {"lr": 0.1}},
    )
    count = {}
    for s in specs:
        count[s.algorithm] = count.get(s.algorithm, 0) + 1
    # sgd and logreg: bound-free; alm: 2 x 3; eg: 2 bounds, first seed only.
    assert count == {"sgd": 3, "alm": 6, "eg-logreg": 2, "logreg": 1}
    assert specs[0].algorithm == "eg-logreg"  # the longest runs start first
    assert all(s.params == (("lr", 0.1),) for s in specs if s.algorithm == "alm")
    every = plan_runs(
        ["eg-logreg"], [0, 1], [0.01], constraint="loss_gap", fairlearn_every_seed=True
    )
    assert sorted(s.seed for s in every) == [0, 1]


def test_execute_records_metrics_and_trajectory(tiny_data):
    spec = RunSpec("sslalm", 0, "loss_gap", 0.01, epochs=2, batch_size=64)
    rec = execute(spec, tiny_data)
    assert rec["status"] == "ok", rec.get("error")
    assert rec["run_id"] == spec.run_id and rec["epochs_run"] == 2
    assert 0 <= rec["test_accuracy"] <= 1 and rec["test_ina"] == pytest.approx(
        1 - rec["test_accuracy"]
    )
    traj = rec["trajectory"]
    assert traj["epoch"] == [1, 2] and traj["time"][1] >= traj["time"][0]
    # The curves end at the returned model only without weight averaging (its
    # default starts at half the epochs); the first epoch's iterate is the model
    # after one epoch, train and test alike.
    assert set(traj) >= {"train_objective", "test_objective", "train_constraint"}
    assert all(v >= 0 for v in traj["train_constraint"] + traj["test_constraint"])
    # The constraint on train and test: the test value with its interval.
    assert rec["constraint_bound"] == 0.01
    assert rec["train_constraint_value"] == pytest.approx(rec["train_loss_gap"])
    # On test, fairsk's compiled group statistics weight each (group, label) cell
    # by its training share, |ΔL| by the test rows' own: close, as the split is
    # stratified on group x label, but not equal.
    assert rec["test_constraint_value"] == pytest.approx(rec["test_loss_gap"], abs=1e-3)
    assert 0 <= rec["test_constraint_low"] <= rec["test_constraint_high"]
    assert rec["test_constraint_violation"] == pytest.approx(
        rec["test_constraint_value"] - 0.01
    )
    assert rec["test_constraint_holds"] == (rec["test_constraint_high"] <= 0.01)
    assert is_complete(rec)


def test_held_out_values_of_a_bound_free_run(tiny_data):
    rec = execute(RunSpec("sgd", 0, "loss_gap", None, epochs=1), tiny_data)
    assert rec["status"] == "ok", rec.get("error")
    assert rec["test_constraint_value"] >= 0 and rec["test_constraint_high"] >= 0
    for key in (
        "constraint_bound",
        "train_constraint_violation",
        "test_constraint_violation",
        "test_constraint_holds",
    ):
        assert key in rec and rec[key] is None, key


@pytest.mark.filterwarnings("ignore::DeprecationWarning:fairlearn")
@pytest.mark.parametrize("name", ["eg-logreg", "threshold-logreg", "gs-logreg"])
def test_fairlearn_runs_are_measured_on_their_own_predictions(name, tiny_data):
    # A rate constraint on a randomised classifier: its own (seeded) predictions,
    # as Ind is computed, not its probability of predicting 1 rounded at 0.5.
    params = (("grid_size", 5),) if name == "gs-logreg" else ()
    rec = execute(
        RunSpec(name, 0, "demographic_parity", 0.05, params=params), tiny_data
    )
    assert rec["status"] == "ok", rec.get("error")
    assert rec["train_constraint_value"] == pytest.approx(rec["train_ind"])
    assert rec["test_constraint_value"] == pytest.approx(rec["test_ind"], abs=0.01)
    assert rec["test_constraint_low"] <= rec["test_constraint_high"]
    assert rec["test_constraint_holds"] == (rec["test_constraint_high"] <= 0.05)


def test_only_complete_records_are_resumed():
    assert is_complete({"status": "skipped", "reason": "no counterpart"})
    assert not is_complete({"status": "error"})
    assert not is_complete({"status": "ok", "test_accuracy": 0.8})
    full = {"status": "ok", **dict.fromkeys(HELD_OUT_FIELDS, 0.0)}
    assert is_complete(full)
    full.pop("test_constraint_high")
    assert not is_complete(full)


def test_execute_with_a_seconds_budget(tiny_data):
    spec = RunSpec("sgd", 0, "loss_gap", None, epochs=None, seconds=1e-6)
    rec = execute(spec, tiny_data)
    assert rec["status"] == "ok" and rec["epochs_run"] == 1
    assert rec["budget"] == "1e-06 s of training"


def test_execute_turns_failures_into_records(tiny_data):
    bad = RunSpec("alm", 0, "loss_gap", 0.01, epochs=1, params=(("lr", -1.0),))
    rec = execute(bad, tiny_data)
    assert rec["status"] == "error" and "lr" in rec["error"]
    assert "Traceback" in rec["traceback"]
    skip = RunSpec("threshold-logreg", 0, "bounded_group_loss", 0.5)
    rec = execute(skip, tiny_data)
    assert rec["status"] == "skipped" and "ThresholdOptimizer" in rec["reason"]


def test_registry_finds_ours_and_new_classifiers(monkeypatch):
    names = our_estimators()
    assert {"sslalm", "alm", "penalty", "sgd"} <= set(names)
    assert "eg-hgb" in algorithm_names() and "threshold-hgb" in algorithm_names()

    class FooBarClassifier(BaseFairClassifier):
        pass

    monkeypatch.setattr(fairsk, "FooBarClassifier", FooBarClassifier, raising=False)
    monkeypatch.setattr(fairsk, "__all__", [*fairsk.__all__, "FooBarClassifier"])
    assert our_estimators()["foobar"] is FooBarClassifier


class _BatchNormNet(torch.nn.Module):
    """A batch-norm layer between two linear ones: its running mean shows its input."""

    def __init__(self, n_features):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_features, 8),
            torch.nn.BatchNorm1d(8),
            torch.nn.Linear(8, 1),
        )

    def forward(self, X):
        return self.body(X)


def test_curves_evaluate_the_network_as_predict_does(tiny_data):
    # A curve point runs the network on every train and test row: in train mode,
    # batch norm would fold the test rows into its running statistics.
    spec = RunSpec("sgd", 0, "loss_gap", None)
    curves = _Curves(tiny_data, *_compile(spec, tiny_data))
    module = _BatchNormNet(tiny_data.X_train.shape[1]).train()
    net = SimpleNamespace(module_=module, history=[])
    before = module.body[1].running_mean.clone()
    curves.on_train_begin(net)
    curves.on_epoch_end(net)
    assert module.training  # training goes on as it was
    assert torch.equal(module.body[1].running_mean, before)
    assert len(curves.points["test_constraint"]) == 1
