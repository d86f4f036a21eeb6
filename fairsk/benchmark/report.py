"""What a benchmark leaves behind: the table, the CSV/JSON rows, plots, an HTML page.

- :func:`runs_frame`: one flat row per run (no trajectories), for ``results.csv``.
- :func:`summarize` / :func:`rich_table`: mean ± std over seeds per algorithm and
  bound, on the terminal (rich) and in the report.
- :func:`plot_trajectories`: training objective and the constraint's value against
  training time, one line per run, the bound dashed.
- :func:`plot_pareto`: the accuracy-fairness plane with every run and the Pareto
  front of all of them.
- :func:`html_report`: one self-contained page (tables as HTML, plots as base64
  PNG).

Plots use matplotlib's object API with the Agg renderer (no pyplot, so no global
backend is switched in the caller's session).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math

import numpy as np
import pandas as pd

from ..metrics import PAPER_METRICS

__all__ = [
    "CONSTRAINT_METRIC",
    "constraint_metric",
    "html_report",
    "pareto_front",
    "plot_pareto",
    "plot_trajectories",
    "rich_table",
    "runs_frame",
    "summarize",
]

#: Short labels of :func:`fairsk.metrics.paper_metrics`'s keys.
LABELS = {
    **PAPER_METRICS,
    "accuracy": "Acc",
    "demographic_parity_difference": "DPD",
    "equalized_odds_difference": "EOD",
    "equal_opportunity_difference": "EOpD",
    "error_rate_difference": "ΔErr",
    "max_group_loss": "max L_g",
    "fit_seconds": "fit s",
}
#: Columns of the summary table (the paper's metrics and fairlearn's EOD).
TABLE_METRICS = [*PAPER_METRICS, "equalized_odds_difference"]
HIGHER_IS_BETTER = {"auc_m", "accuracy"}

#: The metric that measures each fairsk constraint (on the test set).
CONSTRAINT_METRIC = {
    "loss_gap": "loss_gap",
    "demographic_parity": "ind",
    "demographic_parity_ratio": "ind",
    "equalized_odds": "equalized_odds_difference",
    "equalized_odds_ratio": "equalized_odds_difference",
    "equal_opportunity": "equal_opportunity_difference",
    "equal_opportunity_ratio": "equal_opportunity_difference",
    "error_rate_parity": "error_rate_difference",
    "error_rate_ratio": "error_rate_difference",
    "bounded_group_loss": "max_group_loss",
}

_DROP = ("trajectory", "traceback", "info", "params", "warnings")
_FIRST = [
    "run_id",
    "algorithm",
    "family",
    "seed",
    "constraint",
    "bound",
    "status",
    "budget",
    "epochs_run",
    "fit_seconds",
]


def constraint_metric(constraint: str) -> str:
    """Key of :func:`~fairsk.metrics.paper_metrics` measuring ``constraint``.

    Examples
    --------
    >>> constraint_metric("demographic_parity")
    'ind'
    """
    return CONSTRAINT_METRIC.get(constraint, "ind")


def _is_ratio(constraint: str) -> bool:
    return constraint.endswith("_ratio")


def runs_frame(records: list[dict], extra: dict | None = None) -> pd.DataFrame:
    """One flat row per run: spec, status, metrics, then ``extra`` columns.

    Trajectories stay in ``results.json``; parameters, fairlearn's selection info
    and warnings become JSON / text cells.
    """
    rows = []
    for rec in records:
        row = {k: v for k, v in rec.items() if k not in _DROP}
        row["params"] = json.dumps(rec.get("params") or {}, sort_keys=True)
        row["info"] = json.dumps(rec.get("info") or {}, sort_keys=True)
        row["warnings"] = " | ".join(rec.get("warnings") or [])
        row.update(extra or {})
        rows.append(row)
    df = pd.DataFrame(rows)
    first = [c for c in _FIRST if c in df.columns]
    metrics = sorted(c for c in df.columns if c.startswith(("train_", "test_")))
    metrics = [c for c in metrics if c != "train_seconds"]
    rest = [c for c in df.columns if c not in first and c not in metrics]
    return df[first + metrics + rest]


def _fmt(mean: float, std: float, n: int) -> str:
    if mean is None or not math.isfinite(mean):
        return "nan"
    if n > 1 and std is not None and math.isfinite(std):
        return f"{mean:.3f}±{std:.3f}"
    return f"{mean:.3f}"


def summarize(
    df: pd.DataFrame,
    *,
    split: str = "test",
    constraint: str | None = None,
    algorithms: list[str] | None = None,
    metrics: list[str] | None = None,
) -> pd.DataFrame:
    """Mean ± std over seeds of each algorithm and bound (successful runs only).

    Returns a frame of display strings with columns ``method``, ``bound``, ``n``,
    one per metric, ``fit s``, and ``≤ bound`` (runs whose metric of the
    constraint is within the bound on this split; difference and upper-bound
    constraints), plus the numeric ``<metric>_mean`` / ``<metric>_std`` columns.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "algorithm": ["a", "a"], "bound": [0.1, 0.1], "status": ["ok", "ok"],
    ...     "test_ind": [0.05, 0.15], "fit_seconds": [1.0, 3.0],
    ... })
    >>> row = summarize(df, metrics=["ind"], constraint="demographic_parity").iloc[0]
    >>> row["Ind"], row["≤ bound"], int(row["n"])
    ('0.100±0.071', '1/2', 2)
    """
    metrics = metrics or TABLE_METRICS
    ok = df[df["status"] == "ok"].copy() if "status" in df else df.copy()
    if ok.empty:
        return pd.DataFrame()
    algorithms = algorithms or list(dict.fromkeys(ok["algorithm"]))
    order = {name: i for i, name in enumerate(algorithms)}
    ok["_bound"] = ok["bound"].astype(float)
    target = constraint_metric(constraint) if constraint else None
    rows = []
    for (name, bound), grp in ok.groupby(["algorithm", "_bound"], dropna=False):
        row = {
            "method": name,
            "bound": "—" if pd.isna(bound) else f"{bound:g}",
            "n": len(grp),
            "_order": (order.get(name, len(order)), -1 if pd.isna(bound) else bound),
        }
        for m in [*metrics, "fit_seconds"]:
            col = m if m == "fit_seconds" else f"{split}_{m}"
            values = grp[col].astype(float) if col in grp else pd.Series([np.nan])
            mean, std = values.mean(), values.std(ddof=1)
            row[f"{m}_mean"], row[f"{m}_std"] = mean, std
            row[LABELS.get(m, m)] = _fmt(mean, std, len(grp))
        row["fit s"] = f"{row['fit_seconds_mean']:.1f}"
        feasible = "—"
        if target and not pd.isna(bound) and not _is_ratio(constraint):
            col = f"{split}_{target}"
            if col in grp:
                within = int((grp[col].astype(float) <= bound).sum())
                feasible = f"{within}/{len(grp)}"
        row["≤ bound"] = feasible
        if "fairlearn_constraint" in grp:
            notes = grp["fairlearn_constraint"].dropna()
            row["fairlearn constraint"] = notes.iloc[0] if len(notes) else ""
        rows.append(row)
    out = pd.DataFrame(rows).sort_values("_order", kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


def display_columns(summary: pd.DataFrame, metrics: list[str] | None = None):
    """Return the human-readable columns of a :func:`summarize` frame, in order."""
    metrics = metrics or TABLE_METRICS
    cols = ["method", "bound", "n", *(LABELS.get(m, m) for m in metrics)]
    cols += ["≤ bound", "fit s"]
    return [c for c in cols if c in summary.columns]


def rich_table(summary: pd.DataFrame, *, title: str, caption: str = ""):
    """Render the summary as a :class:`rich.table.Table`."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False)
    for col in display_columns(summary):
        justify = "left" if col in ("method", "bound") else "right"
        table.add_column(col, justify=justify, no_wrap=col == "method")
    for _, row in summary.iterrows():
        # The spread under the mean, dimmer: narrow columns, and the eye reads the
        # means down a column.
        cells = []
        for col in display_columns(summary):
            mean, pm, std = str(row[col]).partition("±")
            cells.append(f"{mean}\n[dim]±{std}[/]" if pm else mean)
        table.add_row(*cells)
    return table


