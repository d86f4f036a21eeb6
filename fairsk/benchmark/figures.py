"""The benchmark's figures, as matplotlib Figures (saved as PNG and SVG).

:doc:`/benchmark` says what each shows. A method keeps its colour and marker in
every figure; intervals are Student t intervals of the mean over seeds, clipped to
the range of the quantity (rates in [0, 1], gaps at least 0).
"""

from __future__ import annotations

import functools
import io

import numpy as np
import pandas as pd

from fairsk.constraints import CONSTRAINTS
from fairsk.metrics import t_half_width

from .registry import algorithm_names, family
from .summary import LABELS

__all__: list[str] = []

# fmt: off
#: Okabe-Ito's colour-blind-safe colours, then distinct others: one per method.
PALETTE = ["#0072B2", "#56B4E9", "#009E73", "#CC79A7", "#E69F00", "#000000",
           "#D55E00", "#8C564B", "#7F7F7F", "#B8B000", "#17BECF", "#9467BD",
           "#E377C2", "#2CA02C"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "h", "p", "<", ">", "d", "H"]
BOUND_COLORS = ["#1B7837", "#762A83", "#E08214", "#2166AC", "#B2182B", "#4D4D4D"]
GROUP_COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860",
                "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]
STYLE = {"font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8.5,
         "axes.spines.top": False, "axes.spines.right": False,
         "svg.fonttype": "none", "axes.grid": True, "grid.alpha": 0.25}
STAT_LABELS = {"selection_rate": "selection rate", "tpr": "true positive rate",
               "fpr": "false positive rate", "error_rate": "error rate",
               "loss": "mean BCE"}
Y_LABELS = {"accuracy": "accuracy", "auc_m": "AUC_M (mean group AUC)"}
# fmt: on
#: The look of the frontier's 95% intervals and points, and of the group bars.
INTERVALS = {"fmt": "none", "alpha": 0.55, "elinewidth": 0.8, "capsize": 2}
POINTS = {"zorder": 3, "linewidths": 1.1}
BARS = {"capsize": 2, "error_kw": {"elinewidth": 0.8}}
#: The value written on a bar cut at the top.
ON_BAR = {"ha": "center", "va": "top", "rotation": 90, "fontsize": 7, "color": "white"}


def style_of(name: str) -> dict:
    """Colour, marker and line style of a method: the same in every figure."""
    names = algorithm_names()
    i = names.index(name) if name in names else len(names) + sum(map(ord, name))
    ls = "-" if family(name) == "fairsk" else "--"
    return {"color": PALETTE[i % 14], "marker": MARKERS[i % 14], "ls": ls}


def _clip(mean, half, top=np.inf):
    """Asymmetric error bars of ``mean ± half`` kept within [0, top]."""
    mean, half = np.asarray(mean, float), np.nan_to_num(np.asarray(half, float))
    return np.clip([np.minimum(half, mean), np.minimum(half, top - mean)], 0, None)


def _styled(plot):
    """Draw ``plot``'s figure under :data:`STYLE`.

    rcParams apply when an artist is made, so the whole drawing runs in the context.
    """

    @functools.wraps(plot)
    def draw(*args, **kwargs):
        from matplotlib import rc_context

        with rc_context(STYLE):
            return plot(*args, **kwargs)

    return draw


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def save_figure(fig) -> dict:
    """Return ``{"png": bytes, "svg": bytes}`` of ``fig`` (SVG text stays text)."""
    from matplotlib import rc_context

    out = {}
    with rc_context(STYLE):
        for fmt, meta in (("png", None), ("svg", {"Date": None})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=144, metadata=meta)
            out[fmt] = buf.getvalue()
    return out


