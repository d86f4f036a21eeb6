"""What a benchmark leaves behind: the table, the CSV/JSON rows, plots, an HTML page.

- :func:`runs_frame`: one flat row per run (no trajectories), for ``results.csv``.
- :func:`summarize` / :func:`rich_table`: mean ± std over seeds per algorithm and
  bound, on the terminal (rich) and in the report; a second table
  (:data:`HELD_OUT_COLUMNS`) puts the constraint's value on test, with its
  bootstrap interval, beside its value on train.
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
from .heldout import CONFIDENCE, HELD_OUT_FIELDS

__all__ = [
    "CONSTRAINT_METRIC",
    "HELD_OUT_COLUMNS",
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

#: Columns of the held-out table (from :func:`summarize`).
HELD_OUT_COLUMNS = [
    "method",
    "bound",
    "n",
    "train",
    f"test [{CONFIDENCE:.0%} CI]",
    "feasible on train",
    "holds on test",
]

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

    After the spec come the constraint's values on train and test
    (:data:`~fairsk.benchmark.heldout.HELD_OUT_FIELDS`), then the ``train_*`` and
    ``test_*`` metrics. Trajectories stay in ``results.json``; parameters,
    fairlearn's selection info and warnings become JSON / text cells.

    Examples
    --------
    >>> records = [
    ...     {"run_id": "a", "algorithm": "sgd", "status": "ok", "test_ind": 0.1,
    ...      "train_ind": 0.2, "params": {"lr": 0.1}, "trajectory": {}},
    ...     {"run_id": "b", "algorithm": "eg-logreg", "status": "skipped"},
    ... ]
    >>> df = runs_frame(records, {"dataset": "adult"})
    >>> list(df.columns)
    ['run_id', 'algorithm', 'status', 'test_ind', 'train_ind', 'params', 'info', \
'warnings', 'dataset']
    >>> df["params"].tolist()
    ['{"lr": 0.1}', '{}']
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
    first += [c for c in HELD_OUT_FIELDS if c in df.columns]
    metrics = sorted(
        c for c in df.columns if c.startswith(("train_", "test_")) and c not in first
    )
    metrics = [c for c in metrics if c != "train_seconds"]
    rest = [c for c in df.columns if c not in first and c not in metrics]
    return df[first + metrics + rest]


def _fmt(mean: float, std: float, n: int) -> str:
    if mean is None or not math.isfinite(mean):
        return "nan"
    if n > 1 and std is not None and math.isfinite(std):
        return f"{mean:.3f}±{std:.3f}"
    return f"{mean:.3f}"


def _count_true(values: pd.Series) -> tuple[int, int]:
    """Count the true values and the known ones (None / NaN are unknown)."""
    known = values.dropna()
    return int(sum(bool(v == 1) for v in known)), len(known)


def _held_out_cells(grp: pd.DataFrame, bound: float) -> dict:
    """Return the held-out table's cells (and numbers) of one method and bound."""

    def values(name):
        if name not in grp:
            return pd.Series(np.nan, index=grp.index)
        return pd.to_numeric(grp[name], errors="coerce").astype(float)

    n = len(grp)
    train, test = values("train_constraint_value"), values("test_constraint_value")
    low, high = values("test_constraint_low"), values("test_constraint_high")
    out = {
        "constraint_train_mean": train.mean(),
        "constraint_train_std": train.std(ddof=1),
        "constraint_test_mean": test.mean(),
        "constraint_test_std": test.std(ddof=1),
        "constraint_test_low_mean": low.mean(),
        "constraint_test_high_mean": high.mean(),
    }
    out["train"] = _fmt(out["constraint_train_mean"], out["constraint_train_std"], n)
    mean, pm, std = _fmt(
        out["constraint_test_mean"], out["constraint_test_std"], n
    ).partition("±")
    lo, hi = out["constraint_test_low_mean"], out["constraint_test_high_mean"]
    if math.isfinite(lo) and math.isfinite(hi):
        mean += f" [{lo:.3f}, {hi:.3f}]"
    # The spread over seeds after the interval: rich_table puts it on a line of
    # its own, under the value and its interval.
    out[HELD_OUT_COLUMNS[4]] = mean + (f" ±{std}" if pm else "")
    violation = values("train_constraint_violation").dropna()
    holds = grp["test_constraint_holds"] if "test_constraint_holds" in grp else []
    cells = {
        "feasible on train": (int((violation <= 0).sum()), len(violation)),
        "holds on test": _count_true(pd.Series(holds, dtype=object)),
    }
    for label, (k, known) in cells.items():
        out[label] = "—" if pd.isna(bound) or not known else f"{k}/{known}"
        key = "train_feasible" if label.startswith("feasible") else "test_holds"
        out[f"constraint_{key}_mean"] = k / known if known else np.nan
    return out


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

    When the runs hold the constraint's values on train and test
    (:data:`~fairsk.benchmark.heldout.HELD_OUT_FIELDS`), whatever ``split``, it
    also has the cells of :data:`HELD_OUT_COLUMNS`: ``train`` (mean ± std over
    seeds), ``test [95% CI]`` (the mean value, the means of the intervals' ends,
    then ± std), ``feasible on train`` (runs within the bound on train) and
    ``holds on test`` (runs whose test interval is within it); numbers:
    ``constraint_train_mean`` / ``_std``, ``constraint_test_mean`` / ``_std``,
    ``constraint_test_low_mean``, ``constraint_test_high_mean``,
    ``constraint_train_feasible_mean`` and ``constraint_test_holds_mean`` (the
    fractions of runs).

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "algorithm": ["a", "a"], "bound": [0.1, 0.1], "status": ["ok", "ok"],
    ...     "test_ind": [0.05, 0.15], "fit_seconds": [1.0, 3.0],
    ... })
    >>> row = summarize(df, metrics=["ind"], constraint="demographic_parity").iloc[0]
    >>> row["Ind"], row["≤ bound"], int(row["n"])
    ('0.100±0.071', '1/2', 2)
    >>> df = df.assign(
    ...     train_constraint_value=[0.08, 0.09],
    ...     train_constraint_violation=[-0.02, -0.01],
    ...     test_constraint_value=[0.05, 0.15], test_constraint_low=[0.01, 0.09],
    ...     test_constraint_high=[0.09, 0.21], test_constraint_holds=[True, False],
    ... )
    >>> row = summarize(df, metrics=["ind"], constraint="demographic_parity").iloc[0]
    >>> row[HELD_OUT_COLUMNS[3:]].tolist()
    ['0.085±0.007', '0.100 [0.050, 0.150] ±0.071', '2/2', '1/2']
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
        if "test_constraint_value" in grp:
            row.update(_held_out_cells(grp, bound))
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


