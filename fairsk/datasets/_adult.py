"""UCI Adult, shipped inside the package so that everything runs with no network."""

from __future__ import annotations

import gzip
import io
from importlib import resources

import pandas as pd

from ._bunch import finish_loader

__all__ = ["ADULT_SHA256", "load_adult"]

#: SHA-256 of the original (uncompressed) files, as published by the UCI repository.
ADULT_SHA256 = {
    "adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
}

_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]  # fmt: skip
_NUMERIC = [
    "age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week",
]  # fmt: skip
_SUBSETS = {
    "train": ("adult.data",),
    "test": ("adult.test",),
    "all": ("adult.data", "adult.test"),
}

_DESCR = """\
UCI Adult (census income)
-------------------------
Becker, B. and Kohavi, R. (1996). Adult. UCI Machine Learning Repository,
https://doi.org/10.24432/C5XW20. Licence: CC BY 4.0 (see ADULT_LICENSE.txt in
fairsk/datasets/data, shipped with fairsk).

People aged over 16 from the 1994 Current Population Survey. Target "income": 1 when
the yearly income is above 50,000 dollars. Rows: train (adult.data) 32,561, test
(adult.test) 16,281, all 48,842; about 24% positive. "?" (unknown workclass,
occupation, native-country) is read as missing.

X holds the 13 person attributes; fnlwgt, the CPS sampling weight (how many people
the row stands for, not an attribute of the person), is left out of X and returned
as the "fnlwgt" entry of the Bunch.
"""


def _read(name: str) -> pd.DataFrame:
    raw = resources.files(__package__).joinpath("data", f"{name}.gz").read_bytes()
    text = gzip.decompress(raw).decode("ascii")
    frame = pd.read_csv(
        io.StringIO(text),
        header=None,
        names=_COLUMNS,
        skipinitialspace=True,
        na_values=["?"],
        keep_default_na=False,
        # adult.test starts with the line "|1x3 Cross validator".
        comment="|",
        dtype={c: "int64" for c in _NUMERIC},
    )
    # adult.test writes its labels ">50K." and "<=50K.".
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


def load_adult(
    *,
    subset: str = "all",
    group: str | list[str] = "race_binary",
    min_group_size: int | None = None,
    drop_sensitive: bool = False,
    return_X_y: bool = False,
    as_frame: bool = True,
):
    """Load UCI Adult, which ships with fairsk (no download).

    Parameters
    ----------
    subset : {"all", "train", "test"}, default="all"
        The original split: ``adult.data`` (32,561 rows), ``adult.test`` (16,281
        rows), or both in that order (48,842 rows).
    group : str or list of str, default="race_binary"
        Sensitive features, see :class:`SensitiveFeatureBuilder`: ``"race_binary"``
        (``"White"`` vs ``"Non-White"``), ``"race"`` (Adult's five categories),
        ``"sex"``, ``"sex_race"`` (labels such as ``"Female, White"``) or column
        names.
    min_group_size : int or None, default=None
        Merge smaller groups into ``"other"`` (with a warning).
    drop_sensitive : bool, default=False
        Remove the columns the sensitive features come from (``race`` and/or
        ``sex``) from X. By default X keeps them, so that results compare with the
        literature; dropping them does not remove their proxies (relationship,
        marital status, ...).
    return_X_y : bool, default=False
        Return ``(X, y, sensitive_features)`` instead of a Bunch.
    as_frame : bool, default=True
        DataFrame / Series, or numpy arrays (X of dtype object) when False.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (X: 13 columns, text columns as strings, "?" as missing),
        ``target`` (1 when income > 50K), ``sensitive_features``, ``frame`` (X and
        target; None when ``as_frame=False``), ``feature_names``, ``target_names``,
        ``fnlwgt`` (the sampling weights), ``DESCR``.
    (X, y, sensitive_features) : tuple
        When ``return_X_y=True``.

    See Also
    --------
    TabularEncoder : Encode X for an estimator.
    load_acs : The ACS income task that succeeds Adult (folktables).

    Notes
    -----
    Becker, B. and Kohavi, R. (1996). Adult. UCI Machine Learning Repository,
    https://doi.org/10.24432/C5XW20, CC BY 4.0.

    Examples
    --------
    >>> from fairsk.datasets import load_adult
    >>> X, y, groups = load_adult(subset="train", return_X_y=True)
    >>> X.shape, round(float(y.mean()), 3)
    ((32561, 13), 0.241)
    >>> groups.value_counts().to_dict()
    {'White': 27816, 'Non-White': 4745}
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {list(_SUBSETS)}, got {subset!r}.")
    frame = pd.concat([_read(name) for name in _SUBSETS[subset]], ignore_index=True)
    X = frame.drop(columns=["income", "fnlwgt"])
    y = frame["income"].eq(">50K").rename("income")
    fnlwgt = frame["fnlwgt"].to_numpy() if not as_frame else frame["fnlwgt"].copy()
    return finish_loader(
        X,
        y,
        frame,
        group=group,
        min_group_size=min_group_size,
        drop_sensitive=drop_sensitive,
        return_X_y=return_X_y,
        as_frame=as_frame,
        descr=_DESCR,
        fnlwgt=fnlwgt,
    )
