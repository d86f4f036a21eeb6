"""Tables: one row per run (``results.csv``), and per method and bound (summaries).

:func:`summarize` aggregates the runs with pandas' ``groupby().agg`` into numbers
only (``summary.csv``); :func:`table_cells` formats them, once, for the terminal
(:func:`rich_tables`, split to fit its width) and for ``report.html``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from fairsk.constraints import CONSTRAINTS

from ..metrics import PAPER_METRICS
from .heldout import CONFIDENCE, HELD_OUT_FIELDS

__all__: list[str] = []

#: Short labels of the metrics.
LABELS = {
    **PAPER_METRICS,
    "accuracy": "Acc",
    "equalized_odds_difference": "EOD",
    "demographic_parity_difference": "DPD",
    "equal_opportunity_difference": "EOpD",
    "error_rate_difference": "ΔErr",
    "max_group_loss": "max L_g",
    "wd2_hist": "W₂²h",
}
#: Metrics of the summary tables (the paper's, and fairlearn's EOD).
TABLE_METRICS = [*PAPER_METRICS, "equalized_odds_difference"]
_DROP = ("trajectory", "traceback", "info", "params", "warnings", "test_groups")
_FIRST = (
    "run_id algorithm family seed constraint bound status budget epochs_run "
    "fit_seconds n_warnings"
).split()


def runs_frame(records: list[dict], extra: dict | None = None) -> pd.DataFrame:
    """One flat row per run: spec, status, the constraint, metrics, ``extra``."""
    rows = []
    for rec in records:
        row = {k: v for k, v in rec.items() if k not in _DROP}
        row["params"] = json.dumps(rec.get("params") or {}, sort_keys=True, default=str)
        row["info"] = json.dumps(rec.get("info") or {}, sort_keys=True)
        row["warnings"] = " | ".join(rec.get("warnings") or [])
        rows.append(row | (extra or {}))
    df = pd.DataFrame(rows)
    first = [c for c in [*_FIRST, *HELD_OUT_FIELDS] if c in df.columns]
    rest = df.columns.drop([*first, "train_seconds"], errors="ignore")
    metrics = sorted(c for c in rest if c.startswith(("train_", "test_")))
    return df[first + metrics + [c for c in df.columns if c not in first + metrics]]


def summarize(df: pd.DataFrame, *, constraint: str, algorithms=None) -> pd.DataFrame:
    """Per method and bound: mean, std and count of every metric, over seeds.

    Successful runs only; numbers only (``<column>_mean``, ``_std``), plus ``n``
    and the counts ``within``, ``feasible`` and ``holds`` with the runs they were
    known for (``*_known``); :doc:`/benchmark` says what each counts.
    """
    ok = df[df["status"] == "ok"].copy() if "status" in df else df.copy()
    if ok.empty:
        return pd.DataFrame()
    ok["bound"] = ok["bound"].astype(float)

    def flag(col, test):  # 1.0 / 0.0, NaN where unknown
        values = pd.to_numeric(ok.get(col, pd.Series(np.nan, ok.index)), "coerce")
        return test(values).astype(float).where(values.notna())

    metric = f"test_{CONSTRAINTS[constraint].metric}"
    if not constraint.endswith("_ratio"):  # NaN without a bound
        within = flag(metric, lambda v: v <= ok["bound"])
        ok["_within"] = within.where(ok["bound"].notna())
    ok["_feasible"] = flag("train_constraint_violation", lambda v: v <= 0)
    ok["_holds"] = flag("test_constraint_holds", lambda v: v == 1)
    numeric = [
        c
        for c in ok.columns
        if c.startswith(("train_", "test_")) or c in ("fit_seconds", "constraint_bound")
    ]
    numeric = [c for c in numeric if pd.api.types.is_numeric_dtype(ok[c])]
    named = {"n": ("algorithm", "size")}
    named |= {f"{c}_{s}": (c, s) for c in numeric for s in ("mean", "std")}
    for name in ("within", "feasible", "holds"):
        if f"_{name}" in ok:
            named |= {name: (f"_{name}", "sum"), f"{name}_known": (f"_{name}", "count")}
    for col, how in (("n_warnings", "sum"), ("fairlearn_constraint", "first")):
        if col in ok:
            named[col] = (col, how)
    out = ok.groupby(["algorithm", "bound"], dropna=False, sort=False).agg(**named)
    out = out.reset_index().rename(columns={"algorithm": "method"})
    order = {name: i for i, name in enumerate(algorithms or out["method"].unique())}
    rank = out["method"].map(order).fillna(len(order)) * 1e6 + out["bound"].fillna(-1)
    return out.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def _num(v) -> str:
    if v is None or not math.isfinite(v):
        return "nan"
    return f"{v:.3f}" if abs(v) < 100 else f"{v:.1f}"


def _spread(row, col) -> tuple[str, str]:
    mean, std = row.get(f"{col}_mean", np.nan), row.get(f"{col}_std", np.nan)
    return _num(mean), (f"±{_num(std)}" if row["n"] > 1 and math.isfinite(std) else "")


def _count(row, flag) -> tuple[str, str]:
    k = row.get(f"{flag}_known", 0)
    if pd.isna(row["bound"]) or not k or pd.isna(k):
        return "—", ""
    return f"{int(row[flag])}/{int(k)}", ""


def _interval(row) -> tuple[str, str]:
    mean, below = _spread(row, "test_constraint_value")
    low, high = (_num(row.get(f"test_constraint_{e}_mean")) for e in ("low", "high"))
    return f"{mean} [{low}, {high}]", below


def table_cells(summary: pd.DataFrame, kind: str, split: str = "test"):
    """Headers and cells ``(main, below)`` of one table.

    ``kind`` is ``"metrics"`` (the paper's metrics on ``split``) or
    ``"constraint"`` (the constraint on train and test, runs within the bound,
    time and warnings). Cells are text: full precision stays in the CSV files.
    """
    cols = [
        ("method", lambda r: (r["method"], "")),
        ("bound", lambda r: ("—" if pd.isna(r["bound"]) else f"{r['bound']:g}", "")),
        ("n", lambda r: (str(int(r["n"])), "")),
    ]
    if kind == "metrics":
        cols += [
            (LABELS[m], lambda r, m=m: _spread(r, f"{split}_{m}"))
            for m in TABLE_METRICS
        ]
        if split == "test":
            cols.append(("≤ bound", lambda r: _count(r, "within")))
    else:
        cols += [
            ("train", lambda r: _spread(r, "train_constraint_value")),
            (f"test [{CONFIDENCE:.0%} CI]", _interval),
            ("feasible\non train", lambda r: _count(r, "feasible")),
            ("holds\non test", lambda r: _count(r, "holds")),
            ("fit s", lambda r: (f"{r.get('fit_seconds_mean', np.nan):.1f}", "")),
            ("warn", lambda r: (str(int(r.get("n_warnings", 0) or 0)), "")),
        ]
    rows = [[cell(row) for _, cell in cols] for _, row in summary.iterrows()]
    return [header for header, _ in cols], rows


def rich_tables(headers, rows, *, title, caption="", width=100, keys=3) -> list:
    """Rich tables of these cells, split by columns to fit ``width`` characters.

    The first ``keys`` columns repeat in every part; a cell's second line is dim.
    """
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.measure import Measurement
    from rich.table import Table

    console = Console(width=width)
    look = {"box": box.SIMPLE_HEAD, "pad_edge": False, "collapse_padding": True}

    def build(idx, part, parts):
        suffix = f" ({part}/{parts})" if parts > 1 else ""
        table = Table(title=escape(title + suffix), caption=escape(caption), **look)
        for i in idx:
            table.add_column(
                escape(headers[i]),
                justify="left" if i < 2 else "right",
                no_wrap=i == 0,
                overflow="fold",
            )
        for row in rows:
            cells = ((escape(row[i][0]), escape(row[i][1])) for i in idx)
            table.add_row(*(m + (f"\n[dim]{b}[/]" if b else "") for m, b in cells))
        return table

    def fits(idx):  # measured unconstrained: rich clamps a measure to the width
        wide = console.options.update(max_width=10_000)
        return Measurement.get(console, wide, build(idx, 1, 1)).maximum <= width - 1

    chunks, current = [], list(range(keys))
    for i in range(keys, len(headers)):
        if fits([*current, i]) or len(current) == keys:
            current.append(i)
        else:
            chunks.append(current)
            current = [*range(keys), i]
    chunks.append(current)
    return [build(idx, k + 1, len(chunks)) for k, idx in enumerate(chunks)]
