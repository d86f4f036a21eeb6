"""Every fairsk classifier on the real ACS income task: loss gap, AUC, fit time.

The task of the acceptance tests: ACS 2019 excerpt (``../shared/data``), adults
with income, target PINCP > 50,000, groups White vs everyone else, loss_gap bound
0.005. For each seed the data are split 80/20 stratified on group × label (split
seed = model seed) and every classifier is fitted with its defaults; the table
gives, averaged over the seeds, the train and test
|ΔL| = |log_loss(White) - log_loss(Non-White)|, the test AUC and the fit time.
Classifiers whose defaults train for other epochs than the unconstrained default
get their own unconstrained row (same epochs, same batch) to compare against.

Usage::

    python benchmarks/bench_algorithms.py                 # 3 seeds, all rows
    python benchmarks/bench_algorithms.py --seeds 0 --only SSG Ghost
    python benchmarks/bench_algorithms.py --per-seed      # also each seed's row

Torch runs with one intra-op thread unless ``--threads`` says otherwise (small
MLP steps on a few shared cores are much slower with more threads).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import fairsk
from fairsk.datasets import ACSFeatureEncoder, load_pums_income
from fairsk.metrics import loss_gap

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "acs-excerpts"
    / "national2019.csv"
).resolve()


def estimators() -> dict:
    """Name -> factory(seed) of every classifier benchmarked, with its defaults."""
    rows = {
        "Unconstrained": lambda s: fairsk.UnconstrainedClassifier(random_state=s),
        "Penalty": lambda s: fairsk.PenaltyClassifier(random_state=s),
        "SSLALM": lambda s: fairsk.SSLALMClassifier(random_state=s),
        "ALM": lambda s: fairsk.ALMClassifier(random_state=s),
        "SSG": lambda s: fairsk.SwitchingSubgradientClassifier(random_state=s),
        "Ghost": lambda s: fairsk.StochasticGhostClassifier(random_state=s),
    }
    # The multiplier updates of fairsk.algorithms.dual, on the Lagrangian
    # classifiers that accept them.
    if "dual_update" in fairsk.SSLALMClassifier().get_params():
        from fairsk.algorithms.dual import DUAL_UPDATES

        for name in DUAL_UPDATES:
            if name == "ascent":  # the default: the SSLALM row above
                continue
            rows[f"SSLALM dual={name}"] = lambda s, n=name: fairsk.SSLALMClassifier(
                dual_update=n, random_state=s
            )
    # An unconstrained row per distinct (epochs, batch) of the others.
    default = fairsk.UnconstrainedClassifier()
    shapes = set()
    for make in rows.values():
        clf = make(0)
        shape = (clf.max_epochs, clf.batch_size)
        if shape != (default.max_epochs, default.batch_size):
            shapes.add(shape)
    for epochs, batch in sorted(shapes):
        rows[f"Unconstrained ({epochs} epochs, batch {batch})"] = (
            lambda s, e=epochs, b=batch: fairsk.UnconstrainedClassifier(
                max_epochs=e, batch_size=b, random_state=s
            )
        )
    return rows


def white_gap(y, proba, A) -> float:
    """|ΔL| between White and everyone else (fairsk.metrics.loss_gap)."""
    return loss_gap(y, proba[:, 1], sensitive_features=A == "White")


def run_one(make, X, y, A, seed) -> dict:
    """Fit on the seed's split; return train/test |ΔL|, test AUC, fit seconds."""
    train, test = train_test_split(
        np.arange(len(y)),
        test_size=0.2,
        stratify=np.char.add(A.astype(str), y.astype(str)),
        random_state=seed,
    )
    clf = make(seed)
    start = time.perf_counter()
    clf.fit(X[train], y[train], sensitive_features=A[train])
    seconds = time.perf_counter() - start
    p_train, p_test = clf.predict_proba(X[train]), clf.predict_proba(X[test])
    return {
        "train |ΔL|": white_gap(y[train], p_train, A[train]),
        "test |ΔL|": white_gap(y[test], p_test, A[test]),
        "test AUC": roc_auc_score(y[test], p_test[:, 1]),
        "fit s": seconds,
        "epochs": clf.max_epochs,
    }


def markdown(rows: list[tuple[str, dict]]) -> str:
    """A markdown table of (label, metrics) rows."""
    keys = ["train |ΔL|", "test |ΔL|", "test AUC", "fit s", "epochs"]
    header = [k.replace("|", "\\|") for k in keys]  # literal pipes in markdown
    out = [
        "| estimator | " + " | ".join(header) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for label, r in rows:
        cells = [
            f"{r[k]:.4f}" if k not in ("fit s", "epochs") else f"{r[k]:.1f}"
            for k in keys[:-1]
        ]
        cells.append(f"{r['epochs']:.0f}")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--only", nargs="+", help="substrings of the estimator names to run"
    )
    parser.add_argument("--per-seed", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    X, y, A = load_pums_income(args.data, return_X_y=True)
    X = np.asarray(ACSFeatureEncoder().fit_transform(X), dtype=np.float32)
    y, A = np.asarray(y), np.asarray(A)
    print(f"ACS 2019 income task: {X.shape[0]} rows, {X.shape[1]} features")

    means, per_seed = [], []
    for name, make in estimators().items():
        if args.only and not any(s.lower() in name.lower() for s in args.only):
            continue
        results = [run_one(make, X, y, A, s) for s in args.seeds]
        for s, r in zip(args.seeds, results, strict=True):
            per_seed.append((f"{name} (seed {s})", r))
        avg = {k: float(np.mean([r[k] for r in results])) for k in results[0]}
        means.append((name, avg))
        print(
            f"  {name}: train |ΔL| {avg['train |ΔL|']:.4f}, "
            f"AUC {avg['test AUC']:.4f}, {avg['fit s']:.1f} s",
            flush=True,
        )
    print(f"\nMean over seeds {args.seeds} (fit times: {args.threads} torch thread):\n")
    print(markdown(means))
    if args.per_seed:
        print("\nPer seed:\n")
        print(markdown(per_seed))


if __name__ == "__main__":
    main()