def _log_axis(ax, values):
    """Log x scale when the values span more than 1.5 decades; decimal ticks."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    pos = values[np.isfinite(values) & (values > 0)]
    if pos.size < 2 or pos.max() < 30 * pos.min():
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        return None
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.10g}"))
    return pos.min() / 2  # where values of 0 are drawn


def _front(x, y) -> np.ndarray:
    """Mask of the points no other point beats on lower x and higher y."""
    ok = np.isfinite(x) & np.isfinite(y)
    better = (x[None] <= x[:, None]) & (y[None] >= y[:, None])
    strictly = (x[None] < x[:, None]) | (y[None] > y[:, None])
    return ok & ~np.any(better & strictly & ok[None], axis=1)


@_styled
def plot_frontier(summary, *, constraint, bounds, algorithms, y_metric="accuracy"):
    """Test ``y_metric`` against each test fairness measure, one line per method.

    ``summary`` is :func:`~fairsk.benchmark.summary.summarize`'s frame; a method
    has one point per bound (sorted), marker size growing with the bound. Returns
    None when nothing succeeded.
    """
    from matplotlib.lines import Line2D

    if summary.empty:
        return None
    metric = CONSTRAINTS[constraint].metric
    metrics = dict.fromkeys([metric, "ind", "sp", "sf", "wd", "loss_gap"])
    metrics = [m for m in metrics if f"test_{m}_mean" in summary]
    nrows = -(-(len(metrics) + 1) // 3)
    fig = _figure(figsize=(12, 3.4 * nrows + 0.4))
    axes = fig.subplots(nrows, 3, squeeze=False).ravel()
    sizes = dict(zip(sorted(bounds), np.linspace(25, 100, len(bounds)), strict=True))
    methods = [a for a in algorithms if a in set(summary["method"])]
    ycol, ylabel = f"test_{y_metric}", Y_LABELS[y_metric]
    for ax, m in zip(axes, metrics, strict=False):
        floor = _log_axis(ax, summary[f"test_{m}_mean"].to_numpy(float))
        for name in methods:
            rows = summary[summary["method"] == name].sort_values("bound")
            x, y = rows[f"test_{m}_mean"].to_numpy(float), rows[f"{ycol}_mean"]
            x = x if floor is None else np.where(x > 0, x, floor)
            st = style_of(name)
            color, marker = st["color"], st["marker"]
            ax.plot(x, y, color=color, ls=st["ls"], lw=1.1, gid=name)
            low = 0.0 if floor is None else floor  # a log axis has no 0
            xerr = _clip(x - low, t_half_width(rows[f"test_{m}_std"], rows["n"]))
            yerr = _clip(y, t_half_width(rows[f"{ycol}_std"], rows["n"]), 1.0)
            bars = ax.errorbar(x, y, yerr=yerr, xerr=xerr, ecolor=color, **INTERVALS)
            bars.set_label(f"_interval {name}")
            fill = [color if f else "white" for f in _front(x, y.to_numpy())]
            size = [sizes.get(b, 55.0) for b in rows["bound"]]
            ax.scatter(x, y, s=size, c=fill, marker=marker, edgecolors=color, **POINTS)
        if m == metric and not constraint.endswith("_ratio"):
            for b in bounds:
                ax.axvline(b, color="0.35", ls=":", lw=0.9, zorder=0)
        ax.set_xlabel(f"{LABELS.get(m, m)} on test (lower is fairer)")
        ax.set_ylabel(f"{ylabel} on test")
    for ax in axes[len(metrics) :]:
        ax.set_axis_off()
    handles = [Line2D([], [], label=n, **style_of(n)) for n in methods]
    gray = {"ls": "", "marker": "o", "color": "0.3"}
    handles += [
        Line2D([], [], markersize=np.sqrt(sizes[b]), label=f"bound {b:g}", **gray)
        for b in sorted(bounds) * (len(bounds) > 1)
    ]
    handles += [
        Line2D([], [], label="on the method's own front", **gray),
        Line2D([], [], markerfacecolor="w", label="dominated", **gray),
    ]
    axes[len(metrics)].legend(handles=handles, loc="center", ncols=2, frameon=False)
    fig.suptitle(f"Test {ylabel} against fairness (means over seeds, 95% intervals)")
    return fig


def _band(runs, key, x_key):
    """Return x, and the mean and 95% half-width over the runs that reach it."""
    curves = [
        pd.Series(r["trajectory"][key], r["trajectory"][x_key], float) for r in runs
    ]
    values = pd.concat(curves, axis=1).sort_index()  # a column per run
    mean, std = values.mean(axis=1).to_numpy(), values.std(axis=1)
    half = t_half_width(std, values.count(axis=1))
    return values.index.to_numpy(float), mean, _clip(mean, half)


@_styled
def plot_curves(records, *, constraint, bounds, algorithms, x_key="epoch"):
    """Per fairsk method: objective and constraint on train and test, per epoch.

    ``x_key``: ``"epoch"`` or ``"time"`` (seconds of training). Returns None when
    no run has curves.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    runs = [r for r in records if r["status"] == "ok" and r.get("trajectory")]
    runs = [r for r in runs if len(r["trajectory"].get(x_key, []))]
    methods = [a for a in algorithms if any(r["algorithm"] == a for r in runs)]
    if not methods:
        return None
    ncols, sweep = min(3, len(methods)), len(bounds) > 1
    nrows = -(-len(methods) // ncols)
    fig = _figure(figsize=(4.1 * ncols + 0.5, 4.5 * nrows + 0.5))
    axes = fig.subplots(2 * nrows, ncols, squeeze=False)
    shade = dict(zip(sorted(bounds), BOUND_COLORS * 9, strict=False))
    for i, name in enumerate(methods):
        top, bottom = axes[2 * (i // ncols) : 2 * (i // ncols) + 2, i % ncols]
        bottom.sharex(top)
        mine = [r for r in runs if r["algorithm"] == name]
        own = style_of(name)["color"]
        for bound in dict.fromkeys(r["bound"] for r in mine):
            group = [r for r in mine if r["bound"] == bound]
            color = shade[bound] if sweep and bound is not None else own
            for ax, what in ((top, "objective"), (bottom, "constraint")):
                for split, ls in (("train", "-"), ("test", "--")):
                    xs, mean, err = _band(group, f"{split}_{what}", x_key)
                    mark = "." if len(xs) < 6 else None  # a few epochs: mark them
                    gid = f"{name} {bound} {split} {what}"
                    ax.plot(xs, mean, color=color, ls=ls, lw=1.3, marker=mark, gid=gid)
                    lo, hi = mean - err[0], mean + err[1]
                    ax.fill_between(xs, lo, hi, color=color, alpha=0.15, lw=0)
        for b in bounds:
            bottom.axhline(b, color=shade[b] if sweep else "0.2", ls=":", lw=1.1)
        top.set_title(name)
        top.tick_params(labelbottom=False)
        bottom.set_ylim(bottom=0)
        bottom.set_xlabel("epoch" if x_key == "epoch" else "training time (s)")
        bottom.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=x_key == "epoch"))
        if i % ncols == 0:
            top.set_ylabel("objective (BCE)")
            bottom.set_ylabel(LABELS.get(CONSTRAINTS[constraint].metric))
    for ax in axes[-2:, len(methods) - (nrows - 1) * ncols :].flat:  # unused panels
        ax.set_axis_off()
    handles = [
        Line2D([], [], color="0.2", ls=ls, label=label)
        for ls, label in (("-", "train"), ("--", "test"), (":", "bound"))
    ]
    handles += [
        Line2D([], [], color=shade[b], lw=3, label=f"bound {b:g}")
        for b in sorted(bounds) * sweep
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    fig.suptitle("Training curves: mean over seeds, band = 95% interval")
    return fig


def _clip_outliers(ax):
    """Cut bars far above the others (randomised classifiers' BCE) at the top.

    Their value is written on them.
    """
    heights = np.array([p.get_height() for p in ax.patches])
    finite = heights[np.isfinite(heights)]
    if finite.size < 2:
        return
    typical = finite[finite <= 3 * np.median(finite)].max()
    if typical <= 0 or finite.max() <= 2 * typical:
        return
    ax.set_ylim(0, 1.3 * typical)
    for p in (p for p in ax.patches if p.get_height() > 1.3 * typical):
        x, text = p.get_x() + p.get_width() / 2, f"{p.get_height():.1f}"
        ax.text(x, 1.27 * typical, text, **ON_BAR)


@_styled
def plot_groups(records, *, constraint, bound, algorithms):
    """Each group's statistics on the test set, per method, at ``bound``.

    Bars are means over seeds with 95% t intervals, or a single run's ±1.96
    standard errors; methods the bound does not change are shown too. Returns
    None when no run has group data.
    """
    runs = [r for r in records if r["status"] == "ok" and r.get("test_groups")]
    runs = [r for r in runs if r["bound"] in (None, bound)]
    methods = [a for a in algorithms if any(r["algorithm"] == a for r in runs)]
    if not methods:
        return None
    group_stat = CONSTRAINTS[constraint].group_stat
    stats_ = dict.fromkeys([group_stat, "selection_rate", "tpr", "loss"])
    groups = sorted({g for r in runs for g in r["test_groups"]["selection_rate"]})
    width = max(12.0, 0.16 * len(methods) * (len(groups) + 1) + 1.5)
    fig = _figure(figsize=(width, 2.3 * len(stats_) + 0.9))
    axes = fig.subplots(len(stats_), 1, sharex=True, squeeze=False)[:, 0]
    x, step = np.arange(len(methods)), 0.8 / len(groups)
    mine = {n: [r["test_groups"] for r in runs if r["algorithm"] == n] for n in methods}
    for ax, stat in zip(axes, stats_, strict=True):
        ax.set_prop_cycle(color=GROUP_COLORS)  # a colour per group
        for k, g in enumerate(groups):
            cells = [  # each run's [mean, sem, count]
                np.array([t[stat].get(g, [np.nan] * 3) for t in mine[n]], float)
                for n in methods
            ]
            means = np.array([np.nanmean(c[:, 0]) for c in cells])
            halves = [
                t_half_width(np.std(c[:, 0], ddof=1), len(c))
                if len(c) > 1
                else 1.96 * c[0, 1]
                for c in cells
            ]
            yerr = _clip(means, halves, 1.0 if stat != "loss" else np.inf)
            centres = x + (k - (len(groups) - 1) / 2) * step
            ax.bar(centres, means, step, yerr=yerr, label=g, gid=f"group {g}", **BARS)
        ax.set_ylabel(STAT_LABELS[stat])
        ax.grid(axis="x", visible=False)
        _clip_outliers(ax)
    axes[-1].set_xticks(x, methods, rotation=30, ha="right")
    handles, labels = axes[0].get_legend_handles_labels()
    ncols = min(len(groups), 6)
    fig.legend(handles, labels, loc="outside lower center", title="group", ncols=ncols)
    fig.suptitle(
        f"Groups on the test set at bound {bound:g} (means over seeds, 95% intervals)"
    )
    return fig
