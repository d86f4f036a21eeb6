"""Accuracy against demographic parity: fairsk beside fairlearn's mitigations.

The ACS 2019 income task (``national2019.csv``; adults with income, target
PINCP > 50,000), groups White vs Non-White (``load_pums_income``'s default),
features from ``ACSFeatureEncoder`` fit on the training split -- the same float64
matrix for every method. Per seed: a 20% test split with ``random_state=seed``,
stratified on group x label. Methods, at each DP bound (default 0.01, 0.02, 0.05,
0.1):

- ``fairsk SSL-ALM``: ``SSLALMClassifier(constraint="demographic_parity",
  bound=b, random_state=seed)``, defaults otherwise -- ``confidence=0.9``
  included, which trains with a margin so that the bound holds on new data.
  Labelled variants: ``--confidence-none`` (trained on the bound as given),
  ``--epochs N`` (``max_epochs=N`` instead of 20).
- ``EG(LogReg)``, ``EG(HGB)``: fairlearn's ``ExponentiatedGradient`` around
  ``LogisticRegression(max_iter=1000)`` / ``HistGradientBoostingClassifier``
  (defaults), ``DemographicParity(difference_bound=b)``; its randomised
  ``predict`` is seeded. fairlearn's moment bounds each group against the
  population, :math:`|PR_g - PR| \\le b`, which with two groups allows a
  between-group gap of up to ``b`` over the larger group's share (about
  ``1.8 b`` here) -- so methods are compared at equal *test* DP, not at equal
  bounds.
- ``TO(HGB)``: ``ThresholdOptimizer(HGB, constraints="demographic_parity",
  predict_method="predict_proba")`` (exact parity on the training set; one
  point), seeded randomised ``predict``.
- unconstrained ``LogReg``, ``HGB`` and fairsk's ``UnconstrainedClassifier``
  (the same network without the constraint).

Reported: test accuracy and test ``demographic_parity_difference(...,
method="between_groups")`` -- with two groups, :math:`|PR_{White} -
PR_{Non-White}|`, what fairsk's two-group constraint bounds. The summary says,
for each fairlearn mitigation point, whether fairsk has a point at equal or lower
test DP and by how much its accuracy is above or below.

sklearn's OpenMP / BLAS pools are limited to ``--threads`` (default 1: the
benchmark machine is shared; OpenMP busy-waiting on contended cores is slow),
torch trains on one thread (the estimators' default).

Usage::

    python benchmarks/bench_frontier.py                       # seed 0, ~4 min
    python benchmarks/bench_frontier.py --seeds 0 1 2 --plot frontier.png
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from fairlearn.metrics import demographic_parity_difference
from fairlearn.postprocessing import ThresholdOptimizer
from fairlearn.reductions import DemographicParity, ExponentiatedGradient
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.benchmark.io import atomic_write
from fairsk.datasets import ACSFeatureEncoder, load_pums_income

DATA = Path(
    os.environ.get(
        "FAIRSK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
BOUNDS = (0.01, 0.02, 0.05, 0.1)
OURS = "fairsk SSL-ALM"
MITIGATIONS = ("EG(LogReg)", "EG(HGB)", "TO(HGB)")


def load(data: Path = DATA):
    """The income task, White vs Non-White: ``(X frame, y, A)``."""
    X, y, A = load_pums_income(
        data / "acs-excerpts" / "national2019.csv", return_X_y=True
    )
    return X, np.asarray(y), np.asarray(A).astype(str)


def split(X, y, A, seed: int):
    """20% test split stratified on group x label; encoder fit on training rows."""
    strata = np.char.add(A, y.astype(str))
    Xtr, Xte, ytr, yte, Atr, Ate = train_test_split(
        X, y, A, test_size=0.2, random_state=seed, stratify=strata
    )
    enc = ACSFeatureEncoder().fit(Xtr)
    # float64: fairlearn 0.15's ThresholdOptimizer fails on float32 with pandas 3.
    return (
        np.asarray(enc.transform(Xtr), dtype=np.float64),
        np.asarray(enc.transform(Xte), dtype=np.float64),
        ytr,
        yte,
        Atr,
        Ate,
    )


def models(bounds, seed: int, variants: dict[str, dict]):
    """Yield ``(method, bound or None, unfitted model)``.

    ``variants`` maps a label to extra SSLALMClassifier parameters; each is run
    at every bound beside the defaults.
    """
    yield "LogReg", None, LogisticRegression(max_iter=1000)
    yield "HGB", None, HistGradientBoostingClassifier(random_state=seed)
    yield "fairsk unconstrained", None, UnconstrainedClassifier(random_state=seed)
    yield (
        "TO(HGB)",
        None,
        ThresholdOptimizer(
            estimator=HistGradientBoostingClassifier(random_state=seed),
            constraints="demographic_parity",
            prefit=False,
            predict_method="predict_proba",
        ),
    )
    for b in bounds:
        for label, params in {OURS: {}, **variants}.items():
            yield (
                label,
                b,
                SSLALMClassifier(
                    constraint="demographic_parity",
                    bound=b,
                    random_state=seed,
                    **params,
                ),
            )
        yield (
            "EG(LogReg)",
            b,
            ExponentiatedGradient(
                LogisticRegression(max_iter=1000),
                constraints=DemographicParity(difference_bound=b),
            ),
        )
        yield (
            "EG(HGB)",
            b,
            ExponentiatedGradient(
                HistGradientBoostingClassifier(random_state=seed),
                constraints=DemographicParity(difference_bound=b),
            ),
        )


def fit_predict(model, Xtr, ytr, Atr, Xte, Ate, seed: int) -> np.ndarray:
    """Fit (with groups where the model takes them) and predict the test rows."""
    if isinstance(model, LogisticRegression | HistGradientBoostingClassifier):
        return model.fit(Xtr, ytr).predict(Xte)
    if isinstance(model, UnconstrainedClassifier):
        return model.fit(Xtr, ytr).predict(Xte)
    model.fit(Xtr, ytr, sensitive_features=Atr)
    if isinstance(model, ThresholdOptimizer):
        return model.predict(Xte, sensitive_features=Ate, random_state=seed)
    if isinstance(model, ExponentiatedGradient):
        return model.predict(Xte, random_state=seed)
    return model.predict(Xte)


def experiment(
    seeds=(0,),
    bounds=BOUNDS,
    *,
    variants: dict[str, dict] | None = None,
    threads: int = 1,
    data: Path = DATA,
    log=print,
) -> list[dict]:
    """One row per (seed, method, bound): test accuracy, test DP, seconds."""
    X, y, A = load(data)
    rows = []
    for seed in seeds:
        Xtr, Xte, ytr, yte, Atr, Ate = split(X, y, A, seed)
        for method, bound, model in models(bounds, seed, variants or {}):
            start = time.perf_counter()
            with threadpool_limits(limits=threads), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = fit_predict(model, Xtr, ytr, Atr, Xte, Ate, seed)
            row = {
                "seed": seed,
                "method": method,
                "bound": bound,
                "accuracy": float(np.mean(pred == yte)),
                "dp": float(
                    demographic_parity_difference(
                        yte, pred, sensitive_features=Ate, method="between_groups"
                    )
                ),
                "seconds": time.perf_counter() - start,
            }
            rows.append(row)
            log(
                f"  seed {seed} {method:<34} bound {_b(bound):>5}  "
                f"acc {row['accuracy']:.4f}  DP {row['dp']:.4f}  "
                f"{row['seconds']:5.1f}s"
            )
    return rows


def _b(bound) -> str:
    return "-" if bound is None else f"{bound:g}"


def mean_over_seeds(rows: list[dict]) -> list[dict]:
    """Average accuracy, DP and seconds of each (method, bound) over the seeds."""
    keys = list(dict.fromkeys((r["method"], r["bound"]) for r in rows))
    out = []
    for method, bound in keys:
        sel = [r for r in rows if r["method"] == method and r["bound"] == bound]
        out.append(
            {
                "method": method,
                "bound": bound,
                "n_seeds": len(sel),
                **{
                    k: float(np.mean([r[k] for r in sel]))
                    for k in ("accuracy", "dp", "seconds")
                },
                "dp_std": float(np.std([r["dp"] for r in sel])),
                "accuracy_std": float(np.std([r["accuracy"] for r in sel])),
            }
        )
    return out


def table(points: list[dict]) -> str:
    """Text table, one row per point, sorted by method then bound."""
    multi = points and points[0].get("n_seeds", 1) > 1
    head = f"{'method':<34} {'bound':>6} {'test acc':>9} {'test DP':>8} {'sec':>6}"
    if multi:
        head += f" {'acc sd':>7} {'DP sd':>6}"
    lines = [head, "-" * len(head)]
    for p in points:
        line = (
            f"{p['method']:<34} {_b(p['bound']):>6} {p['accuracy']:9.4f} "
            f"{p['dp']:8.4f} {p['seconds']:6.1f}"
        )
        if multi:
            line += f" {p['accuracy_std']:7.4f} {p['dp_std']:6.4f}"
        lines.append(line)
    return "\n".join(lines)


def frontier_at(mine: list[dict], dp: float) -> float | None:
    """Accuracy of fairsk's frontier at test DP ``dp``, linearly interpolated.

    The frontier is the upper-left hull of fairsk's points (dominated points
    dropped). A point between two models is reachable in expectation by
    predicting with one or the other at random (accuracy mixes linearly, the DP
    gap at most linearly), as fairlearn's randomised classifiers do. ``None``
    below fairsk's lowest DP; beyond the highest, its best accuracy.
    """
    pts = sorted((q["dp"], q["accuracy"]) for q in mine)
    front = []
    for d, a in pts:
        if front and a <= front[-1][1]:
            continue  # a lower-DP point is at least as accurate
        front.append((d, a))
    if not front or dp < front[0][0]:
        return None
    for (d0, a0), (d1, a1) in itertools.pairwise(front):
        if d0 <= dp <= d1:
            return a0 + (a1 - a0) * (dp - d0) / (d1 - d0)
    return front[-1][1]


def compare(points: list[dict], ours: str = OURS) -> list[str]:
    """fairsk against each fairlearn mitigation point at equal or lower test DP.

    Two numbers: the best *single* fairsk model whose test DP is at most the
    mitigation's (conservative: it often sits at a much lower DP), and fairsk's
    interpolated frontier at the mitigation's DP (:func:`frontier_at`).
    """
    # The unconstrained network is the same estimator with no bound: the loose
    # end of fairsk's frontier.
    mine = [p for p in points if p["method"] in (ours, "fairsk unconstrained")]
    out = []
    for p in points:
        if p["method"] not in MITIGATIONS:
            continue
        where = (
            f"{p['method']:<10} bound {_b(p['bound']):>4}: acc {p['accuracy']:.4f} "
            f"at DP {p['dp']:.4f}"
        )
        at_most = [q for q in mine if q["dp"] <= p["dp"]]
        if not at_most:
            low = min(mine, key=lambda q: q["dp"])
            out.append(
                f"{where} | no fairsk model at DP <= {p['dp']:.4f} (lowest: "
                f"{low['dp']:.4f}, acc {low['accuracy']:.4f})"
            )
            continue
        best = max(at_most, key=lambda q: q["accuracy"])
        delta = best["accuracy"] - p["accuracy"]
        interp = frontier_at(mine, p["dp"])
        out.append(
            f"{where} | best fairsk model at <= DP: bound {_b(best['bound'])}, acc "
            f"{best['accuracy']:.4f} at DP {best['dp']:.4f} ({_verdict(delta)})"
            f" | frontier at DP {p['dp']:.4f}: {interp:.4f} "
            f"({_verdict(interp - p['accuracy'])})"
        )
    return out


def _verdict(delta: float) -> str:
    if abs(delta) < 5e-5:
        return "even"
    return f"{'ahead' if delta > 0 else 'behind'} by {abs(delta):.4f}"


def plot(points: list[dict], path: str, title: str, variants=()) -> None:
    """Save the accuracy--DP plane (up and left is better)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    styles = {
        OURS: ("C3", "o", "-"),
        "EG(LogReg)": ("C0", "s", "-"),
        "EG(HGB)": ("C2", "D", "-"),
        "TO(HGB)": ("C2", "*", ""),
        "LogReg": ("C0", "x", ""),
        "HGB": ("C2", "x", ""),
        "fairsk unconstrained": ("C3", "x", ""),
    }
    for method in dict.fromkeys(p["method"] for p in points):
        pts = sorted(
            (p for p in points if p["method"] == method), key=lambda p: p["bound"] or 0
        )
        extra = (
            f"C{4 + list(variants).index(method) % 5}" if method in variants else "k"
        )
        color, marker, ls = styles.get(method, (extra, "o", ":"))
        ax.plot(
            [p["dp"] for p in pts],
            [p["accuracy"] for p in pts],
            marker=marker,
            ls=ls,
            color=color,
            ms=9 if marker == "*" else 6,
            label=method,
        )
        for p in pts:
            if p["bound"] is not None:
                ax.annotate(
                    f"{p['bound']:g}",
                    (p["dp"], p["accuracy"]),
                    textcoords="offset points",
                    xytext=(4, -10),
                    fontsize=7,
                    color=color,
                )
    ax.set_xlabel("test demographic parity difference (White vs Non-White)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--bounds", type=float, nargs="+", default=list(BOUNDS))
    parser.add_argument("--plot", metavar="PATH", help="save the accuracy-DP plot")
    parser.add_argument(
        "--confidence-none",
        action="store_true",
        help="also train fairsk with confidence=None (the bound as given)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="also train fairsk with max_epochs=N (default 20)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="save every run's row as JSON")
    args = parser.parse_args(argv)
    variants = {}
    if args.confidence_none:
        variants[f"{OURS} (confidence=None)"] = {"confidence": None}
    if args.epochs:
        variants[f"{OURS} (max_epochs={args.epochs})"] = {"max_epochs": args.epochs}
    rows = experiment(args.seeds, args.bounds, variants=variants, threads=args.threads)
    if args.json:
        atomic_write(Path(args.json), json.dumps(rows, indent=1))
    by_seed = {s: [r for r in rows if r["seed"] == s] for s in args.seeds}

    def summary(points):
        for name in [OURS, *variants]:
            print(f"\n{name} against each fairlearn mitigation, at equal or lower DP:")
            print("\n".join(compare(points, name)))

    for seed, seed_rows in by_seed.items():
        print(f"\n== seed {seed} (test split 20%, stratified on group x label) ==")
        print(table(seed_rows))
        summary(seed_rows)
    points = by_seed[args.seeds[0]]
    if len(args.seeds) > 1:
        points = mean_over_seeds(rows)
        print(f"\n== mean over seeds {args.seeds} ==")
        print(table(points))
        summary(points)
    if args.plot:
        seeds = ", ".join(map(str, args.seeds))
        plot(
            points,
            args.plot,
            f"ACS 2019 income, White vs Non-White; test split 20%, seed(s) {seeds}"
            + (" (mean)" if len(args.seeds) > 1 else ""),
            variants,
        )
        print(f"\nplot saved to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
