"""What ``fit`` does to its input before training: validation, labels, groups, split.

Functions of the estimator and its arguments, kept apart from the estimator class
so that each stays short; they use scikit-learn's validation utilities and raise
the errors a user sees, each naming the problem.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import validate_data

from ..constraints import cell_mass
from ..exceptions import SmallGroupWarning, warn
from ..problem import logits_of

__all__ = ["FLOAT32_MAX", "MAX_BOUND", "MAX_DENSE_ELEMENTS", "MIN_CELL_SAMPLES"]

#: Largest sparse ``X`` (rows × columns) that fit and predict densify, with a
#: DataConversionWarning: 10⁸ elements is 0.8 GB as float64 (0.4 GB as float32).
#: The network takes dense rows; a larger sparse matrix (typically a wide one-hot
#: or text encoding) raises a ValueError instead of exhausting memory.
MAX_DENSE_ELEMENTS = 10**8

#: Fewest training samples in a (group, label) cell that the constraints read
#: before fit warns (SmallGroupWarning): a statistic estimated from fewer rows has
#: a standard error of the order of 1/√n ≥ 0.3, far above any useful bound.
MIN_CELL_SAMPLES = 10

#: Largest float32, the dtype of training: a real hyperparameter above it
#: (``lr``, ``alpha``, ``dual_lr``, ...) cannot enter a float32 operation.
FLOAT32_MAX = float(np.finfo(np.float32).max)

#: Largest bound: an epoch sums constraint values and the augmented terms square
#: them, in float32; a bound of 1e18 keeps both finite (a larger bound on a rate,
#: a loss in nats or a ratio constrains nothing anyway).
MAX_BOUND = 1e18


def validate_X(est, X, y="no_validation", *, reset: bool, fitting: bool = False):
    """``validate_data``, with sparse ``X`` densified up to a size limit.

    Returns ``X`` (and ``y`` unless it is ``"no_validation"``, as in
    scikit-learn) as validated dense float arrays. Densifying warns when
    ``fitting``, and after a fit only the first time.
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
        # Told once per fit and once for the predictions after it. The flag is a
        # list that predict mutates (predict leaves the estimator's __dict__ as it
        # is).
        told = getattr(est, "_sparse_told", [False])
        if fitting or not told[0]:
            warn(
                f"X is a sparse matrix of shape {X.shape}; {name} densifies it (the "
                "network takes dense rows)"
                + ("." if fitting else "; told once until the next fit."),
                DataConversionWarning,
            )
            told[0] = told[0] or not fitting
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


def check_float32_range(est) -> None:
    """Reject a real hyperparameter that float32, training's dtype, cannot hold.

    ``_parameter_constraints`` admits any finite real for ``lr``, ``alpha``,
    ``dual_lr``, ...; above :data:`FLOAT32_MAX` torch fails deep inside the first
    step ("value cannot be converted"). Bounds are checked against
    :data:`MAX_BOUND` when the constraints are compiled.
    """
    for name, rules in est._parameter_constraints.items():
        value = getattr(est, name, None)
        real = any(isinstance(r, Interval) and r.type is Real for r in rules)
        if not real or name == "bound" or not isinstance(value, Real):
            continue
        if abs(float(value)) > FLOAT32_MAX:
            raise ValueError(
                f"{name}={float(value):.3g} is larger than float32 can hold "
                f"({FLOAT32_MAX:.2g}), the dtype {type(est).__name__} trains in; "
                f"choose {name} at most {FLOAT32_MAX:.2g} (a sensible value is many "
                "orders of magnitude smaller)."
            )


def check_bounds(est, compiled) -> None:
    """Reject a bound above :data:`MAX_BOUND` (its float32 sums would overflow)."""
    for con in compiled.constraints:
        if con.bound > MAX_BOUND:
            raise ValueError(
                f"The bound of {con.name!r} is {con.bound:.3g}; "
                f"{type(est).__name__} trains in float32 and accepts bounds of at "
                f"most {MAX_BOUND:.0e} (MAX_BOUND), whose sums and squares over an "
                "epoch stay finite. A bound this large constrains nothing: use "
                "UnconstrainedClassifier instead."
            )


def warn_small_groups(classes, compiled, groups, y01) -> None:
    """Warn for each group with a cell the constraints read but few rows in.

    Counts training rows (weights aside) per (group, label) cell; a cell below
    :data:`MIN_CELL_SAMPLES` makes its group's statistic an estimate from a
    handful of rows.
    """
    counts = np.zeros((len(compiled.group_names), 2), dtype=np.int64)
    np.add.at(counts, (groups, y01.astype(np.int64)), 1)
    small: dict[int, list] = {}
    for g, label in compiled.cells:
        if counts[g, label] < MIN_CELL_SAMPLES:
            small.setdefault(int(g), []).append(int(label))
    for g, labels in small.items():
        cells = ", ".join(
            f"{counts[g, lab]} with label {classes[lab]}" for lab in labels
        )
        warn(
            f"Group {compiled.group_names[g]!r} is too small to estimate its "
            f"constraint statistics: {counts[g].sum()} training samples of "
            f"{len(y01)} ({cells}; the constraints need at least "
            f"{MIN_CELL_SAMPLES} in each (group, label) cell they read). An "
            "estimate from n samples has a standard error of the order of "
            "1/sqrt(n), so its bound will not hold reliably on new data. Merge "
            "small groups into 'other' with min_group_size, collect more samples "
            "of the group, or drop its rows.",
            SmallGroupWarning,
        )


def warn_single_class(est, module, data, chunk: int = 65536) -> None:
    """Warn when the fitted model predicts one class for every training row.

    A model that never predicts one of the classes on the data it was trained on
    (too few epochs, too small a step, unscaled features, or a bound that forces
    it) would otherwise pass silently; the check costs one forward pass over the
    training rows, on the device.
    """
    was_training = module.training
    module.eval()
    rows = data.rows
    with torch.no_grad():
        positives = sum(
            int(
                (
                    logits_of(
                        module,
                        data.X[i : i + chunk]
                        if rows is None
                        else data.X.index_select(0, rows[i : i + chunk]),
                    )
                    > 0
                ).sum()
            )
            for i in range(0, data.n, chunk)
        )
    module.train(was_training)
    if 0 < positives < data.n:
        return
    label = est.classes_[int(positives > 0)]
    warn(
        f"{type(est).__name__} predicts class {label} for all {data.n} training "
        "samples: the model has not learned to tell the classes apart. Train "
        "longer (max_epochs), raise lr, standardise the features, or loosen the "
        "bound if the constraint forces it.",
        ConvergenceWarning,
    )
