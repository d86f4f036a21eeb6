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

import numpy as np
import pandas as pd
import torch

from .constraints import CompiledConstraints

__all__ = ["feasibility_report"]


def _cell_index(compiled: CompiledConstraints, codes: np.ndarray, y01: np.ndarray):
    lookup = np.full((len(compiled.group_names), 2), -1, dtype=np.int64)
    for i, (g, lab) in enumerate(compiled.cells):
        lookup[g, lab] = i
    return lookup[codes, y01.astype(np.int64)]


def _rows_and_values(compiled: CompiledConstraints, sums, mass):
    """Constraint rows ``c`` and each constraint's value from per-cell sums."""
    M = sums / np.maximum(mass, np.finfo(float).tiny)[:, None]
    flat = M.reshape(-1)
    return compiled.K @ flat - compiled.b, [
        rep["value"] for rep in compiled.report(compiled.A @ flat)
    ]


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
    cell = _cell_index(compiled, codes, y01)
    keep = cell >= 0
    Q = compiled.quantity_matrix(
        torch.as_tensor(logits, dtype=torch.float64),
        torch.as_tensor(y01, dtype=torch.float64),
        hard=True,
    ).numpy()[keep]
    cell, w = cell[keep], w[keep]
    n_cells, n_q = len(compiled.cells), Q.shape[1]

    def sums_and_mass(weights):
        sums = np.stack(
            [
                np.bincount(cell, weights * Q[:, q], minlength=n_cells)
                for q in range(n_q)
            ],
            axis=1,
        )
        return sums, np.bincount(cell, weights, minlength=n_cells)

    _, values = _rows_and_values(compiled, *sums_and_mass(w))
    rng = np.random.default_rng(random_state)
    boot_rows, boot_values = [], []
    for _ in range(n_boot):
        c, v = _rows_and_values(
            compiled, *sums_and_mass(w * rng.poisson(1.0, size=len(w)))
        )
        boot_rows.append(c)
        boot_values.append(v)
    alpha = (1.0 - confidence) / 2.0
    low = high = np.full(len(values), np.nan)
    if n_boot:
        low, high = np.quantile(np.array(boot_values), [alpha, 1.0 - alpha], axis=0)
        row_low, row_high = np.quantile(
            np.array(boot_rows), [alpha, 1.0 - alpha], axis=0
        )
        # A gap or a largest group loss is the largest of its rows (plus the
        # bound): its interval is taken row by row, on the signed differences, so
        # that a gap near zero gets a lower end of zero (a percentile interval of
        # |d| itself would exclude zero, and often the estimate).
        for i, con in enumerate(compiled.constraints):
            if con.kind == "ratio":
                continue
            rows = np.flatnonzero(
                [name.startswith(con.name + ":") for name in compiled.row_names]
            )
            b = compiled.b[rows]
            low[i] = np.max(row_low[rows] + b)
            high[i] = np.max(row_high[rows] + b)
            if con.kind == "difference":
                low[i] = max(low[i], 0.0)
    rows = []
    for i, con in enumerate(compiled.constraints):
        ratio = con.kind == "ratio"
        violation = con.bound - values[i] if ratio else values[i] - con.bound
        holds = low[i] >= con.bound if ratio else high[i] <= con.bound
        rows.append(
            {
                "constraint": con.name,
                "kind": con.kind,
                "bound": float(con.bound),
                "value": float(values[i]),
                "ci_low": float(low[i]),
                "ci_high": float(high[i]),
                "violation": float(violation),
                "holds": bool(holds) if n_boot else bool(violation <= 0),
            }
        )
    return pd.DataFrame(rows)
