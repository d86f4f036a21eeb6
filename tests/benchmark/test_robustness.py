"""Issue 17's benchmark cases: interrupts, markup in data, dead workers, file
modes, tampered or shared output folders, path traversal."""

from __future__ import annotations

import json
import os
import signal
import stat

import pandas as pd
import pytest
from skorch.callbacks import Callback

from fairsk.__main__ import main
from fairsk.benchmark import RunSpec, Settings, execute, run_benchmark
from fairsk.benchmark.io import FolderLock, RunStore, atomic_write

from .conftest import TINY


class SigintAtEpoch(Callback):
    """Ctrl-C (a real SIGINT to this process) at the end of an epoch."""

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


class FlagInterrupt(Callback):
    """What fairsk records for an interrupted fit (FitInterruptedWarning's)."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("interrupted", True)
        raise KeyboardInterrupt


class KillWorker(Callback):
    """SIGKILL its own process, as the OOM killer does, unless it is the parent."""

    def __init__(self, parent):
        self.parent = parent

    def on_train_begin(self, net, **kwargs):
        if os.getpid() != self.parent:
            os.kill(os.getpid(), signal.SIGKILL)


def tiny(out, *more):
    """The shared tiny run (``TINY``) with 3 epochs, one worker, no plots."""
    options = ["--epochs", "3", "--n-jobs", "1", "--no-plots", "-o", str(out)]
    return [*TINY, *options, *more]


def quick_settings(out, **kwargs):
    from fairsk.benchmark import DatasetSpec

    base = {
        "dataset": DatasetSpec(max_train=300, max_test=300),
        "epochs": 3,
        "batch_size": 64,
        "n_jobs": 1,
        "plots": False,
        "output": str(out),
        "quiet": True,
    }
    return Settings(**(base | kwargs))


def flat(text):
    """Printed text with its line breaks (wrapping at 100 columns) undone."""
    return " ".join(text.split())


def run_files(out):
    return sorted(p.name for p in (out / "runs").glob("*.json"))


@pytest.mark.parametrize("callback", [SigintAtEpoch(2), FlagInterrupt()])
def test_interrupted_fit_is_not_a_finished_run(tmp_path, callback, capsys):
    # Before: skorch swallowed the interrupt, the run was saved as ok after 2 of 3
    # epochs, exit 0, and a rerun skipped it for good.
    out = tmp_path / "out"
    first = quick_settings(
        out,
        algorithms=["sgd", "alm"],
        seeds=[0],
        params={"alm": {"callbacks": [callback]}},
    )
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(first)
    saved = [json.loads(p.read_text()) for p in (out / "runs").glob("*.json")]
    assert [r["algorithm"] for r in saved] == ["sgd"]  # the finished run only
    assert (out / "report.html").exists()  # the report covers it
    assert len(pd.read_csv(out / "results.csv")) == 1
    result = run_benchmark(quick_settings(out, algorithms=["sgd", "alm"], seeds=[0]))
    assert result.n_resumed == 1 and result.n_ran == 1  # the alm run again


def test_interrupt_exits_130_from_the_command_line(tmp_path, monkeypatch, capsys):
    import fairsk.benchmark.parallel as parallel

    def interrupted(spec, data):
        return {"run_id": spec.run_id, "status": "interrupted", "algorithm": "sgd"}

    monkeypatch.setattr(parallel, "execute", interrupted)
    assert main(tiny(tmp_path, "--algorithms", "sgd", "--seeds", "0")) == 130
    assert "Rerun the same command to resume" in flat(capsys.readouterr().out)
    assert run_files(tmp_path) == []


def test_markup_in_data_and_parameters_is_printed_as_text(tmp_path, capsys):
    # Before: a group label a[/] raised MarkupError before any run, a parameter
    # value [/oops] crashed after the first run, [nan] vanished from the output.
    people = tmp_path / "synthetic_people.csv"
    rows = ["x,z,grp,label"] + [
        f"{i % 7},{i % 3},{'a[/]' if i % 3 else '[nan]'},{i % 2}" for i in range(240)
    ]
    people.write_text("\n".join(rows))
    args = tiny(
        tmp_path / "out",
        "--csv",
        str(people),
        "--target",
        "label",
        "--sensitive",
        "grp",
        "--algorithms",
        "sgd",
        "eg-logreg",
        "--seeds",
        "0",
        "--param",
        "eg-logreg.estimator__solver=[/oops]",
    )
    assert main(args) == 1  # the bad parameter fails its run, nothing crashes
    out = flat(capsys.readouterr().out)
    assert "a[/] " in out and "[nan] " in out and "[/oops]" in out


def test_dead_worker_fails_its_run_and_the_sweep_goes_on(tmp_path, capsys):
    # Before: a joblib worker killed by SIGKILL ended the sweep with a traceback
    # and no report.
    out = tmp_path / "out"
    settings = quick_settings(
        out,
        algorithms=["sgd", "alm"],
        seeds=[0, 1],
        n_jobs=2,
        params={"alm": {"callbacks": [KillWorker(os.getpid())]}},
    )
    result = run_benchmark(settings)
    status = {(r["algorithm"], r["seed"]): r["status"] for r in result.records}
    assert status == {
        ("sgd", 0): "ok",
        ("sgd", 1): "ok",
        ("alm", 0): "error",
        ("alm", 1): "error",
    }
    failed = [r for r in result.records if r["status"] == "error"]
    assert all("its worker died" in r["error"] for r in failed)
    assert (out / "report.html").exists() and result.n_errors == 2
    assert len(run_files(out)) == 4  # errors are saved, and retried on a rerun


def test_lost_dask_workers_fail_their_runs_only(tiny_data, monkeypatch):
    # Before: one Dask worker dying raised FutureCancelledError out of the sweep.
    distributed = pytest.importorskip("distributed")
    from fairsk.benchmark import plan_runs
    from fairsk.benchmark.parallel import _on_dask

    class Future:
        def __init__(self, run):
            self.run = run

        def result(self):
            return self.run()

    class Client:
        """Workers die under alm (every time) and ssg (once): its data are lost."""

        lost = {"alm": 99, "ssg": 1}

        def scatter(self, data, broadcast):
            assert broadcast  # every worker gets a copy
            return data

        def submit(self, func, spec, data, pure):
            def run():
                if self.lost.get(spec.algorithm, 0) > 0:
                    self.lost[spec.algorithm] -= 1
                    raise distributed.client.FutureCancelledError("k", "lost")
                return func(spec, data)

            return Future(run)

        def cancel(self, futures):
            pass

    class AsCompleted(list):
        def add(self, future):
            self.append(future)

    monkeypatch.setattr(distributed, "as_completed", AsCompleted)
    specs = plan_runs(
        ["alm", "ssg", "sgd"], [0], [0.01], constraint="loss_gap", epochs=1
    )
    records = {r["algorithm"]: r for r in _on_dask(Client(), specs, tiny_data)}
    assert {k: r["status"] for k, r in records.items()} == {
        "alm": "error",
        "ssg": "ok",
        "sgd": "ok",
    }
    assert "its worker died" in records["alm"]["error"]


def test_output_files_get_the_users_umask(tmp_path):
    # Before: mkstemp's 0600 for every output file.
    old = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "results.csv", "a,b\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda path, other: path.write_text("[]"), "not a JSON object"),
        (
            lambda path, other: path.write_text(
                json.dumps(
                    {
                        k: v
                        for k, v in json.loads(path.read_text()).items()
                        if k != "seed"
                    }
                )
            ),
            "lacks seed",
        ),
        (lambda path, other: path.write_text(other.read_text()), "copied or renamed"),
    ],
)
def test_tampered_run_files_are_reported_and_run_again(
    tmp_path, capsys, tamper, problem
):
    # Before: [] -> AttributeError, a missing key -> KeyError, a copied file -> a
    # duplicated row, a missing seed and wrong means with exit 0.
    out = tmp_path / "out"
    args = tiny(out, "--algorithms", "sgd", "--seeds", "0", "1", "--epochs", "1")
    assert main(args) == 0
    first, second = (out / "runs" / name for name in run_files(out))
    tamper(first, second)
    capsys.readouterr()
    assert main(args) == 0
    printed = flat(capsys.readouterr().out)
    assert "1 finished earlier (skipped), 1 to run" in printed
    assert f"ignored runs/{first.name}" in printed and problem in printed
    df = pd.read_csv(out / "results.csv")
    assert sorted(df["seed"]) == [0, 1]


def test_a_folder_in_use_is_refused(tmp_path, capsys):
    with FolderLock(tmp_path):
        assert main(tiny(tmp_path, "--algorithms", "sgd", "--seeds", "0")) == 1
    assert "in use by another fairsk benchmark" in flat(capsys.readouterr().out)
    assert not (tmp_path / "results.csv").exists()


def test_outputs_not_written_again_are_removed(tmp_path):
    # Before: --no-plots left an earlier run's figures beside the new results.
    (tmp_path / "frontier.png").write_bytes(b"old")
    (tmp_path / "pareto.png").write_bytes(b"older")
    (tmp_path / "notes.txt").write_text("the user's own file")
    assert (
        main(tiny(tmp_path, "--algorithms", "sgd", "--seeds", "0", "--epochs", "1"))
        == 0
    )
    assert not (tmp_path / "frontier.png").exists()
    assert not (tmp_path / "pareto.png").exists()
    assert (tmp_path / "notes.txt").exists()


def test_file_names_cannot_leave_the_output_folder(tmp_path):
    # Before: Settings(constraint="x/../../../../escaped") wrote a run file outside.
    with pytest.raises(ValueError, match="unknown constraint"):
        run_benchmark(quick_settings(tmp_path, constraint="x/../../../../escaped"))
    spec = RunSpec("sgd/../../x", 0, "loss_gap/../..", None)
    assert "/" not in spec.run_id
    with pytest.raises(ValueError, match="outside"):
        RunStore(tmp_path).path("../../escaped")
    assert list(tmp_path.parent.glob("escaped*")) == []


def test_execute_never_saves_an_interrupted_fit_as_ok(tiny_data):
    rec = execute(
        RunSpec(
            "sgd",
            0,
            "loss_gap",
            None,
            epochs=3,
            params=(("callbacks", [FlagInterrupt()]),),
        ),
        tiny_data,
    )
    assert rec["status"] == "interrupted"


class FlagEveryEpoch(Callback):
    """Marks each epoch interrupted, as fairsk will when any KeyboardInterrupt
    (its time budget's included) ends a fit."""

    def on_epoch_begin(self, net, **kwargs):
        net.history.record("interrupted", True)


def test_a_time_budget_is_not_an_interrupt(tiny_data):
    callbacks = (("callbacks", [FlagEveryEpoch()]),)
    spec = RunSpec("sgd", 0, "loss_gap", None, seconds=0.5, params=callbacks)
    rec = execute(spec, tiny_data)
    assert rec["status"] == "ok"
    assert 0.5 <= rec["train_seconds"] < 5 and len(rec["trajectory"]["time"]) >= 1
