"""Data for fairness experiments: ACS PUMS (folktables) tasks, UCI Adult, transformers.

- :func:`load_adult`: UCI Adult, shipped inside the package (no network needed).
- :func:`load_acs`: folktables' ACS tasks (ACSIncome, ...) on Census Bureau files,
  downloaded into a cache folder or placed there by hand.
- :func:`read_pums_csv`, :func:`make_income_problem`, :func:`load_pums_income`: an
  income task on any PUMS-format person file (e.g. the NIST ACS Data Excerpts).
- :class:`ACSFeatureEncoder`, :class:`TabularEncoder`: features to float arrays.
- :class:`SensitiveFeatureBuilder`: group labels (race, sex, intersections).
- :func:`make_fair_classification`: made-up toy data ``(X, y, A)`` for examples and
  tests of the mechanics (random numbers, no real people).

Every loader returns a :class:`~sklearn.utils.Bunch` with ``data``, ``target``,
``sensitive_features``, ``frame``, ``feature_names`` and ``DESCR``, or ``(X, y,
sensitive_features)`` with ``return_X_y=True``.
"""

from ._acs import ACS_TASKS, ACSDownloadError, acs_person_file, get_data_home, load_acs
from ._adult import load_adult
from ._encoders import ACSFeatureEncoder, SensitiveFeatureBuilder, TabularEncoder
from ._pums import load_pums_income, make_income_problem, read_pums_csv
from ._synthetic import make_fair_classification

__all__ = [
    "ACS_TASKS",
    "ACSDownloadError",
    "ACSFeatureEncoder",
    "SensitiveFeatureBuilder",
    "TabularEncoder",
    "acs_person_file",
    "get_data_home",
    "load_acs",
    "load_adult",
    "load_pums_income",
    "make_fair_classification",
    "make_income_problem",
    "read_pums_csv",
]
