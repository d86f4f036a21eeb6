r"""Will the bound hold on new data? Constraint values with bootstrap intervals.

Each constraint's value (the largest gap, the smallest ratio, the largest group
loss; on hard predictions, as fairlearn's metrics) is computed on the given rows,
and its sampling uncertainty by the Poisson bootstrap (Hanley & MacGibbon, 2006;
each row gets an independent :math:`\mathrm{Poisson}(1)` weight per replicate,
which resamples every group in proportion to its size). The percentile interval at
level ``confidence`` says where the value would lie on another sample of the same
population; the bound *holds with that confidence* when the whole interval is on
the feasible side (the upper end below the bound; the lower end above it for
ratio bounds). fairlearn's ``MetricFrame(n_boot=...)`` bootstraps per-group
metrics; this bootstraps the constraint itself, whose value is a maximum over
groups.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch

from .constraints import CompiledConstraints

__all__ = ["feasibility_report"]


def _evaluator(compiled: CompiledConstraints, logits, y01, codes):
    """Return ``weights -> (rows, bounds, values)`` on the given rows.

    Under row weights ``weights``: each constraint row's value (by name), its
    bound, and each constraint's value. Each (group, label) cell, index
    ``2 g + y``, sums its rows' quantities; the constraints are compiled again
    on the cells' masses, so that a group's statistic mixes its labels in the
    proportions of *these* rows (fairlearn's definition), not of the training
    set.
    """
    Q = compiled.quantity_matrix(
        torch.as_tensor(logits, dtype=torch.float64),
        torch.as_tensor(y01, dtype=torch.float64),
        hard=True,
    ).numpy()
    cell = codes * 2 + y01.astype(np.int64)
    n_cells = 2 * len(compiled.group_names)

    def evaluate(weights):
        weighted = (weights[:, None] * Q).T
        sums = np.stack(
            [np.bincount(cell, col, minlength=n_cells) for col in weighted], axis=1
        )
        mass = np.bincount(cell, weights, minlength=n_cells)
        cc = compiled.recompiled(mass)
        idx = cc.cells[:, 0] * 2 + cc.cells[:, 1]
        flat = (
            sums[idx] / np.maximum(mass[idx], np.finfo(float).tiny)[:, None]
        ).ravel()
        rows = dict(zip(cc.row_names, cc.K @ flat - cc.b, strict=True))
        bounds = dict(zip(cc.row_names, cc.b, strict=True))
        return rows, bounds, [rep["value"] for rep in cc.report(cc.A @ flat)]

    return evaluate


def feasibility_report(
    compiled: CompiledConstraints,
    logits: np.ndarray,
    y01: np.ndarray,
    codes: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 200,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Constraint values on the given rows, with bootstrap confidence intervals.

    Parameters
    ----------
    compiled : CompiledConstraints
        The fitted estimator's constraints.
    logits : numpy.ndarray of shape (n,)
        Decision function values (a positive prediction is ``logit > 0``).
    y01 : numpy.ndarray of shape (n,)
        Labels as 0/1.
    codes : numpy.ndarray of shape (n,)
        Group code of each row.
    sample_weight : numpy.ndarray or None
        Row weights.
    confidence : float, default=0.95
        Level of the two-sided percentile interval.
    n_boot : int, default=200
        Bootstrap replicates (0 for point estimates only).
    random_state : int, Generator or None
        Seeds the replicates.

    Returns
    -------
    pandas.DataFrame
        One row per constraint: ``constraint``, ``kind``, ``bound``, ``value``,
        ``ci_low``, ``ci_high``, ``violation`` (``value - bound``; for ratio
        bounds ``bound - value``) and ``holds`` (the interval lies on the
        feasible side of the bound).

    Warns
    -----
    UserWarning
        When a group of ``compiled`` has no row with positive weight among
        those given: its statistics are undefined there, so every constraint
        (each compares every group) reports NaN for ``value``, ``ci_low``,
        ``ci_high`` and ``violation``, and ``holds`` is False. Bootstrap
        replicates in which a group that is present draws no weight are
        skipped for the same reason.

    Examples
    --------
    >>> import numpy as np
    >>> from fairsk.constraints import compile_constraints, make_constraints
    >>> rng = np.random.default_rng(0)
    >>> codes = rng.integers(0, 2, 2000); y = rng.integers(0, 2, 2000)
    >>> mass = np.array([[np.sum((codes == g) & (y == t)) for t in (0, 1)]
    ...                  for g in (0, 1)], dtype=float)
    >>> cc = compile_constraints(make_constraints("demographic_parity", 0.1),
    ...                          mass, ["a", "b"])
    >>> report = feasibility_report(cc, rng.normal(size=2000), y, codes,
    ...                             random_state=0)
    >>> report[["constraint", "bound", "holds"]]
               constraint  bound  holds
    0  demographic_parity    0.1   True
    """
    y01 = np.asarray(y01, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.int64)
    w = np.ones(len(y01)) if sample_weight is None else np.asarray(sample_weight, float)
    evaluate = _evaluator(compiled, logits, y01, codes)
    n_groups = len(compiled.group_names)
    group_mass = np.bincount(codes, w, minlength=n_groups)[:n_groups]
    empty = [compiled.group_names[g] for g in np.flatnonzero(~(group_mass > 0))]
    if empty:
        # A group without weight has no statistic; it would otherwise enter
        # every comparison with a statistic of 0.
        names = ", ".join(repr(g) for g in empty)
        warnings.warn(
            f"feasibility_report: group {names} has no rows with positive weight "
            "among those given, so its statistics are undefined and every "
            "constraint comparing it is reported as NaN (holds=False). Report on "
            "rows that hold every group the model was fitted on.",
            UserWarning,
            # feasibility_report < the estimator's _feasibility <
            # feasibility_report < the caller.
            stacklevel=4,
        )
        undefined = np.full(len(compiled.constraints), np.nan)
        return _report(compiled, undefined, undefined, undefined, False)
    _, bounds, values = evaluate(w)
    rng = np.random.default_rng(random_state)
    low, high, replicated = _bootstrap(
        compiled, evaluate, codes, w, bounds, confidence, n_boot, rng
    )
    return _report(compiled, values, low, high, replicated)


def _bootstrap(compiled, evaluate, codes, w, bounds, confidence, n_boot, rng):
    """Percentile interval of each constraint over Poisson-bootstrap replicates.

    Returns ``(low, high, replicated)``; the ends are NaN when no replicate
    could be evaluated (``replicated`` False).
    """
    n_groups = len(compiled.group_names)
    boot_rows: dict[str, list] = {name: [] for name in bounds}
    boot_values = []
    for _ in range(n_boot):
        weights = w * rng.poisson(1.0, size=len(w))
        if not np.bincount(codes, weights, minlength=n_groups).all():
            continue  # a group drew no weight: its statistic is undefined here
        try:
            rows, _, v = evaluate(weights)
        except ValueError:  # a replicate without two groups to compare: skip it
            continue
        boot_values.append(v)
        for name, value in rows.items():
            boot_rows.setdefault(name, []).append(value)
    n = len(compiled.constraints)
    if not boot_values:
        return np.full(n, np.nan), np.full(n, np.nan), False
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(np.array(boot_values), [alpha, 1.0 - alpha], axis=0)
    # A gap or a largest group loss is the largest of its rows (plus the
    # bound): its interval is taken row by row, on the signed differences, so
    # that a gap near zero gets a lower end of zero (a percentile interval of
    # |d| itself would exclude zero, and often the estimate).
    for i, con in enumerate(compiled.constraints):
        if not con.form.rowwise:
            continue
        names = [n for n in bounds if n.startswith(con.name + ":") and boot_rows[n]]
        ends = np.array(
            [np.quantile(boot_rows[n], [alpha, 1.0 - alpha]) + bounds[n] for n in names]
        )
        low[i], high[i] = ends.max(axis=0)
        if con.form.floor is not None:
            low[i] = max(low[i], con.form.floor)
    return low, high, True


def _report(compiled: CompiledConstraints, values, low, high, bootstrapped: bool):
    """Return one row per constraint; without replicates, it holds when feasible."""
    rows = []
    for con, value, lo, hi in zip(compiled.constraints, values, low, high, strict=True):
        violation = con.form.violation(value, con.bound)
        holds = con.form.holds(lo, hi, con.bound) if bootstrapped else violation <= 0
        rows.append(
            {
                "constraint": con.name,
                "kind": con.kind,
                "bound": float(con.bound),
                "value": float(value),
                "ci_low": float(lo),
                "ci_high": float(hi),
                "violation": float(violation),
                "holds": bool(holds),
            }
        )
    return pd.DataFrame(rows)