def pareto_front(x, y) -> np.ndarray:
    """Return the points that no other point beats on both lower x and higher y.

    Their indices, in increasing ``x``; NaN points are ignored.

    Examples
    --------
    >>> pareto_front([0.1, 0.2, 0.05, 0.3], [0.80, 0.85, 0.70, 0.84]).tolist()
    [2, 0, 1]
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    idx = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    idx = idx[np.lexsort((-y[idx], x[idx]))]
    front, best = [], -np.inf
    for i in idx:
        if y[i] > best:
            front.append(i)
            best = y[i]
    return np.asarray(front, dtype=np.int64)


def _colors(algorithms: list[str]) -> dict:
    from matplotlib import colormaps

    # tab10 then Dark2: 18 colours no two of which are shades of one another.
    palette = [*colormaps["tab10"].colors, *colormaps["Dark2"].colors]
    return {name: palette[i % len(palette)] for i, name in enumerate(algorithms)}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def plot_trajectories(
    records: list[dict], *, constraint: str, bounds: list[float], algorithms
) -> bytes | None:
    """PNG: objective and constraint value vs training time, one column per bound.

    Every fairsk run is a line (colour = algorithm); algorithms the bound does not
    change appear in every column. fairlearn's baselines have no trajectory.
    Returns None when no run has one.
    """
    from matplotlib.figure import Figure

    runs = [r for r in records if r.get("status") == "ok" and r.get("trajectory")]
    if not runs:
        return None
    shown = bounds[:6]
    colors = _colors(list(algorithms))
    fig = Figure(figsize=(4.2 * len(shown) + 1.8, 6.4), layout="constrained")
    axes = fig.subplots(2, len(shown), sharex="col", squeeze=False)
    labelled = set()
    times = np.concatenate([r["trajectory"]["time"] for r in runs])
    times = times[times > 0]
    # Runs of very different speeds: a log time axis keeps the fast ones visible.
    log_time = times.size > 0 and times.max() > 20 * times.min()
    for j, bound in enumerate(shown):
        top, bottom = axes[0, j], axes[1, j]
        for rec in runs:
            if rec["bound"] is not None and rec["bound"] != bound:
                continue
            traj, name = rec["trajectory"], rec["algorithm"]
            values = traj["constraints"].get(constraint)
            if values is None and traj["constraints"]:
                values = next(iter(traj["constraints"].values()))
            label = name if name not in labelled else None
            labelled.add(name)
            style = {"color": colors.get(name), "lw": 1.2, "alpha": 0.85}
            top.plot(traj["time"], traj["objective"], label=label, **style)
            if values is not None:
                bottom.plot(traj["time"], values, **style)
        bottom.axhline(bound, ls="--", color="black", lw=1.2)
        bottom.annotate(
            f"bound {bound:g}",
            (1, bound),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            fontsize=8,
        )
        top.set_title(f"{constraint} ≤ {bound:g}" if len(shown) > 1 else constraint)
        bottom.set_xlabel("training time (s)" + (", log scale" if log_time else ""))
        if log_time:
            bottom.set_xscale("log")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("objective: training BCE")
    axes[1, 0].set_ylabel(f"{constraint} on train")
    fig.legend(loc="outside right upper", title="algorithm", fontsize=9)
    fig.suptitle("Training trajectories (one line per run)")
    return _png(fig)


def plot_pareto(
    df: pd.DataFrame, *, constraint: str, bounds: list[float], algorithms
) -> bytes | None:
    """PNG: test accuracy against test unfairness, every run, and the Pareto front.

    Left: the metric of the benchmark's constraint (bounds dotted); right:
    independence (Ind), or separation (Sp) when the constraint is demographic
    parity. The front links the runs no other run beats on both axes.
    """
    from matplotlib.figure import Figure

    ok = df[df["status"] == "ok"] if "status" in df else df
    if ok.empty:
        return None
    first = constraint_metric(constraint)
    metrics = [first, "ind" if first != "ind" else "sp"]
    colors = _colors(list(algorithms))
    fig = Figure(figsize=(12, 5), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, metric in zip(axes, metrics, strict=True):
        x = ok[f"test_{metric}"].astype(float).to_numpy()
        y = ok["test_accuracy"].astype(float).to_numpy()
        for name in algorithms:
            mask = (ok["algorithm"] == name).to_numpy()
            if not mask.any():
                continue
            fam = ok.loc[mask, "family"].iloc[0] if "family" in ok else "fairsk"
            ax.scatter(
                x[mask],
                y[mask],
                color=colors[name],
                marker="o" if fam == "fairsk" else "s",
                s=36,
                alpha=0.85,
                label=name if ax is axes[0] else None,
                edgecolor="white",
                linewidth=0.5,
            )
        front = pareto_front(x, y)
        if len(front):
            ax.step(
                x[front],
                y[front],
                where="post",
                color="0.35",
                ls="--",
                lw=1,
                zorder=0,
                label="Pareto front" if ax is axes[0] else None,
            )
        if metric == first and not _is_ratio(constraint):
            for bound in bounds:
                ax.axvline(bound, color="black", ls=":", lw=1)
        finite = x[np.isfinite(x) & (x > 0)]
        if finite.size and finite.max() > 20 * np.median(finite):
            # A few far-off runs (e.g. |ΔL| of randomised hard classifiers) would
            # squash the rest: linear near 0, logarithmic beyond.
            ax.set_xscale("symlog", linthresh=max(min(bounds), 1e-3))
            ax.set_xlim(left=0, right=1.6 * finite.max())
        else:
            ax.set_xlim(left=0)
        ax.set_xlabel(f"{LABELS.get(metric, metric)} on test (lower is fairer)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy on test")
    fig.legend(loc="outside right upper", fontsize=9)
    fig.suptitle("Accuracy-fairness plane (o: fairsk, ■: fairlearn; dotted: bounds)")
    return _png(fig)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;
max-width:1400px;color:#222;padding:0 1em}
table{border-collapse:collapse;font-size:0.9em;margin:0.5em 0 1.5em}
th,td{padding:0.3em 0.7em;border-bottom:1px solid #ddd;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0 1.5em}
code,pre{background:#f6f6f6;padding:0.1em 0.3em}
.meta td{text-align:left}
"""


