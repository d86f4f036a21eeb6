"""A tiny benchmark end to end: every output file, its columns, and resume."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairsk.__main__ import main
from fairsk.benchmark import RunSpec
from fairsk.benchmark.heldout import HELD_OUT_FIELDS

PAPER_COLUMNS = [
    f"{split}_{m}"
    for split in ("train", "test")
    for m in (
        "auc_m",
        "ind",
        "sp",
        "ina",
        "sf",
        "wd",
        "loss_gap",
        "accuracy",
        "demographic_parity_difference",
        "equalized_odds_difference",
    )
]
#: Every field of a run's specification, and what each run adds.
SPEC_COLUMNS = [f.name for f in fields(RunSpec)] + [
    "run_id",
    "family",
    "status",
    "budget",
    "fit_seconds",
    "epochs_run",
]
#: The held-out columns the documentation promises (its "Columns of results.csv").
DOCS = Path(__file__).parents[2] / "docs" / "benchmark.rst"
PROMISED = DOCS.read_text().split("Columns of ``results.csv``")[1].split("\n\n")[0]
HELD_OUT_COLUMNS = re.findall(r"``(\w*constraint_\w+)``", PROMISED)
VERSION_COLUMNS = [
    "version_fairsk",
    "version_torch",
    "version_scikit-learn",
    "version_fairlearn",
    "version_python",
]
FIGURES = [
    f"{stem}.{fmt}"
    for stem in ("frontier", "curves", "groups")
    for fmt in ("png", "svg")
]
FILES = ["results.csv", "results.json", "summary.csv", *FIGURES, "report.html"]


def run_ids(folder):
    return {p.stem: p.stat().st_mtime_ns for p in (folder / "runs").glob("*.json")}


def test_outputs_and_resume(tmp_path, capsys, tiny):
    out = tmp_path / "results"
    args = [
        *tiny,
        "--algorithms",
        "sgd",
        "sslalm",
        "gs-logreg",
        "--seeds",
        "0",
        "1",
        "--n-jobs",
        "1",
        "-o",
        str(out),
        "--param",
        "gs-logreg.grid_size=5",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "5 runs: 0 finished earlier (skipped), 5 to run" in printed
    assert "Test set, mean" in printed and "sslalm" in printed
    assert "loss_gap on train and test (95% bootstrap interval" in printed
    assert "holds" in printed and "on test" in printed

    for name in FILES:
        assert (out / name).is_file(), name
    for name in FIGURES:
        head = (out / name).read_bytes()[:8]
        assert (
            head == b"\x89PNG\r\n\x1a\n"
            if name.endswith("png")
            else head == b"<?xml ve"
        )

    df = pd.read_csv(out / "results.csv")
    # sgd: bound-free, 2 seeds; sslalm: 2 seeds; GridSearch: deterministic, once.
    assert sorted(df["algorithm"]) == ["gs-logreg", "sgd", "sgd", "sslalm", "sslalm"]
    expected = SPEC_COLUMNS + PAPER_COLUMNS + HELD_OUT_COLUMNS + VERSION_COLUMNS
    missing = set(expected) - set(df.columns)
    assert not missing
    assert (df["status"] == "ok").all()
    # The held-out constraint, for every run (fairlearn's too): with two groups the
    # loss gap as compiled is the paper's |ΔL| on the training rows; on test, its
    # cells are weighted by their training shares (see test_runs).
    assert np.allclose(df["train_constraint_value"], df["train_loss_gap"], atol=1e-9)
    assert np.allclose(df["test_constraint_value"], df["test_loss_gap"], atol=0.01)
    assert (df["test_constraint_low"] <= df["test_constraint_high"]).all()
    assert (df["test_constraint_low"] >= 0).all()
    bounded = df[df.algorithm != "sgd"]
    assert (bounded["constraint_bound"] == 0.005).all()
    assert (
        bounded["test_constraint_holds"].astype(bool).tolist()
        == (bounded["test_constraint_high"] <= 0.005).tolist()
    )
    assert np.allclose(
        bounded["test_constraint_violation"], bounded["test_constraint_value"] - 0.005
    )
    # sgd has no bound of its own: values and interval, but nothing to hold.
    free = df[df.algorithm == "sgd"]
    assert free["test_constraint_value"].notna().all()
    assert free[["constraint_bound", "test_constraint_holds"]].isna().all().all()
    assert df.loc[df.algorithm == "sgd", "bound"].isna().all()
    assert (df.loc[df.algorithm == "sslalm", "bound"] == 0.005).all()
    assert df["test_accuracy"].between(0, 1).all()
    assert (df["n_train"] == 300).all() and (df["n_test"] == 300).all()
    gs = df[df.algorithm == "gs-logreg"].iloc[0]
    assert "DemographicParity(difference_bound=0.005)" in gs["fairlearn_constraint"]
    assert json.loads(gs["info"])["grid_size"] == 5

    payload = json.loads((out / "results.json").read_text())
    assert payload["versions"]["fairlearn"] and payload["settings"]["seeds"] == [0, 1]
    assert len(payload["runs"]) == 5
    ssl = next(r for r in payload["runs"] if r["algorithm"] == "sslalm")
    traj = ssl["trajectory"]
    assert len(traj["time"]) == len(traj["test_constraint"]) == ssl["epochs_run"] == 1
    groups = ssl["test_groups"]["selection_rate"]
    assert (
        set(groups) == {"White", "Non-White"}
        and sum(g[2] for g in groups.values()) == 300
    )

    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["method"]) == ["sgd", "sslalm", "gs-logreg"]
    assert summary.loc[summary.method == "sslalm", "n"].item() == 2
    ssl_rows = df[df.algorithm == "sslalm"]
    ssl_summary = summary.set_index("method").loc["sslalm"]
    assert ssl_summary["test_constraint_value_mean"] == pytest.approx(
        ssl_rows["test_constraint_value"].mean()
    )
    assert ssl_summary["holds"] == ssl_rows["test_constraint_holds"].astype(bool).sum()
    assert ssl_summary["holds_known"] == 2

    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    assert str(tmp_path) not in html  # no absolute paths
    assert "sslalm" in html and "Training set" in html and "<table" in html
    assert "loss_gap on the training and test sets" in html
    assert "test [95% CI]" in html and "holds on test" in html

    # Rerun with the same folder: nothing runs, no run file is rewritten (and
    # figures not drawn again are removed, not left stale).
    before = run_ids(out)
    assert len(before) == 5
    args.append("--no-plots")
    assert main(args) == 0
    assert not (out / "frontier.png").exists()
    printed = capsys.readouterr().out
    assert "5 finished earlier (skipped), 0 to run" in printed
    assert run_ids(out) == before

    # One more seed on two joblib workers: only the two new runs execute.
    seeds = args.index("--seeds")
    args[seeds + 1 : seeds + 3] = ["0-2"]
    args[args.index("--n-jobs") + 1] = "2"
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "5 finished earlier (skipped), 2 to run on 2 workers" in printed
    after = run_ids(out)
    assert len(after) == 7
    assert {k: after[k] for k in before} == before
    assert len(pd.read_csv(out / "results.csv")) == 7


def test_runs_recorded_before_held_out_values_run_again(tmp_path, capsys, tiny):
    # A run file of an earlier fairsk has no held-out constraint values; they need
    # the model, which is not stored: resuming runs it again, and only it.
    out = tmp_path / "results"
    args = [*tiny, "--algorithms", "sgd", "--seeds", "0", "1", "--n-jobs", "1"]
    args += ["-o", str(out), "--no-plots"]
    assert main(args) == 0
    capsys.readouterr()
    old, kept = sorted((out / "runs").glob("*.json"))
    record = json.loads(old.read_text())
    for key in HELD_OUT_FIELDS:
        del record[key]
    old.write_text(json.dumps(record))
    kept_mtime = kept.stat().st_mtime_ns

    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "2 runs: 1 finished earlier (skipped), 1 to run" in printed
    assert "1 of them ran with an earlier fairsk" in printed
    assert set(HELD_OUT_FIELDS) <= set(json.loads(old.read_text()))
    assert kept.stat().st_mtime_ns == kept_mtime
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 2 and df["test_constraint_value"].notna().all()


def test_interrupted_benchmark_resumes(tmp_path, capsys, monkeypatch, tiny):
    import fairsk.benchmark.parallel as parallel

    out = tmp_path / "results"
    args = [*tiny, "--algorithms", "sgd", "--seeds", "0-2", "--n-jobs", "1"]
    args += ["-o", str(out), "--no-plots"]
    real = parallel.execute
    calls = []

    def interrupt_second(spec, data):
        calls.append(spec.run_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(spec, data)

    monkeypatch.setattr(parallel, "execute", interrupt_second)
    assert main(args) == 130
    assert "Rerun the same command to resume" in " ".join(
        capsys.readouterr().out.split()
    )
    assert len(run_ids(out)) == 1  # the run in flight is lost, not the finished one

    monkeypatch.setattr(parallel, "execute", real)
    assert main(args) == 0
    assert "1 finished earlier (skipped), 2 to run" in capsys.readouterr().out
    assert len(run_ids(out)) == 3


def test_failed_run_is_reported_and_retried(tmp_path, capsys, tiny):
    out = tmp_path / "results"
    # lr is validated by the estimator at fit time: a failing run, not a crash.
    args = [*tiny, "--algorithms", "sgd", "--seeds", "0", "--n-jobs", "1"]
    args += ["-o", str(out), "--no-plots", "--param", "sgd.lr=-1.0"]
    assert main(args) == 1
    printed = capsys.readouterr().out
    assert "FAILED" in printed and "lr" in printed
    df = pd.read_csv(out / "results.csv")
    assert list(df["status"]) == ["error"]
    # Errors are not "finished": a rerun tries again.
    assert main(args) == 1
    assert "0 finished earlier" in capsys.readouterr().out


@pytest.mark.parametrize("constraint", ["demographic_parity", "error_rate_parity"])
def test_fairlearn_baselines_at_matching_bounds(tmp_path, capsys, constraint, tiny):
    out = tmp_path / constraint
    args = [*tiny, "--constraint", constraint, "--bound", "0.05", "--seeds", "0"]
    args += ["--algorithms", "threshold-logreg", "gs-logreg", "--n-jobs", "1"]
    args += ["-o", str(out), "--no-plots", "--param", "gs-logreg.grid_size=5"]
    assert main(args) == 0
    df = pd.read_csv(out / "results.csv").set_index("algorithm")
    if constraint == "demographic_parity":
        assert (df["status"] == "ok").all()
        note = df.loc["threshold-logreg", "fairlearn_constraint"]
        assert note == "DemographicParity(difference_bound=0.05)"
    else:
        # ThresholdOptimizer has no error-rate parity: skipped, with the reason.
        assert df.loc["threshold-logreg", "status"] == "skipped"
        assert "ThresholdOptimizer" in df.loc["threshold-logreg", "reason"]
        assert df.loc["gs-logreg", "status"] == "ok"
        assert "skipped" in capsys.readouterr().out


def test_pums_csv_dataset(tmp_path, excerpt_2019, tiny):
    out = tmp_path / "pums"
    args = [*tiny, "--pums-csv", str(excerpt_2019), "--algorithms", "sslalm"]
    args += ["--seeds", "0", "--n-jobs", "1", "-o", str(out), "--no-plots"]
    assert main(args) == 0
    payload = json.loads((out / "results.json").read_text())
    assert payload["data"]["dataset"].startswith("PUMS income task")
    assert payload["runs"][0]["status"] == "ok"
