"""Runs sent to a Dask cluster (a LocalCluster here, as in CI)."""

from __future__ import annotations

import pandas as pd
import pytest

from fairsk.__main__ import main


def test_benchmark_on_a_local_dask_cluster(tmp_path, capsys, tiny):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
    ) as cluster:
        args = [*tiny, "--algorithms", "sgd", "alm", "gs-logreg", "--seeds", "0"]
        args += ["-o", str(out), "--no-plots"]
        args += ["--dask-scheduler", cluster.scheduler_address]
        assert main(args) == 0
        assert f"on Dask scheduler {cluster.scheduler_address}" in (
            capsys.readouterr().out
        )
        # Resume works the same way through Dask.
        assert main(args) == 0
        assert "3 finished earlier (skipped), 0 to run" in capsys.readouterr().out
    df = pd.read_csv(out / "results.csv")
    assert sorted(df["algorithm"]) == ["alm", "gs-logreg", "sgd"]
    assert (df["status"] == "ok").all()


def test_unreachable_scheduler_is_a_clean_error(tmp_path, capsys, tiny):
    pytest.importorskip("distributed")
    args = [*tiny, "--algorithms", "sgd", "--seeds", "0", "-o", str(tmp_path)]
    args += ["--dask-scheduler", "tcp://127.0.0.1:9", "--no-plots"]
    import fairsk.benchmark.parallel as parallel

    original = parallel.iter_results.__kwdefaults__["dask_timeout"]
    parallel.iter_results.__kwdefaults__["dask_timeout"] = 2
    try:
        assert main(args) == 1
    finally:
        parallel.iter_results.__kwdefaults__["dask_timeout"] = original
    assert "error:" in capsys.readouterr().out