def rich_table(
    summary: pd.DataFrame,
    *,
    title: str,
    caption: str = "",
    columns: list[str] | None = None,
):
    r"""Render the summary as a :class:`rich.table.Table`.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarize`.
    title, caption : str
        Above and below the table.
    columns : list of str or None, default=None
        The columns to show (those the summary has); None:
        :func:`display_columns`. :data:`HELD_OUT_COLUMNS` gives the held-out
        table.

    Returns
    -------
    rich.table.Table
        A cell ``mean±std`` is shown as the mean with the spread, dimmer, under it.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "algorithm": ["a", "a"], "bound": [0.1, 0.1], "status": ["ok", "ok"],
    ...     "test_ind": [0.05, 0.15], "fit_seconds": [1.0, 3.0],
    ... })
    >>> summary = summarize(df, metrics=["ind"], constraint="demographic_parity")
    >>> table = rich_table(summary, title="Test set")
    >>> [column.header for column in table.columns]
    ['method', 'bound', 'n', 'Ind', '≤ bound', 'fit s']
    >>> list(table.columns[3].cells)  # rich markup: the spread dimmer, under the mean
    ['0.100\n[dim]±0.071[/]']
    """
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    shown = display_columns(summary) if columns is None else columns
    shown = [c for c in shown if c in summary.columns]
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False)
    for col in shown:
        justify = "left" if col in ("method", "bound") else "right"
        table.add_column(escape(col), justify=justify, no_wrap=col == "method")
    for _, row in summary.iterrows():
        # The spread under the mean, dimmer: narrow columns, and the eye reads the
        # means down a column.
        cells = []
        for col in shown:
            mean, pm, std = (escape(part) for part in str(row[col]).partition("±"))
            cells.append(f"{mean.rstrip()}\n[dim]±{std}[/]" if pm else mean)
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

    Examples
    --------
    >>> record = {
    ...     "algorithm": "sslalm", "bound": 0.01, "status": "ok",
    ...     "trajectory": {"time": [0.1, 0.2], "objective": [0.6, 0.5],
    ...                    "constraints": {"loss_gap": [0.03, 0.01]}},
    ... }
    >>> png = plot_trajectories(
    ...     [record], constraint="loss_gap", bounds=[0.01], algorithms=["sslalm"]
    ... )
    >>> png[1:4]  # a PNG file's signature
    b'PNG'
    >>> plot_trajectories([], constraint="loss_gap", bounds=[0.01], algorithms=[])
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
    parity. The front links the runs no other run beats on both axes. Returns None
    when no run succeeded.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "algorithm": ["sgd", "sslalm", "gs-logreg"],
    ...     "family": ["fairsk", "fairsk", "fairlearn"], "status": "ok",
    ...     "test_loss_gap": [0.10, 0.01, 0.04], "test_ind": [0.08, 0.03, 0.02],
    ...     "test_accuracy": [0.84, 0.82, 0.83],
    ... })
    >>> png = plot_pareto(
    ...     df, constraint="loss_gap", bounds=[0.02], algorithms=list(df.algorithm)
    ... )
    >>> png[1:4]  # a PNG file's signature
    b'PNG'
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


