"""Reading any PUMS-format person CSV, and a folktables income problem over its columns.

Folktables' ``ACSIncome`` needs WKHP, COW, OCCP, POBP and RELP, which extracts such
as NIST's "ACS Data Excerpts" lack. :func:`make_income_problem` builds a folktables
``BasicProblem`` over whichever columns a file has, with the same target (PINCP above
a threshold) and group (RAC1P), so those files give an income task too.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence

import pandas as pd

from ._bunch import finish_loader

__all__ = [
    "INCOME_EXCLUDED",
    "load_pums_income",
    "make_income_problem",
    "read_pums_csv",
]

#: Columns read as text: record type, identifiers and codes that contain letters or
#: leading zeros that matter (folktables reads RT, SERIALNO, SOCP, NAICSP as text
#: too).
_TEXT_COLUMNS = ("RT", "SERIALNO", "PUMA", "SOCP", "NAICSP")

#: Columns never used as features of an income target by default: income and its
#: components or anything derived from it (a leak), sampling weights, identifiers.
INCOME_EXCLUDED: frozenset[str] = frozenset(
    {
        # income, its components, and income-derived recodes
        "PINCP", "PINCP_DECILE", "POVPIP", "PERNP", "WAGP", "SEMP", "INTP",
        "RETP", "SSP", "SSIP", "PAP", "OIP", "ADJINC",
        # sampling weights
        "PWGTP", "WGTP",
        # record identifiers
        "RT", "SERIALNO", "SPORDER", "PUMA",
    }
)  # fmt: skip

#: Replicate weights PWGTP1..PWGTP80 / WGTP1..WGTP80.
_REPLICATE_WEIGHT = re.compile(r"^(PWGTP|WGTP)\d+$")


def _is_excluded(column: str, exclude: Iterable[str]) -> bool:
    return column in exclude or bool(_REPLICATE_WEIGHT.match(str(column)))


def read_pums_csv(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    usecols: Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Read a PUMS-format person CSV, with ``N`` or an empty field as missing.

    Works on the Census Bureau's ``psam_p<FIPS>.csv`` files (empty fields for "not
    applicable") and on extracts that write ``N`` instead, such as the NIST ACS Data
    Excerpts. Identifier columns (RT, SERIALNO, PUMA, SOCP, NAICSP) are read as
    text; other columns get numeric dtypes, float where they have missing values.

    Parameters
    ----------
    path : path-like or list of path-like
        One CSV (optionally compressed, as pandas infers from the suffix) or several
        with the same columns, concatenated in order.
    usecols : list of str or None, default=None
        Read only these columns.

    Returns
    -------
    frame : pandas.DataFrame
        One row per person, with a fresh RangeIndex.

    See Also
    --------
    make_income_problem : A folktables problem over the columns read.
    load_pums_income : Read and build the income task in one call.

    Examples
    --------
    >>> import io
    >>> from fairsk.datasets import read_pums_csv
    >>> csv = io.StringIO("PUMA,AGEP,COW,PINCP\n01-01301,30,N,15400\n00100,17,,\n")
    >>> frame = read_pums_csv(csv)
    >>> frame["COW"].isna().tolist(), frame["PUMA"].tolist()
    ([True, True], ['01-01301', '00100'])
    """
    if isinstance(path, list | tuple):
        frames = [read_pums_csv(p, usecols=usecols) for p in path]
        return pd.concat(frames, ignore_index=True)
    return pd.read_csv(
        path,
        na_values=["N", ""],
        keep_default_na=False,
        dtype=dict.fromkeys(_TEXT_COLUMNS, str),
        usecols=usecols,
        skipinitialspace=True,
        low_memory=False,
    )


# Module-level functions (with functools.partial) rather than folktables' lambdas,
# so that the problem pickles.


def _income_filter(frame: pd.DataFrame, *, min_age: int) -> pd.DataFrame:
    """Keep people older than ``min_age`` whose income (PINCP) is known."""
    return frame[(frame["AGEP"] > min_age) & frame["PINCP"].notna()]


def _greater_than(values: pd.Series, *, threshold: float) -> pd.Series:
    return values > threshold


def _identity(values):
    return values


