"""Where runs execute: in this process, on joblib workers, or on a Dask cluster.

Runs are independent, so each backend only has to hand out :func:`execute` calls
and give back their records as they finish (the caller saves each one at once,
which is what makes an interrupted benchmark resumable).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .runs import RunSpec, execute

__all__ = ["effective_jobs", "iter_results"]


def effective_jobs(n_jobs: int, n_runs: int) -> int:
    """Worker processes joblib would use for ``n_jobs`` (negative: cores + 1 + n).

    Examples
    --------
    >>> effective_jobs(4, 2)
    2
    """
    cores = os.cpu_count() or 1
    jobs = n_jobs if n_jobs > 0 else max(cores + 1 + n_jobs, 1)
    return max(1, min(jobs, n_runs))


def iter_results(
    specs: list[RunSpec],
    data,
    *,
    n_jobs: int = 1,
    dask_scheduler: str | None = None,
    dask_timeout: float = 30,
) -> Iterator[dict]:
    """Execute ``specs`` and yield each run's record as soon as it finishes.

    Parameters
    ----------
    specs : list of RunSpec
        The runs, in the order to start them.
    data : BenchmarkData
        Shared by every run (sent once to each Dask worker with ``scatter``).
    n_jobs : int, default=1
        joblib workers (``loky`` processes); 1 runs in this process.
    dask_scheduler : str or None, default=None
        Address of a running ``dask.distributed`` scheduler
        (``tcp://host:8786``); when given, runs are submitted there and ``n_jobs``
        is ignored (the cluster's workers decide the parallelism).
    dask_timeout : float, default=30
        Seconds to wait for the scheduler.

    Yields
    ------
    dict
        A run's record (:func:`~fairsk.benchmark.runs.execute`), in completion
        order.

    Examples
    --------
    >>> from fairsk.benchmark import DatasetSpec, load_benchmark_data, plan_runs
    >>> data = load_benchmark_data(DatasetSpec(max_train=300, max_test=300))
    >>> specs = plan_runs(["sgd"], [0, 1], [0.01], constraint="loss_gap", epochs=1)
    >>> sorted((rec["seed"], rec["status"]) for rec in iter_results(specs, data))
    [(0, 'ok'), (1, 'ok')]
    """
    if not specs:
        return
    if dask_scheduler is not None:
        yield from _dask(specs, data, dask_scheduler, dask_timeout)
        return
    jobs = effective_jobs(n_jobs, len(specs))
    if jobs == 1:
        for spec in specs:
            yield execute(spec, data)
        return
    from joblib import Parallel, delayed

    # batch_size=1: runs take seconds, and they are ordered longest first.
    parallel = Parallel(n_jobs=jobs, return_as="generator_unordered", batch_size=1)
    yield from parallel(delayed(execute)(spec, data) for spec in specs)


def _dask(specs, data, address, timeout) -> Iterator[dict]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "--dask-scheduler needs dask.distributed: pip install 'fairsk[dask]'."
        ) from exc
    with Client(address, timeout=timeout) as client:
        # One copy of the data per worker instead of one per task.
        shared = client.scatter(data, broadcast=True)
        futures = [client.submit(execute, spec, shared, pure=False) for spec in specs]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)