def _table_html(
    summary: pd.DataFrame, extra: list[str] = (), columns: list[str] | None = None
) -> str:
    if summary.empty:
        return "<p>No successful runs.</p>"
    cols = display_columns(summary) if columns is None else columns
    cols = [c for c in [*cols, *extra] if c in summary.columns]
    return summary[cols].to_html(index=False, border=0, escape=True, na_rep="")


def _held_out_html(summary: pd.DataFrame, constraint: str) -> str:
    if summary.empty or HELD_OUT_COLUMNS[4] not in summary.columns:
        return ""
    esc = html.escape
    return (
        f"<h2>{esc(constraint)} on the training and test sets</h2>"
        f"<p>The constraint as fairsk compiles it, on each classifier's own hard "
        f"predictions (probabilities for a loss): its value on the training set, "
        f"and on the test set with a {CONFIDENCE:.0%} Poisson-bootstrap interval "
        "(means over seeds, then ± the standard deviation of the value). "
        "<em>holds on test</em>: runs whose test interval lies within the bound; "
        "fairlearn's baselines are measured on this constraint whatever they ran "
        "under.</p>" + _table_html(summary, columns=HELD_OUT_COLUMNS)
    )


def html_report(
    *,
    title: str,
    meta: dict,
    test_summary: pd.DataFrame,
    train_summary: pd.DataFrame,
    images: dict[str, bytes | None],
    notes: list[str],
    constraint: str = "The constraint",
) -> str:
    """One self-contained HTML page: settings, tables, notes, embedded plots.

    Parameters
    ----------
    title : str
        Page title.
    meta : dict
        Settings, shown as a two-column table.
    test_summary, train_summary : pandas.DataFrame
        :func:`summarize` of each split; the test one also gives the held-out
        table (:data:`HELD_OUT_COLUMNS`) when it has those columns.
    images : dict of str to bytes or None
        PNG images by heading (None: left out).
    notes : list of str
        Shown as a list.
    constraint : str, default="The constraint"
        The constraint's name, in the held-out table's heading.

    Returns
    -------
    str
        The page; plots are embedded as base64 PNG.

    Examples
    --------
    >>> df = pd.DataFrame({
    ...     "algorithm": ["a"], "bound": [0.1], "status": ["ok"], "test_ind": [0.05],
    ...     "train_ind": [0.04], "fit_seconds": [1.0],
    ... })
    >>> page = html_report(
    ...     title="A benchmark", meta={"seeds": "0"},
    ...     test_summary=summarize(df, metrics=["ind"]),
    ...     train_summary=summarize(df, split="train", metrics=["ind"]),
    ...     images={"A plot": None}, notes=["a note"],
    ... )
    >>> page.startswith("<!DOCTYPE html>"), "<li>a note</li>" in page
    (True, True)
    >>> page.count("<table")  # settings, test, train
    3
    """
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
        + _held_out_html(test_summary, constraint)
        + "<h2>Training set</h2>"
        + _table_html(train_summary)
        + (f"<h2>Notes</h2><ul>{note_items}</ul>" if notes else "")
        + pictures
        + "<p>Rows: <code>results.csv</code>, <code>results.json</code> (with "
        "trajectories); one file per run in <code>runs/</code>.</p></body></html>"
    )