def make_income_problem(
    columns: Iterable[str],
    *,
    threshold: float = 50_000,
    min_age: int = 16,
    features: Sequence[str] | None = None,
):
    """Build a folktables ``BasicProblem`` for "income above ``threshold``".

    Target ``PINCP > threshold`` over people older than ``min_age`` with a known
    income, group ``RAC1P`` when present (as folktables' ``ACSIncome``), and as
    features every available column but income and anything derived from it,
    weights and identifiers (:data:`INCOME_EXCLUDED`, replicate weights). Unlike
    ``ACSIncome`` it keeps missing values as NaN (no ``np.nan_to_num``), does not
    require PINCP > 100 and WKHP > 0 (extracts may lack WKHP), and pickles.

    Parameters
    ----------
    columns : iterable of str
        The columns available, e.g. ``frame.columns``; must include AGEP and PINCP.
    threshold : float, default=50_000
        Income (dollars) above which the target is 1.
    min_age : int, default=16
        Keep people strictly older.
    features : list of str or None, default=None
        Use these features instead; they must be available and not excluded.

    Returns
    -------
    problem : folktables.BasicProblem

    See Also
    --------
    load_pums_income : Apply it to a file.
    load_acs : folktables' own ``ACSIncome`` on Census Bureau files.

    Examples
    --------
    >>> from fairsk.datasets import make_income_problem
    >>> problem = make_income_problem(["AGEP", "SEX", "RAC1P", "PINCP", "PWGTP"])
    >>> problem.features, problem.target, problem.group
    (['AGEP', 'SEX', 'RAC1P'], 'PINCP', 'RAC1P')
    """
    from folktables import BasicProblem

    columns = [str(c) for c in columns]
    needed = [c for c in ("AGEP", "PINCP") if c not in columns]
    if needed:
        raise ValueError(f"An income problem needs columns {needed}; got {columns}.")
    if features is None:
        features = [c for c in columns if not _is_excluded(c, INCOME_EXCLUDED)]
    else:
        features = list(features)
        absent = [c for c in features if c not in columns]
        leaks = [c for c in features if _is_excluded(c, INCOME_EXCLUDED)]
        if absent or leaks:
            raise ValueError(
                f"features {absent} are not available and {leaks} are income, "
                "derived from it, weights or identifiers."
            )
    if not features:
        raise ValueError("No feature is left for the income problem.")
    return BasicProblem(
        features=features,
        target="PINCP",
        target_transform=functools.partial(_greater_than, threshold=threshold),
        group="RAC1P" if "RAC1P" in columns else None,
        group_transform=_identity,
        preprocess=functools.partial(_income_filter, min_age=min_age),
        postprocess=_identity,
    )


_DESCR = """\
Income task on a PUMS-format person file
-----------------------------------------
Rows: people older than {min_age} with a known total income (PINCP).
Target: PINCP > {threshold:g} (1) or not (0); named "PINCP".
Features: {features}.
Never used as features: income and its components or recodes (PINCP, PINCP_DECILE,
POVPIP, ...), weights (PWGTP, WGTP) and identifiers (PUMA, SERIALNO).
Sensitive features: group={group!r}.
Source: {source}.
"""


def load_pums_income(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    threshold: float = 50_000,
    min_age: int = 16,
    features: Sequence[str] | None = None,
    group: str | list[str] = "race_binary",
    min_group_size: int | None = None,
    drop_sensitive: bool = False,
    return_X_y: bool = False,
    as_frame: bool = True,
):
    r"""Load an income task from any PUMS-format person CSV.

    Reads the file with :func:`read_pums_csv` and applies
    :func:`make_income_problem` to its columns. On the NIST ACS Data Excerpts
    (``national2019.csv``) this gives 22,363 people, 33.3% of them with income above
    50,000 dollars.

    Parameters
    ----------
    path : path-like or list of path-like
        The CSV file(s).
    threshold : float, default=50_000
        Income above which the target is 1.
    min_age : int, default=16
        Keep people strictly older.
    features : list of str or None, default=None
        Features to use; by default every column but income, derived, weight and
        identifier columns.
    group : str or list of str, default="race_binary"
        Sensitive features, see :class:`SensitiveFeatureBuilder`: ``"race_binary"``
        (White vs Non-White, from RAC1P), ``"race"``, ``"sex"``, ``"sex_race"``, or
        column names.
    min_group_size : int or None, default=None
        Merge smaller groups into ``"other"`` (with a warning).
    drop_sensitive : bool, default=False
        Remove the columns the sensitive features come from (RAC1P and/or SEX) from
        X. By default X keeps them, as folktables' tasks do.
    return_X_y : bool, default=False
        Return ``(X, y, sensitive_features)`` instead of a Bunch.
    as_frame : bool, default=True
        DataFrame / Series, or numpy arrays when False.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (X), ``target`` (0/1 ints), ``sensitive_features``, ``frame``
        (X and target; None when ``as_frame=False``), ``feature_names``,
        ``target_names``, ``DESCR``.
    (X, y, sensitive_features) : tuple
        When ``return_X_y=True``.

    See Also
    --------
    load_acs : folktables' tasks on Census Bureau files.
    ACSFeatureEncoder : Encode X.

    Examples
    --------
    >>> import io
    >>> from fairsk.datasets import load_pums_income
    >>> csv = io.StringIO(
    ...     "AGEP,SEX,RAC1P,EDU,PINCP,PWGTP\n"
    ...     "35,1,1,9,72000,10\n41,2,2,7,30000,12\n12,1,6,3,N,9\n"
    ... )
    >>> X, y, groups = load_pums_income(csv, return_X_y=True)
    >>> X.columns.tolist(), y.tolist(), groups.tolist()
    (['AGEP', 'SEX', 'RAC1P', 'EDU'], [1, 0], ['White', 'Non-White'])
    """
    frame = read_pums_csv(path)
    problem = make_income_problem(
        frame.columns, threshold=threshold, min_age=min_age, features=features
    )
    source = _income_filter(frame, min_age=min_age)
    X = source[problem.features]
    y = problem.target_transform(source[problem.target]).rename(problem.target)
    name = os.fspath(path) if isinstance(path, str | os.PathLike) else repr(path)
    descr = _DESCR.format(
        min_age=min_age,
        threshold=threshold,
        features=", ".join(problem.features),
        group=group,
        source=name,
    )
    return finish_loader(
        X,
        y,
        source,
        group=group,
        min_group_size=min_group_size,
        drop_sensitive=drop_sensitive,
        return_X_y=return_X_y,
        as_frame=as_frame,
        descr=descr,
    )
