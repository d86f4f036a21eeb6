"""The benchmark's internal helpers, one behaviour each (they have no doctests).

Only :mod:`fairsk.benchmark`'s ``__all__`` is public API and carries examples;
what its helpers promise is checked here.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from fairsk.benchmark import plan_runs
from fairsk.benchmark.baselines import (
    FittedBaseline,
    SkipRun,
    build_baseline,
    fairlearn_constraint,
    fit_baseline,
)
from fairsk.benchmark.cli import add_benchmark_parser, run_cli
from fairsk.benchmark.figures import (
    _figure,
    plot_curves,
    plot_frontier,
    plot_groups,
    save_figure,
    style_of,
)
from fairsk.benchmark.heldout import (
    baseline_logits,
    compile_on_train,
    constraint_values,
    group_codes,
)
from fairsk.benchmark.io import (
    FolderBusyError,
    FolderLock,
    RunStore,
    safe_name,
    to_json,
)
from fairsk.benchmark.parallel import effective_jobs, iter_results
from fairsk.benchmark.registry import family, our_estimators
from fairsk.benchmark.report import html_report
from fairsk.benchmark.summary import rich_tables, runs_frame, summarize, table_cells
from fairsk.benchmark.sweep import versions
from fairsk.groups import GroupEncoder


# -- io, parallel, registry --------------------------------------------------------
def test_json_and_file_names_are_safe():
    record = {"value": np.float32(0.5), "missing": float("nan"), "ids": (1, 2)}
    assert to_json(record) == '{"value": 0.5, "missing": null, "ids": [1, 2]}'
    assert safe_name("x/../../escaped") == "x_.._.._escaped"
    assert safe_name("..") == "_"


def test_run_store_and_lock(tmp_path):
    store = RunStore(tmp_path)
    store.save({"run_id": "a", "status": "ok"})
    store.save({"run_id": "b", "status": "error"})
    assert {k: r["status"] for k, r in store.read().items()} == {
        "a": "ok",
        "b": "error",
    }
    with FolderLock(tmp_path), pytest.raises(FolderBusyError, match="in use"):
        FolderLock(tmp_path).__enter__()


def test_workers_never_outnumber_the_runs():
    assert effective_jobs(4, 2) == 2
    assert effective_jobs(-1, 1000) == (os.cpu_count() or 1)


def test_results_of_every_run_in_this_process(tiny_data):
    specs = plan_runs(["sgd"], [0, 1], [0.01], constraint="loss_gap", epochs=1)
    done = sorted(
        (rec["seed"], rec["status"]) for rec in iter_results(specs, tiny_data)
    )
    assert done == [(0, "ok"), (1, "ok")]


def test_registry_names_and_families():
    names = our_estimators()
    assert names["sslalm"].__name__ == "SSLALMClassifier"
    assert names["sgd"].__name__ == "UnconstrainedClassifier"
    assert (family("eg-hgb"), family("sslalm")) == ("fairlearn", "fairsk")


def test_versions_of_the_libraries():
    assert sorted(versions())[:3] == ["fairlearn", "fairsk", "numpy"]


# -- baselines ---------------------------------------------------------------------
def test_fairlearn_counterparts_and_proxy_note():
    fl = fairlearn_constraint("equal_opportunity", 0.05)
    assert (fl.moment, fl.threshold, fl.tol) == (
        "TruePositiveRateParity",
        "true_positive_rate_parity",
        0.05,
    )
    assert type(fl.make_moment()).__name__ == "TruePositiveRateParity"
    assert fairlearn_constraint("loss_gap", 0.005).note == (
        "proxy: DemographicParity(difference_bound=0.005) "
        "(fairlearn has no counterpart of loss_gap)"
    )
    est, fl = build_baseline("gs-logreg", "demographic_parity", 0.02, seed=0)
    assert (type(est).__name__, fl.moment) == ("GridSearch", "DemographicParity")
    with pytest.raises(SkipRun, match="ThresholdOptimizer has no counterpart"):
        build_baseline("threshold-logreg", "error_rate_parity", 0.05, seed=0)


def test_fitted_baselines_score_and_predict():
    rng = np.random.default_rng(0)
    A = rng.choice(["a", "b"], 300)
    X = np.column_stack([rng.normal(size=300), A == "a"])
    y = (X[:, 0] + (A == "a") > 0.5).astype(int)
    plain = FittedBaseline("logreg", LogisticRegression().fit(X, y), seed=0)
    assert ((plain.score(X, None) > 0.5) == plain.predict(X, None)).all()
    est, _ = build_baseline("threshold-logreg", "demographic_parity", 0.05, seed=0)
    fitted = fit_baseline("threshold-logreg", est, X, y, A, seed=0)
    rates = [fitted.predict(X, A)[A == g].mean() for g in ("a", "b")]
    assert abs(rates[0] - rates[1]) < 0.15


# -- heldout -----------------------------------------------------------------------
def test_compiled_on_the_training_groups():
    compiled, _ = compile_on_train(
        "demographic_parity", 0.05, "auto", [0, 1, 0, 1], list("aabb")
    )
    row = "demographic_parity: positive_rate[a] - positive_rate[b] <= 0.05"
    assert compiled.row_names[0] == row
    encoder = GroupEncoder().fit(["a", "b", "a"])
    assert group_codes(encoder, ["b", "c", "a"]).tolist() == [1, -1, 0]
    assert baseline_logits([0.2, 0.7], [1, 0], compiled).tolist() == [1.0, -1.0]


def test_held_out_value_within_its_interval():
    rng = np.random.default_rng(0)
    y, g, z = (
        {s: draw() for s in ("train", "test")}
        for draw in (
            lambda: rng.integers(0, 2, 400),
            lambda: rng.integers(0, 2, 400),
            lambda: rng.normal(size=400),
        )
    )
    compiled, _ = compile_on_train(
        "demographic_parity", 0.2, "auto", y["train"], g["train"]
    )
    out = constraint_values(compiled, z, y, g, seed=0)
    assert out["test_constraint_low"] <= out["test_constraint_value"]
    assert out["test_constraint_holds"] is True


# -- summary, figures, report ------------------------------------------------------
def test_runs_frame_puts_the_spec_first_and_flattens_the_rest():
    df = runs_frame(
        [{"run_id": "a", "algorithm": "sgd", "status": "ok", "test_ind": 0.1,
          "params": {"lr": 0.1}, "trajectory": {}}]
    )  # fmt: skip
    assert list(df.columns) == [
        "run_id", "algorithm", "status", "test_ind", "params", "info", "warnings"
    ]  # fmt: skip
    assert df["params"].tolist() == ['{"lr": 0.1}']


def test_summary_counts_the_runs_within_the_bound():
    df = pd.DataFrame(
        {"algorithm": ["a", "a"], "bound": [0.1, 0.1], "status": ["ok", "ok"],
         "test_ind": [0.05, 0.15]}
    )  # fmt: skip
    summary = summarize(df, constraint="demographic_parity")
    row = summary.iloc[0]
    assert (row["method"], row["n"], row["test_ind_mean"]) == ("a", 2, 0.1)
    assert (row["within"], row["within_known"]) == (1, 2)
    headers, rows = table_cells(summary, "metrics")
    assert headers[:4] == ["method", "bound", "n", "AUC_M"]
    assert rows[0][3] == ("nan", "")
    assert rows[0][headers.index("Ind")] == ("0.100", "±0.071")
    assert rows[0][-1] == ("1/2", "")


def test_wide_tables_split_and_repeat_the_key_columns():
    headers = ["method", *(f"metric {i}" for i in range(20))]
    row = [("a[/]", "")] + [("0.123", "±0.001")] * 20
    tables = rich_tables(headers, [row], title="t", keys=1, width=60)
    assert len(tables) > 1
    assert all(t.columns[0].header == "method" for t in tables)


def test_figures_draw_what_they_are_given():
    assert style_of("sslalm")["color"] != style_of("threshold-hgb")["color"]
    images = save_figure(_figure())
    assert images["png"][1:4] == b"PNG" and images["svg"][:5] == b"<?xml"
    runs = pd.DataFrame(
        {"algorithm": "sslalm", "bound": [0.05, 0.1], "status": "ok",
         "test_ind": [0.04, 0.09], "test_accuracy": [0.80, 0.82]}
    )  # fmt: skip
    fig = plot_frontier(
        summarize(runs, constraint="demographic_parity"),
        constraint="demographic_parity", bounds=[0.05, 0.1], algorithms=["sslalm"],
    )  # fmt: skip
    lines = [ln.get_xdata().tolist() for ln in fig.axes[0].lines if ln.get_gid()]
    assert lines == [[0.04, 0.09]]
    curve = {"epoch": [1, 2], "time": [0.5, 1.0], "train_objective": [0.6, 0.5],
             "test_objective": [0.6, 0.55], "train_constraint": [0.03, 0.01],
             "test_constraint": [0.04, 0.02]}  # fmt: skip
    run = {"algorithm": "alm", "bound": 0.02, "status": "ok", "trajectory": curve}
    fig = plot_curves([run], constraint="loss_gap", bounds=[0.02], algorithms=["alm"])
    assert [ax.get_title() for ax in fig.axes] == ["alm", ""]
    assert fig.axes[1].get_ylabel() == "|ΔL|"
    cells = {"a": [0.3, 0.01, 500], "b": [0.2, 0.02, 200]}
    stats = ("selection_rate", "tpr", "fpr", "error_rate", "loss")
    run = {"algorithm": "sgd", "bound": None, "status": "ok",
           "test_groups": dict.fromkeys(stats, cells)}  # fmt: skip
    fig = plot_groups(
        [run], constraint="demographic_parity", bound=0.05, algorithms=["sgd"]
    )
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels == ["selection rate", "true positive rate", "mean BCE"]


def test_report_escapes_every_text():
    page = html_report(
        title="A <benchmark>",
        meta={"seeds": "0"},
        tables=[{"title": "Test", "headers": ["method"], "rows": [[("a[/]", "")]]}],
        figures=[],
        warnings={"r1": ["ConvergenceWarning: x"]},
        notes=["a note"],
    )
    assert "A &lt;benchmark&gt;" in page and "<li>a note</li>" in page
    assert page.count("<table") == 2


# -- cli ---------------------------------------------------------------------------
def test_the_subcommand_joins_any_parser():
    parser = argparse.ArgumentParser(prog="mytool")
    add_benchmark_parser(parser.add_subparsers())
    args = parser.parse_args(["benchmark", "--seeds", "0-2", "--bound", "0.01", "0.02"])
    assert args.seeds == [[0, 1, 2]] and args.bounds == [0.01, 0.02]
    assert args.handler is run_cli
    assert parser.parse_args(["benchmark", "--bounds", "0.05"]).bounds == [0.05]
