"""The command line: arguments, usage errors (exit code 2), data errors (exit 1)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fairsk.__main__ import main
from fairsk.benchmark.cli import build_parser, settings_from_args


def parse(argv):
    parser = build_parser()
    return settings_from_args(parser.parse_args(argv), parser)


def test_defaults_are_the_documented_main_job():
    s = parse(["benchmark"])
    assert s.dataset.name == "adult"
    assert s.dataset.max_train == 8000 and s.dataset.split_seed == 42
    assert s.dataset.test_size == 0.2
    assert s.constraint == "loss_gap" and s.bounds == [0.005]
    assert s.seeds == [0, 1, 2] and s.epochs is None and s.seconds is None
    assert s.batch_size is None and s.n_jobs == -1 and s.resume
    assert {"sslalm", "alm", "penalty", "sgd"} <= set(s.algorithms)
    assert {"eg-logreg", "eg-hgb", "gs-logreg", "gs-hgb", "threshold-hgb"} <= set(
        s.algorithms
    )
    assert s.proxy == "demographic_parity"


def test_arguments_are_parsed_into_settings():
    s = parse(
        [
            "benchmark",
            "acs-income",
            "--states",
            "ok",
            "tx",
            "--year",
            "2019",
            "--constraint",
            "equalized_odds",
            "--bound",
            "0.02",
            "0.05",
            "--seeds",
            "0-2",
            "7",
            "--seconds",
            "1.5",
            "--algorithms",
            "ours",
            "eg-logreg",
            "--param",
            "*.lr=0.02",
            "--param",
            "sslalm.dual_lr=0.1",
            "--param",
            "eg-logreg.estimator__C=0.5",
            "--max-train",
            "all",
            "--batch-size",
            "default",
            "--fairlearn-proxy",
            "none",
        ]
    )
    assert s.dataset.name == "acs-income" and s.dataset.states == ("OK", "TX")
    assert s.dataset.year == 2019 and s.dataset.max_train is None
    assert s.constraint == "equalized_odds" and s.bounds == [0.02, 0.05]
    assert s.seeds == [0, 1, 2, 7]
    assert s.seconds == 1.5 and s.epochs is None and s.batch_size is None
    assert s.algorithms[-1] == "eg-logreg" and "sslalm" in s.algorithms
    assert s.params["sslalm"] == {"lr": 0.02, "dual_lr": 0.1}
    assert s.params["sgd"] == {"lr": 0.02}
    assert s.params["eg-logreg"] == {"estimator__C": 0.5}
    assert s.proxy is None


def test_pums_csv_selects_the_pums_dataset():
    s = parse(["benchmark", "--pums-csv", "people.csv", "--groups", "sex"])
    assert s.dataset.name == "pums" and s.dataset.pums_csv == "people.csv"
    assert s.dataset.groups == "sex"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required"),
        (["benchmark", "--algorithms", "nope"], "unknown algorithm 'nope'"),
        (["benchmark", "--epochs", "3", "--seconds", "5"], "not allowed with"),
        (["benchmark", "--bound", "-0.1"], "non-negative"),
        (["benchmark", "--epochs", "0"], "positive integer"),
        (["benchmark", "--seconds", "nan"], "positive number"),
        (["benchmark", "--seeds", "x"], "invalid seed"),
        (["benchmark", "--seeds", "5-2"], "invalid seed"),
        (["benchmark", "--constraint", "fairness"], "invalid choice"),
        (["benchmark", "--test-size", "1.5"], "(0, 1)"),
        (["benchmark", "acs-income", "--pums-csv", "x.csv"], "--pums-csv"),
        (["benchmark", "pums"], "needs --pums-csv"),
        (["benchmark", "--states", "OK"], "acs-income only"),
        (["benchmark", "--param", "garbage"], "NAME.PARAM=VALUE"),
        (["benchmark", "--param", "sslalm.nope=1"], "no parameter 'nope'"),
        (["benchmark", "--param", "sslalm.bound=1"], "set by the benchmark"),
        (
            ["benchmark", "--algorithms", "sgd", "--param", "alm.lr=1"],
            "not among the selected",
        ),
        (["benchmark", "--param", "*.dual_lr_typo=1"], "no selected fairsk"),
        (["benchmark", "--n-jobs", "0"], "--n-jobs"),
        (
            ["benchmark", "--constraint", "demographic_parity_ratio", "--bound", "2"],
            "ratio bounds",
        ),
        (["benchmark", "--device", "warp-drive"], "--device"),
    ],
)
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: fairsk" in err
    assert message in err


def test_help_exits_zero(capsys):
    assert main(["benchmark", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--dask-scheduler" in out and "--seconds" in out


def test_python_dash_m_exit_codes():
    bad = subprocess.run(
        [sys.executable, "-m", "fairsk", "benchmark", "--bound", "oops"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "usage: fairsk benchmark" in bad.stderr


def test_missing_acs_files_are_a_clean_error(tmp_path, capsys):
    code = main(
        [
            "benchmark",
            "acs-income",
            "--states",
            "OK",
            "--year",
            "2018",
            "--no-download",
            "--data-home",
            str(tmp_path),
            "-o",
            str(tmp_path / "out"),
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "error:" in out and "psam_p40.csv" in out
    assert "Traceback" not in out
    assert not (tmp_path / "out" / "results.csv").exists()


def test_missing_pums_csv_is_a_clean_error(tmp_path, capsys):
    code = main(
        ["benchmark", "--pums-csv", str(tmp_path / "none.csv"), "-o", str(tmp_path)]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "error:" in out and "none.csv" in out


def test_preset_paper_is_the_papers_protocol():
    s = parse(["benchmark", "--preset", "paper"])
    d = s.dataset
    assert (d.name, d.states, d.year, d.drop_sensitive) == (
        "acs-income",
        ("OK",),
        2018,
        True,
    )
    assert d.max_train is None and d.stratify == "group" and d.encoding == "standard"
    assert s.constraint == "loss_gap" and s.bounds == [0.005] and s.pairing == "auto"
    assert s.seeds == list(range(10)) and s.seconds == 30 and s.epochs is None
    assert s.algorithms == ["sslalm", "alm", "ssg", "ghost", "penalty", "sgd"]
    assert s.y_metric == "auc_m"
    p = s.params
    # No margin, no averaging, constant steps, no weight decay (ALGORITHMS.md).
    for name in s.algorithms:
        assert p[name]["confidence"] is None and p[name]["average"] is None
        assert p[name]["lr_schedule"] == "constant" and p[name]["alpha"] == 0
    assert {
        k: p["sslalm"][k]
        for k in (
            "lr",
            "dual_lr",
            "penalty",
            "smoothing",
            "anchor_rate",
            "multiplier_max",
            "batch_size",
        )
    } == {
        "lr": 0.01,
        "dual_lr": 0.05,
        "penalty": 1.0,
        "smoothing": 2.0,
        "anchor_rate": 0.5,
        "multiplier_max": 10.0,
        "batch_size": 8,
    }
    assert (p["ssg"]["tolerance"], p["ssg"]["lr"], p["ssg"]["constraint_lr"]) == (
        1e-4,
        0.5,
        0.05,
    )
    assert p["ssg"]["batch_size"] == 16 and p["sgd"] == p["sgd"] | {"lr": 0.005}
    ghost = p["ghost"]
    assert (ghost["level_probability"], ghost["direction_bound"], ghost["lr"]) == (
        0.4,
        10.0,
        0.05,
    )
    assert (ghost["step_decay"], ghost["feasibility_radius"]) == (0.05, 0.8)
    assert (ghost["feasibility_mix"], ghost["proximal_weight"]) == (0.5, 1.0)


def test_preset_values_give_way_to_the_users():
    s = parse(
        [
            "benchmark",
            "--preset",
            "paper",
            "--pums-csv",
            "people.csv",
            "--epochs",
            "5",
            "--seeds",
            "0",
            "--param",
            "sslalm.lr=0.02",
        ]
    )
    assert s.dataset.name == "pums" and s.dataset.stratify == "group"
    assert s.epochs == 5 and s.seconds is None and s.seeds == [0]
    assert s.params["sslalm"]["lr"] == 0.02 and s.params["sslalm"]["batch_size"] == 8


@pytest.fixture
def synthetic_people_csv(tmp_path):
    path = tmp_path / "synthetic_people.csv"
    rows = ["age,job,sex,income"] + [
        f"{20 + i % 40},{'abc'[i % 3]},{'FM'[i % 2]},{'>50K' if i % 5 < 2 else '<=50K'}"
        for i in range(400)
    ]
    path.write_text("\n".join(rows))
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--target", "wage", "--sensitive", "sex"],
            "--target: column 'wage' is not in",
        ),
        (["--target", "income", "--sensitive", "race"], "--sensitive: column 'race'"),
        (["--target", "age", "--sensitive", "sex"], "name the positive class with"),
        (["--target", "income", "--sensitive", "sex", "--positive", "rich"], "'rich'"),
    ],
)
def test_csv_errors_name_the_column(
    synthetic_people_csv, tmp_path, capsys, extra, message
):
    args = [
        "benchmark",
        "--csv",
        str(synthetic_people_csv),
        *extra,
        "-o",
        str(tmp_path),
    ]
    assert main(args) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "error:" in out and message in out and "Traceback" not in out


def test_csv_needs_its_columns_named(capsys):
    assert main(["benchmark", "--csv", "people.csv", "--target", "y"]) == 2
    assert "--sensitive COL" in capsys.readouterr().err


def test_any_csv_runs(synthetic_people_csv, tmp_path, capsys):
    args = [
        "benchmark",
        "--csv",
        str(synthetic_people_csv),
        "--target",
        "income",
        "--sensitive",
        "sex",
        "--algorithms",
        "sgd",
        "--seeds",
        "0",
        "--epochs",
        "1",
        "--n-jobs",
        "1",
        "--no-plots",
        "-o",
        str(tmp_path),
    ]
    assert main(args) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "synthetic_people.csv (target income)" in out and "positive class >50K" in out
    )
    assert "groups (sex, train): F 160, M 160" in out
    assert str(tmp_path.parent) not in (tmp_path / "report.html").read_text()
