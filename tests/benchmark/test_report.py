"""What a reader sees: figures' content, tables that fit, warnings, the HTML page.

Built from synthetic run records (no fitting), so these tests are quick.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from fairsk.benchmark.figures import plot_curves, plot_frontier, plot_groups, style_of
from fairsk.benchmark.registry import algorithm_names
from fairsk.benchmark.report import html_report
from fairsk.benchmark.summary import rich_tables, runs_frame, summarize, table_cells

BOUNDS = [0.02, 0.05, 0.1]
OURS = ["sslalm", "alm", "ssg", "ghost", "penalty", "sgd"]
THEIRS = ["eg-logreg", "eg-hgb", "gs-logreg", "gs-hgb", "threshold-hgb"]


def synthetic_records(seeds=(0, 1, 2), bounds=BOUNDS):
    """Run records with made-up metrics: ours per bound and seed, fairlearn once."""
    rng = np.random.default_rng(0)
    records = []
    for name in OURS + THEIRS:
        free = name == "sgd"
        for bound in [None] if free else bounds:
            for seed in seeds if name in OURS else seeds[:1]:
                gap = 0.12 if free else bound * rng.uniform(0.6, 1.3)
                rec = {
                    "run_id": f"{name}_{bound}_{seed}",
                    "algorithm": name,
                    "family": "fairsk" if name in OURS else "fairlearn",
                    "seed": seed,
                    "bound": bound,
                    "status": "ok",
                    "fit_seconds": 1.0,
                    "n_warnings": 2 if name == "ssg" else 0,
                    "warnings": ["ConvergenceWarning: missed [its] bound"]
                    * (name == "ssg"),
                    "train_constraint_value": gap,
                    "train_constraint_violation": None if free else gap - bound,
                    "test_constraint_value": gap,
                    "test_constraint_low": gap / 2,
                    "test_constraint_high": gap * 1.5,
                    "test_constraint_holds": None if free else gap * 1.5 <= bound,
                    "test_accuracy": 0.80 + gap + rng.normal(0, 0.003),
                    "test_groups": {
                        s: {"a": [0.3 + gap, 0.01, 400], "b[/]": [0.3, 0.02, 100]}
                        for s in ("selection_rate", "tpr", "fpr", "error_rate", "loss")
                    },
                    "trajectory": {
                        "epoch": [1, 2, 3],
                        "time": [0.5, 1.0, 1.5],
                        "train_objective": [0.6, 0.5, 0.45],
                        "test_objective": [0.62, 0.52, 0.48],
                        "train_constraint": [0.1, 0.05, gap],
                        "test_constraint": [0.11, 0.06, gap],
                    }
                    if name in OURS
                    else None,
                }
                for m in ("auc_m", "ind", "sp", "ina", "sf", "wd", "loss_gap"):
                    value = gap if m in ("ind", "loss_gap") else rng.uniform(0.01, 0.3)
                    rec[f"test_{m}"] = rec[f"train_{m}"] = value
                rec["test_equalized_odds_difference"] = rng.uniform(0, 0.2)
                records.append(rec)
    # A randomised classifier's |ΔL| is far larger: the axis must stay legible.
    for rec in records:
        if rec["algorithm"] == "eg-hgb":
            rec["test_loss_gap"] = 1.8
    return records


@pytest.fixture(scope="module")
def sweep():
    records = synthetic_records()
    frame = runs_frame(records)
    summary = summarize(
        frame, constraint="demographic_parity", algorithms=OURS + THEIRS
    )
    return records, summary


def test_frontier_has_a_point_per_bound_and_intervals(sweep):
    _, summary = sweep
    fig = plot_frontier(
        summary,
        constraint="demographic_parity",
        bounds=BOUNDS,
        algorithms=OURS + THEIRS,
    )
    ind = fig.axes[0]  # the constraint's own measure comes first
    assert ind.get_xlabel().startswith("Ind on test")
    lines = {line.get_gid(): line for line in ind.lines if line.get_gid()}
    assert len(lines["sslalm"].get_xdata()) == len(BOUNDS)
    assert len(lines["eg-logreg"].get_xdata()) == len(BOUNDS)  # fairlearn, same axes
    assert len(lines["sgd"].get_xdata()) == 1  # the bound does not change it
    bars = {c.get_label(): c for c in ind.containers}
    # Three seeds: an interval in both axes; one deterministic run: none drawn.
    assert bars["_interval sslalm"].has_xerr and bars["_interval sslalm"].has_yerr
    seg = bars["_interval sslalm"].lines[2][0].get_segments()
    assert any(abs(s[1][0] - s[0][0]) > 0 for s in seg)
    seg = bars["_interval eg-logreg"].lines[2][0].get_segments()
    assert all(abs(s[1][0] - s[0][0]) == 0 for s in seg)
    # Bounds marked: dotted vertical lines at each bound.
    vertical = [
        line.get_xdata()[0] for line in ind.lines if line.get_linestyle() == ":"
    ]
    assert sorted(vertical) == BOUNDS
    # |ΔL| spans decades (eg-hgb's 1.8): a log axis with decimal tick labels.
    gap = next(ax for ax in fig.axes if ax.get_xlabel().startswith("|ΔL|"))
    assert gap.get_xscale() == "log"
    fig.draw_without_rendering()
    labels = [t.get_text() for t in gap.get_xticklabels() if t.get_text()]
    assert labels and not any("10^" in t or "$" in t for t in labels)


def test_every_method_has_its_own_colour_and_marker():
    styles = [style_of(name) for name in algorithm_names()]
    assert len({s["color"] for s in styles}) == len(styles)
    assert len({s["marker"] for s in styles}) == len(styles)
    assert style_of("sslalm")["ls"] == "-" and style_of("eg-logreg")["ls"] == "--"


def test_curves_per_method_train_and_test_with_band_and_bound(sweep):
    records, _ = sweep
    fig = plot_curves(
        records, constraint="demographic_parity", bounds=BOUNDS, algorithms=OURS
    )
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == OURS  # one panel pair per fairsk method, none for fairlearn
    constraint_ax = fig.axes[3]  # below sslalm's objective
    gids = {line.get_gid() for line in constraint_ax.lines}
    for bound in BOUNDS:
        assert f"sslalm {bound} train constraint" in gids
        assert f"sslalm {bound} test constraint" in gids
    assert len(constraint_ax.collections) == 2 * len(BOUNDS)  # a band per line
    dotted = [line for line in constraint_ax.lines if line.get_linestyle() == ":"]
    assert sorted(line.get_ydata()[0] for line in dotted) == BOUNDS


def test_groups_bars_per_group_with_intervals(sweep):
    records, _ = sweep
    fig = plot_groups(
        records, constraint="demographic_parity", bound=0.05, algorithms=OURS + THEIRS
    )
    ax = fig.axes[0]
    assert ax.get_ylabel() == "selection rate"
    bars = [c for c in ax.containers if c.get_label() in ("a", "b[/]")]
    assert len(bars) == 2 and all(len(c.patches) == 11 for c in bars)
    assert all(c.errorbar is not None for c in bars)
    heights = [p.get_height() for p in bars[0].patches]
    assert heights[OURS.index("sgd")] == pytest.approx(0.42)  # bound-free, shown


@pytest.mark.parametrize("width", [100, 72])
def test_tables_fit_the_terminal_with_nothing_cut(sweep, width):
    _, summary = sweep
    for kind in ("metrics", "constraint"):
        headers, rows = table_cells(summary, kind)
        out = io.StringIO()
        console = Console(file=out, width=width, color_system=None)
        tables = rich_tables(headers, rows, title="t" * 30, width=width)
        for table in tables:
            console.print(table)
        text = out.getvalue()
        assert max(map(len, text.splitlines())) <= width
        assert "…" not in text
        # Every value whole, on one line (an interval is not broken either).
        lines = text.splitlines()
        for row in rows:
            for main, _below in row:
                assert any(main in line for line in lines), main
        if width < 90:
            assert len(tables) > 1  # split, the method and bound repeated
            assert all(t.columns[0].header == "method" for t in tables)


def test_table_cells_keep_precision_out_of_the_text(sweep):
    _, summary = sweep
    headers, rows = table_cells(summary, "constraint")
    row = rows[0]  # sslalm at 0.02
    assert headers[:5] == ["method", "bound", "n", "train", "test [95% CI]"]
    assert row[0][0] == "sslalm" and row[1][0] == "0.02" and row[2][0] == "3"
    assert row[4][0].count("[") == 1 and row[4][1].startswith("±")
    ssg = next(r for r in rows if r[0][0] == "ssg")
    assert ssg[-1][0] == "6"  # its warnings: 2 per run, 3 seeds


def test_report_escapes_text_and_lists_warnings():
    page = html_report(
        title="fairsk benchmark: people.csv",
        meta={"command": "fairsk benchmark --csv people.csv"},
        tables=[
            {
                "title": "Test",
                "text": "",
                "headers": ["method"],
                "rows": [[("<b>", "")]],
            }
        ],
        figures=[{"title": "F", "caption": "c", "stem": "frontier", "png": b"\x89PNG"}],
        warnings={"ssg_0.05_0": ["ConvergenceWarning: missed [its] bound <now>"]},
        notes=["[bold]not markup[/]"],
    )
    assert "&lt;b&gt;" in page and "missed [its] bound &lt;now&gt;" in page
    assert "[bold]not markup[/]" in page and "data:image/png;base64," in page
    assert "max-width:1180px" in page  # the page fits a 1280-pixel window


def test_closing_line_names_the_runs_above_their_bound(sweep):
    from fairsk.benchmark.sweep import _missed

    records, _ = sweep
    line = _missed(records)
    above = [r for r in records if (r["train_constraint_violation"] or 0) > 0]
    assert line.startswith(f"{len(above)} of 60 runs with a bound ended above it")
    assert "ssg" in line and "warned" in line
    assert _missed([r for r in records if r not in above]) is None
