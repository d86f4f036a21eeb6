"""The benchmark: fairsk's classifiers beside fairlearn's mitigations.

``fairsk benchmark`` (or ``python -m fairsk benchmark``) reproduces the protocol of
Kliachkin et al. (2025) on any supported dataset; :func:`run_benchmark` does the
same from Python. The pieces, in the order data flows through them:

- :mod:`~fairsk.benchmark.data`: load, split (stratified on group x label), encode;
- :mod:`~fairsk.benchmark.registry`: algorithms by short name (ours are discovered
  in ``fairsk``); :mod:`~fairsk.benchmark.baselines`: fairlearn's mitigations at
  matching bounds;
- :mod:`~fairsk.benchmark.runs`: one run (spec, budget, trajectory, metrics);
  :mod:`~fairsk.benchmark.heldout`: the constraint on train and on test, with a
  bootstrap interval;
- :mod:`~fairsk.benchmark.parallel`: in process, joblib workers, or Dask;
- :mod:`~fairsk.benchmark.io`: atomic writes and the per-run store (resume);
- :mod:`~fairsk.benchmark.report`: table, plots, HTML;
- :mod:`~fairsk.benchmark.sweep`: all of it; :mod:`~fairsk.benchmark.cli`: the
  command line.
"""

from .data import BenchmarkData, DataError, DatasetSpec, load_benchmark_data
from .registry import algorithm_names, default_algorithms, our_estimators
from .runs import RunSpec, WallClockBudget, execute, plan_runs
from .sweep import BenchmarkResult, Settings, run_benchmark

__all__ = [
    "BenchmarkData",
    "BenchmarkResult",
    "DataError",
    "DatasetSpec",
    "RunSpec",
    "Settings",
    "WallClockBudget",
    "algorithm_names",
    "default_algorithms",
    "execute",
    "load_benchmark_data",
    "our_estimators",
    "plan_runs",
    "run_benchmark",
]
