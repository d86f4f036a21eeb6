"""What ``fit`` does to its input before training: validation, labels, groups, split.

Functions of the estimator and its arguments, kept apart from the estimator class
so that each stays short; they use scikit-learn's validation utilities and raise
the errors a user sees, each naming the problem.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import validate_data

from ..constraints import cell_mass

__all__ = ["MAX_DENSE_ELEMENTS"]

#: Largest sparse ``X`` (rows × columns) that fit and predict densify, with a
#: DataConversionWarning: 10⁸ elements is 0.8 GB as float64 (0.4 GB as float32).
#: The network takes dense rows; a larger sparse matrix (typically a wide one-hot
#: or text encoding) raises a ValueError instead of exhausting memory.
MAX_DENSE_ELEMENTS = 10**8


def validate_X(est, X, y="no_validation", *, reset: bool):
    """``validate_data``, with sparse ``X`` densified up to a size limit.

    Returns ``X`` (and ``y`` unless it is ``"no_validation"``, as in
    scikit-learn) as validated dense float arrays.
    """
    kwargs = {"reset": reset, "dtype": [np.float64, np.float32]}
    kwargs["accept_sparse"] = ["csr", "csc", "coo"]
    no_y = isinstance(y, str) and y == "no_validation"
    if no_y:
        X = validate_data(est, X, **kwargs)
    else:
        X, y = validate_data(est, X, y, y_numeric=False, **kwargs)
    if sp.issparse(X):
        size = X.shape[0] * X.shape[1]
        name = type(est).__name__
        if size > MAX_DENSE_ELEMENTS:
            raise ValueError(
                f"X is a sparse matrix of shape {X.shape} ({size:.3g} elements); "
                f"{name} densifies sparse input only up to {MAX_DENSE_ELEMENTS:.0e} "
                "elements (MAX_DENSE_ELEMENTS). Reduce its dimensionality upstream, "
                "e.g. TruncatedSVD in a Pipeline, or pass a dense array."
            )
        warnings.warn(
            f"X is a sparse matrix of shape {X.shape}; {name} densifies it (the "
            "network takes dense rows).",
            DataConversionWarning,
            stacklevel=4,
        )
        X = X.toarray()
    return X if no_y else (X, y)


def check_hidden_layer_sizes(hidden) -> tuple[int, ...]:
    """Return the widths as a tuple of positive ints (ValueError otherwise)."""
    sizes = [hidden] if isinstance(hidden, Integral) else list(hidden)
    if not all(
        isinstance(h, Integral) and not isinstance(h, bool) and h >= 1 for h in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be positive integers (the width of each "
            f"hidden layer), got {hidden!r}."
        )
    return tuple(int(h) for h in sizes)


def encode_target(est, y, classes=None) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, y01)``: the two labels and ``y`` as 0/1 (``classes[1]`` is 1).

    ``classes`` given (a warm start) must be the labels found in ``y``.
    """
    name = type(est).__name__
    missing = pd.isna(y)
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise ValueError(
            f"y contains missing values (NaN/None) at rows {rows}; drop those "
            "samples or label them first."
        )
    check_classification_targets(y)
    kind = type_of_target(y, input_name="y")
    found = np.unique(y)
    if kind != "binary" or len(found) != 2:
        if len(found) < 2:
            raise ValueError(
                f"{name} needs samples of 2 classes in y, but the data contain "
                f"only one class: {found.tolist()[0]!r}."
            )
        raise ValueError(
            "Only binary classification is supported. The type of the target is "
            f"{kind} ({len(found)} classes); {name}'s fairness constraints are "
            "defined for binary outcomes."
        )
    if classes is not None and not np.array_equal(found, classes):
        raise ValueError(
            f"warm_start fit got classes {found.tolist()}, but the model was "
            f"fitted on {classes.tolist()}."
        )
    return found, (y == found[1]).astype(np.float32)


def split_rows(fraction, y01, groups, rng):
    """Training and validation rows, stratified by group and label."""
    n = len(y01)
    if fraction is None:
        return np.arange(n), None
    strata = y01.astype(np.int64) if groups is None else groups * 2 + y01
    _, counts = np.unique(strata, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            "validation_fraction needs at least 2 samples of each label in every "
            "group to stratify the split; merge small groups (min_group_size) or "
            "set validation_fraction=None."
        )
    train, valid = train_test_split(
        np.arange(n),
        test_size=fraction,
        stratify=strata,
        random_state=rng.randint(np.iinfo(np.int32).max),
    )
    return np.sort(train), np.sort(valid)


def compile_on_rows(compiled, groups, y01, sample_weight):
    """``compiled`` again on the label proportions of other rows.

    A group's statistic mixes its labels in the proportions of the rows it is
    measured on (fairlearn's definition); the validation rows' own masses make
    ``valid_*`` in ``history_`` agree with ``feasibility_report`` there. Falls
    back to ``compiled`` when these rows lack a (group, label) cell that the
    training rows have (the rows would not line up with training's).
    """
    if compiled is None or groups is None:
        return compiled
    n_groups = len(compiled.group_names)
    again = compiled.recompiled(cell_mass(groups, y01, n_groups, sample_weight))
    same = again.row_names == compiled.row_names and np.array_equal(
        again.cells, compiled.cells
    )
    return again if same else compiled
