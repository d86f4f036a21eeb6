"""Where runs execute: in this process, on joblib's loky workers, or on Dask.

A dead worker does not end the sweep. On loky (the OOM killer's SIGKILL breaks the
pool) the runs that were in flight run again one at a time, and a run that kills
its worker alone is recorded as failed with the cause. On Dask the data set is on
every worker (``broadcast``); a run whose worker keeps dying (``KilledWorker``)
fails alone, and one cancelled because its data were lost is submitted again with
the data scattered afresh. A rerun retries failed runs.

Dask is driven with its own client rather than joblib's ``dask`` backend, which
runs every task in the calling process when the cluster has a single thread (or
while its only other worker restarts) and scatters the data to one worker only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, CancelledError

from .runs import execute

__all__: list[str] = []


def effective_jobs(n_jobs: int, n_runs: int) -> int:
    """Worker processes joblib would use for ``n_jobs`` (negative: cores + 1 + n)."""
    cores = os.cpu_count() or 1
    jobs = n_jobs if n_jobs > 0 else max(cores + 1 + n_jobs, 1)
    return max(1, min(jobs, n_runs))


def _failed(spec, exc: BaseException) -> dict:
    keys = ("run_id", "family", "algorithm", "seed", "constraint", "bound")
    return {
        **{key: getattr(spec, key) for key in keys},
        "status": "error",
        "n_warnings": 0,
        "warnings": [],
        "error": f"its worker died ({type(exc).__name__}: {exc}); out of memory? "
        "A rerun retries it.",
    }


def iter_results(
    specs, data, *, n_jobs=1, dask_scheduler=None, dask_timeout=30
) -> Iterator[dict]:
    """Execute ``specs``; yield each run's record as soon as it finishes.

    ``n_jobs`` loky workers (1: this process), or the workers of the Dask
    scheduler at ``dask_scheduler`` (``tcp://host:8786``).
    """
    if dask_scheduler is not None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover
            raise RuntimeError(
                "--dask-scheduler needs dask.distributed: pip install 'fairsk[dask]'."
            ) from exc
        with Client(dask_scheduler, timeout=dask_timeout) as client:
            yield from _on_dask(client, specs, data)
        return
    jobs = effective_jobs(n_jobs, len(specs) or 1)
    if jobs == 1:
        yield from (execute(spec, data) for spec in specs)
        return
    from joblib import Parallel, delayed

    queue, alone = list(specs), []
    while queue or alone:
        batch = [alone.pop(0)] if alone else queue
        started, done = [], set()

        def tasks(batch=batch, started=started):
            for spec in batch:
                started.append(spec)
                yield delayed(execute)(spec, data)

        # One run at a time per worker, and no more dispatched than workers: only
        # the runs in flight go with a dead worker. A run retried alone still runs
        # on a worker (n_jobs=2), never in this process.
        parallel = Parallel(
            n_jobs=max(jobs, 2),
            batch_size=1,
            pre_dispatch="n_jobs",
            return_as="generator_unordered",
        )
        try:
            for rec in parallel(tasks()):
                done.add(rec["run_id"])
                yield rec
        except BrokenExecutor as exc:
            lost = [s for s in started if s.run_id not in done]
            if batch is not queue or len(lost) == 1:
                yield from (_failed(s, exc) for s in lost)
            else:
                alone += lost
        if batch is queue:
            queue = [s for s in queue if s not in started]


def _on_dask(client, specs, data) -> Iterator[dict]:
    from distributed import KilledWorker, as_completed

    shared = client.scatter(data, broadcast=True)  # a copy on every worker
    owner = {client.submit(execute, s, shared, pure=False): (s, 0) for s in specs}
    pending = as_completed(list(owner))
    try:
        for future in pending:
            spec, tries = owner.pop(future)
            try:
                yield future.result()
            except KilledWorker as exc:  # it killed every worker it ran on
                yield _failed(spec, exc)
            except CancelledError as exc:  # its data went with a worker
                if tries == 2:
                    yield _failed(spec, exc)
                    continue
                shared = client.scatter(data, broadcast=True)
                again = client.submit(execute, spec, shared, pure=False)
                owner[again] = (spec, tries + 1)
                pending.add(again)
    finally:
        client.cancel(list(owner))
