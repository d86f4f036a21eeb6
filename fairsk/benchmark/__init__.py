"""The benchmark: fairsk's classifiers beside fairlearn's mitigations.

``fairsk benchmark`` (or ``python -m fairsk benchmark``) runs the protocol of
Kliachkin et al. (2025) on any tabular data set; :func:`run_benchmark` does the
same from Python. Data flows through: :mod:`~fairsk.benchmark.settings` (every
option, declared once) -> :mod:`~fairsk.benchmark.data` (load, split, encode) ->
:mod:`~fairsk.benchmark.runs` (one run; fairlearn's in
:mod:`~fairsk.benchmark.baselines`, the constraint on held-out data in
:mod:`~fairsk.benchmark.heldout`) on :mod:`~fairsk.benchmark.parallel` ->
:mod:`~fairsk.benchmark.io` (run files, lock) -> :mod:`~fairsk.benchmark.summary`,
:mod:`~fairsk.benchmark.figures` and :mod:`~fairsk.benchmark.report`, all driven
by :mod:`~fairsk.benchmark.sweep`; :mod:`~fairsk.benchmark.cli` is the command.
"""

from .data import BenchmarkData, DataError, load_benchmark_data
from .registry import algorithm_names, default_algorithms, our_estimators
from .runs import RunSpec, WallClockBudget, execute, fit_fairsk, plan_runs
from .settings import PRESETS, DatasetSpec, Settings
from .sweep import BenchmarkResult, run_benchmark

__all__ = [
    "PRESETS",
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
    "fit_fairsk",
    "load_benchmark_data",
    "our_estimators",
    "plan_runs",
    "run_benchmark",
]