def _table_html(summary: pd.DataFrame, extra: list[str] = ()) -> str:
    if summary.empty:
        return "<p>No successful runs.</p>"
    cols = display_columns(summary) + [c for c in extra if c in summary.columns]
    return summary[cols].to_html(index=False, border=0, escape=True, na_rep="")


def html_report(
    *,
    title: str,
    meta: dict,
    test_summary: pd.DataFrame,
    train_summary: pd.DataFrame,
    images: dict[str, bytes | None],
    notes: list[str],
) -> str:
    """One self-contained HTML page: settings, tables, notes, embedded plots."""
    esc = html.escape
    meta_rows = "".join(
        f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>"
        for k, v in meta.items()
    )
    pictures = "".join(
        f"<h2>{esc(name)}</h2><img alt='{esc(name)}' "
        f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        for name, png in images.items()
        if png
    )
    note_items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>"
        f"<table class='meta'>{meta_rows}</table>"
        "<h2>Test set (mean ± std over seeds)</h2>"
        + _table_html(test_summary, ["fairlearn constraint"])
        + "<h2>Training set</h2>"
        + _table_html(train_summary)
        + (f"<h2>Notes</h2><ul>{note_items}</ul>" if notes else "")
        + pictures
        + "<p>Rows: <code>results.csv</code>, <code>results.json</code> (with "
        "trajectories); one file per run in <code>runs/</code>.</p></body></html>"
    )
