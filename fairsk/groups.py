"""Turning sensitive features into integer group codes.

A user hands us sensitive features as 1-D labels of any hashable type (strings, ints,
categories, booleans) or as a 2-D array / DataFrame whose columns are crossed into
intersectional groups (as fairlearn's ``MetricFrame`` does with several sensitive
feature columns). Training works on integer codes ``0..G-1``; this module owns that
mapping, the rule for groups that are too small, and its inverse for reports.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

__all__ = ["GroupEncoder", "merge_small_groups"]

#: Label given to the group into which groups below ``min_group_size`` are merged.
OTHER = "other"


def _as_label_series(sensitive_features, n_samples: int | None = None) -> pd.Series:
    """Return the sensitive features as one Series of hashable labels.

    Several columns become tuples (one intersectional label per row).
    """
    name = "sensitive_features"
    if sensitive_features is None:
        raise ValueError(f"{name} is None; expected 1-D labels or a 2-D array.")
    if isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features
    elif isinstance(sensitive_features, pd.Series):
        frame = sensitive_features.to_frame()
    else:
        arr = np.asarray(sensitive_features, dtype=object)
        if arr.ndim == 0:
            raise ValueError(
                f"{name} must be 1-D labels or a 2-D array, got a scalar "
                f"{sensitive_features!r}."
            )
        if arr.ndim > 2:
            raise ValueError(f"{name} must be 1-D or 2-D, got {arr.ndim} dimensions.")
        frame = pd.DataFrame(arr.reshape(len(arr), -1))
    if frame.shape[1] == 0:
        raise ValueError(f"{name} has no columns.")
    if n_samples is not None and len(frame) != n_samples:
        raise ValueError(
            f"{name} has {len(frame)} rows but X has {n_samples}; they must match."
        )
    missing = frame.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing.any(axis=1))[:5].tolist()
        raise ValueError(
            f"{name} contains missing values (NaN/None) at rows {rows}; "
            "fill them with an explicit label (e.g. 'unknown') first."
        )
    for col in frame.columns:
        values = frame[col].to_numpy()
        if values.dtype == object:  # inf among the labels: look at each once
            try:
                values = _unique(values)
            except TypeError:  # unhashable: reported below
                pass
        if values.dtype.kind == "f" or values.dtype == object:
            floats = np.array(
                [isinstance(v, float | np.floating) for v in values], dtype=bool
            )
            if floats.any() and not np.isfinite(values[floats].astype(float)).all():
                raise ValueError(f"{name} contains inf; expected finite labels.")
    if frame.shape[1] == 1:
        labels = pd.Series(frame.iloc[:, 0].to_numpy(dtype=object))
    else:
        labels = pd.Series(list(map(tuple, frame.to_numpy(dtype=object))), dtype=object)
    try:  # rows of unequal length arrive as lists, which cannot be group labels
        _unique(labels)
    except TypeError as exc:
        bad = next(v for v in labels if not isinstance(v, Hashable))
        raise TypeError(
            f"{name} must hold one hashable label per sample (str, int, bool, "
            "...) or be a 2-D array with the same number of columns in every row; "
            f"got an element of type {type(bad).__name__}: {bad!r}."
        ) from exc
    return labels


def _label_index(labels) -> pd.Index:
    """``labels`` as a pandas Index of objects, hashed in C.

    Equal labels are those a dict equates (1 == 1.0 == True); tuples (the
    labels of intersections) stay labels, never a MultiIndex.
    """
    if isinstance(labels, pd.Series | pd.Index):
        labels = labels.to_numpy(dtype=object)  # not element by element
    elif not isinstance(labels, np.ndarray):
        labels = list(labels)  # a list of tuples must not become a 2-D array
    return pd.Index(labels, dtype=object, tupleize_cols=False)


def _unique(labels) -> np.ndarray:
    """Distinct labels in order of appearance (see :func:`_label_index`)."""
    return _label_index(labels).unique().to_numpy()


def _sorted_labels(labels: Sequence[Hashable]) -> list:
    """Sort labels naturally when they are comparable, else by their text."""
    unique = list(_unique(labels))
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=repr)


def merge_small_groups(
    labels: pd.Series, min_group_size: int, *, other_label: Hashable = OTHER
) -> tuple[pd.Series, list]:
    """Merge every group with fewer than ``min_group_size`` members into one group.

    Parameters
    ----------
    labels : pandas.Series
        One hashable group label per sample.
    min_group_size : int
        Groups with fewer members are merged into ``other_label``.
    other_label : hashable, default="other"
        Label of the merged group.

    Returns
    -------
    labels : pandas.Series
        The labels with small groups replaced.
    merged : list
        The labels that were merged (empty when none were).

    Warns
    -----
    UserWarning
        Naming each merged group and its size.

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.Series(["a"] * 5 + ["b"] * 4 + ["c"])
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     out, merged = merge_small_groups(labels, 2)
    >>> merged, out.tolist()[-1]
    (['c'], 'other')
    >>> str(caught[0].message)
    "Groups smaller than min_group_size=2 were merged into 'other': 'c' (1 samples)."
    """
    counts = labels.value_counts(sort=False)
    small = [lab for lab, n in counts.items() if n < min_group_size]
    if not small:
        return labels, []
    small = _sorted_labels(small)
    detail = ", ".join(f"{lab!r} ({counts[lab]} samples)" for lab in small)
    warnings.warn(
        f"Groups smaller than min_group_size={min_group_size} were merged into "
        f"{other_label!r}: {detail}.",
        UserWarning,
        stacklevel=3,
    )
    mask = labels.isin(small).to_numpy()
    out = labels.copy()
    out[mask] = other_label
    return out, small


class GroupEncoder:
    """Map sensitive-feature labels to integer group codes ``0..G-1``.

    Parameters
    ----------
    min_group_size : int or None, default=None
        Groups with fewer samples in ``fit`` are merged into one group labelled
        ``"other"``, with a warning that names them. ``None`` merges nothing.

    Attributes
    ----------
    groups_ : list
        The group labels, in code order (sorted).
    merged_ : list
        Labels merged into ``"other"`` in ``fit``.
    counts_ : numpy.ndarray
        Size of each group in ``fit``.

    Examples
    --------
    >>> enc = GroupEncoder().fit(["b", "a", "b"])
    >>> enc.groups_
    ['a', 'b']
    >>> enc.transform(["a", "b"]).tolist()
    [0, 1]
    """

    def __init__(self, min_group_size: int | None = None):
        self.min_group_size = min_group_size

    def fit(self, sensitive_features, n_samples: int | None = None) -> GroupEncoder:
        """Learn the groups from ``sensitive_features``."""
        self.fit_transform(sensitive_features, n_samples)
        return self

    def fit_transform(self, sensitive_features, n_samples: int | None = None):
        """Learn the groups and return the code of each sample."""
        labels = _as_label_series(sensitive_features, n_samples)
        self.merged_ = []
        if self.min_group_size is not None and self.min_group_size > 1:
            labels, self.merged_ = merge_small_groups(labels, self.min_group_size)
        self.groups_ = _sorted_labels(labels.tolist())
        codes = self._codes(labels)
        self.counts_ = np.bincount(codes, minlength=len(self.groups_))
        return codes

    def _codes(self, labels: pd.Series) -> np.ndarray:
        """Position of each label in ``groups_`` (-1: unseen), by hashing in C."""
        codes = _label_index(self.groups_).get_indexer(_label_index(labels))
        return codes.astype(np.int64)

    def transform(self, sensitive_features, n_samples: int | None = None):
        """Return the code of each sample; labels unseen in ``fit`` raise."""
        labels = _as_label_series(sensitive_features, n_samples)
        merged = set(self.merged_)
        if merged:
            labels = labels.map(lambda v: OTHER if v in merged else v)
        codes = self._codes(labels)
        if (codes < 0).any():
            unseen = _sorted_labels(labels[codes < 0].unique().tolist())
            raise ValueError(
                f"sensitive_features has groups not seen in fit: {unseen[:10]}; "
                f"known groups are {self.groups_}."
            )
        return codes

    def inverse_transform(self, codes) -> np.ndarray:
        """Return the group label of each code."""
        out = np.empty(len(codes), dtype=object)
        out[:] = [self.groups_[c] for c in np.asarray(codes)]
        return out
