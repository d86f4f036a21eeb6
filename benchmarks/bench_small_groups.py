"""Small protected groups: does the loss-gap bound hold on new people? (issue 18)

Protocol (rerunnable, real data only):

- **Data.** The ACS 2019 income task (``national2019.csv``: adults with income,
  target PINCP > 50,000, no income-derived feature), groups White vs Non-White
  (``load_pums_income``'s default). For split ``s``: ``round(1000 / 0.7)`` = 1,429
  of the 9,714 Non-White rows are drawn at random (seed ``s``), all 12,649 White
  rows kept, and the result split 70/30 stratified on group x label
  (``random_state=s``): about 9,850 training rows of which exactly 1,000
  Non-White, and a 30% test set of new people from the same population (429
  Non-White). Features: ``ACSFeatureEncoder`` fitted on the training rows.
- **Columns.** ``train``: |ΔL| on the rows passed to ``fit`` (all of them, also
  any the classifier holds out internally). ``test``: |ΔL| on the 30% test set,
  mean ± sd over the splits; ``ratio``: mean test |ΔL| over the unconstrained
  classifier's; ``AUC``: test ROC AUC, ``dAUC``: its paired difference to the
  unconstrained classifier, mean over splits. ``new19``: |ΔL| on every 2019 row not
  trained on (the test set plus the 8,285 Non-White rows the subsample left
  out): the same population as ``test``, with 20 times the Non-White rows, so far
  less sampling noise. ``2018``, ``r18``, ``AUC18``, ``dAUC18``: the same
  trained model on all of ``national2018.csv`` (22,156 people, a year later).
  |ΔL| is :func:`fairsk.metrics.loss_gap` (sklearn's log loss per group).
- **Noise floor.** With 429 Non-White test rows the test |ΔL| of a model whose
  true gap is 0 is itself about 0.02 on average (the per-row log loss has an sd
  near 0.5), so ``test`` cannot go far below 0.02 whatever the method;
  ``new19`` and ``2018`` (thousands of Non-White rows) can.
- **Held-out estimate.** For rows whose classifier holds rows out
  (``validation_fraction``), a second table gives the
  ``validation_report_`` estimate of |ΔL| on those rows, its 95% bootstrap
  interval, and how often the interval covers ``new19`` and ``2018``.

Rows: the unconstrained network; SSL-ALM with its defaults (bound 0.005); the
cheap levers (weight decay ``alpha``, fewer epochs, weight averaging off, the
``confidence`` margin off, dropout, the existing validation split with
``select="feasible"``); held-out constraint estimation (Cotter et al. 2019:
``holdout_constraints=True`` with ``validation_fraction``) at several
fractions, with and without the margin and selection; switching subgradient
with and without it. A row whose parameter the installed fairsk does not have
is skipped with a note.

``--small-train 650 --large-train 3900`` gives a single state's size (the
issue's state files: 6-7k rows, 730-1,070 Non-White, 70% of them training).

Usage::

    python benchmarks/bench_small_groups.py                   # 10 splits, all rows
    python benchmarks/bench_small_groups.py --quick           # smoke test, ~1 min
    python benchmarks/bench_small_groups.py --splits 3 --only unconstrained sslalm
    python benchmarks/bench_small_groups.py --cache scratch/small_groups  # resumable
    python benchmarks/bench_small_groups.py --large           # big-group check
    python benchmarks/bench_small_groups.py --small-train 650 --large-train 3900

``--large`` runs the acceptance protocol of ``tests/test_acceptance_core.py``
instead (national2019, every row, one 80/20 split stratified on group x label with
seed 42, training seeds 0-2) for the unconstrained, default and held-out rows.

Each fit takes 2-7 s on one core; the full table (24 rows, 10 splits) took 22
minutes on two shared cores.
Torch trains on one thread (the estimators' default).
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from torch import nn

import fairsk
from fairsk import (
    SSLALMClassifier,
    SwitchingSubgradientClassifier,
    UnconstrainedClassifier,
)
from fairsk.datasets import ACSFeatureEncoder, load_pums_income
from fairsk.metrics import loss_gap

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

#: Non-White training rows per split, and the test fraction.
SMALL_GROUP_TRAIN = 1000
TEST_SIZE = 0.3
BOUND = 0.005


# -- a lever fairsk does not expose: dropout ------------------------------------
class DropoutMLP(nn.Module):
    """fairsk's MLP with dropout after every hidden activation (training only)."""

    def __init__(self, n_features, hidden_layer_sizes=(64, 32), dropout=0.2):
        super().__init__()
        widths = [n_features, *hidden_layer_sizes, 1]
        self.layers = nn.ModuleList(
            nn.Linear(a, b) for a, b in itertools.pairwise(widths)
        )
        self.dropout = dropout

    def forward(self, X):
        *hidden, last = self.layers
        for lin in hidden:
            X = F.dropout(torch.relu(lin(X)), self.dropout, self.training)
        return last(X).squeeze(-1)


# -- the rows -------------------------------------------------------------------
@dataclass
class Method:
    """One row: a label, a classifier class and its parameters."""

    name: str
    cls: type
    params: dict = field(default_factory=dict)
    dropout: float | None = None
    #: "balanced": sample weights giving each group the same total weight.
    weights: str | None = None

    def available(self) -> str | None:
        """Why this row cannot run with the installed fairsk (``None``: it can)."""
        accepted = inspect.signature(self.cls.__init__).parameters
        missing = sorted(k for k in self.params if k not in accepted and "__" not in k)
        if missing:
            return f"{self.cls.__name__} has no parameter {', '.join(missing)}"
        return None

    def make(self, seed: int):
        params = {**self.params, "random_state": seed}
        if self.cls is not UnconstrainedClassifier:
            params.setdefault("constraint", "loss_gap")
            params.setdefault("bound", BOUND)
        if self.dropout is not None:
            params.update(module=DropoutMLP, module__dropout=self.dropout)
        return self.cls(**params)

    def key(self) -> str:
        """Identifies the configuration in the cache."""
        parts = [self.cls.__name__, self.params, self.dropout, fairsk.__version__]
        if self.weights is not None:
            parts.append(self.weights)
        return json.dumps(parts, sort_keys=True, default=str)


SSL, SSG, UNC = (
    SSLALMClassifier,
    SwitchingSubgradientClassifier,
    UnconstrainedClassifier,
)
HOLD = {"validation_fraction": 0.3, "holdout_constraints": True}
METHODS = [
    Method("unconstrained", UNC),
    Method("sslalm", SSL),
    # cheap levers
    Method("alpha=0.01", SSL, {"alpha": 0.01}),
    Method("alpha=0.02", SSL, {"alpha": 0.02}),
    Method("alpha=0.05", SSL, {"alpha": 0.05}),
    Method("epochs=10", SSL, {"max_epochs": 10}),
    Method("epochs=5", SSL, {"max_epochs": 5}),
    Method("average=None", SSL, {"average": None}),
    Method("confidence=None", SSL, {"confidence": None}),
    Method("dropout=0.2", SSL, dropout=0.2),
    Method("dropout=0.5", SSL, dropout=0.5),
    Method("hidden=(32,16)", SSL, {"hidden_layer_sizes": (32, 16)}),
    Method("group-balanced weights", SSL, weights="balanced"),
    Method(
        "valid=0.2+feasible", SSL, {"validation_fraction": 0.2, "select": "feasible"}
    ),
    # held-out constraint estimation (Cotter et al. 2019)
    Method("holdout=0.2", SSL, {**HOLD, "validation_fraction": 0.2}),
    Method("holdout=0.3", SSL, HOLD),
    Method("holdout=0.5", SSL, {**HOLD, "validation_fraction": 0.5}),
    Method("holdout=0.3,conf=None", SSL, {**HOLD, "confidence": None}),
    Method("holdout=0.3,average=None", SSL, {**HOLD, "average": None}),
    Method("holdout=0.3+feasible", SSL, {**HOLD, "select": "feasible"}),
    Method("holdout=0.3,alpha=0.02", SSL, {**HOLD, "alpha": 0.02}),
    # switching subgradient
    Method("ssg", SSG),
    Method("ssg,holdout=0.3", SSG, HOLD),
]
QUICK = ["unconstrained", "sslalm", "holdout=0.3"]
LARGE = ["unconstrained", "sslalm", "holdout=0.3"]


# -- data -----------------------------------------------------------------------
def load(data: Path):
    """National 2019 and 2018 income tasks as arrays; exits when data is absent."""
    folder = Path(data) / "acs-excerpts"
    files = [folder / "national2019.csv", folder / "national2018.csv"]
    absent = [str(f) for f in files if not f.exists()]
    if absent:
        sys.exit(
            f"bench_small_groups: real data not found: {', '.join(absent)}. Pass "
            "--data DIR, the shared data folder holding acs-excerpts/ (by default "
            "../shared/data beside the repository; see its README.md)."
        )
    out = []
    for f in files:
        X, y, A = load_pums_income(f, return_X_y=True)
        out.append((X, np.asarray(y), np.asarray(A)))
    return out


def small_group_split(y, A, seed: int, small_train=SMALL_GROUP_TRAIN, large_train=None):
    """Rows of split ``seed``: train, test, and every 2019 row not trained on.

    ``small_train`` Non-White and (``None``: all) ``large_train`` White rows end
    up in the training set.
    """
    rng = np.random.default_rng(seed)
    small, large = np.flatnonzero(A != "White"), np.flatnonzero(A == "White")
    n_small = round(small_train / (1 - TEST_SIZE))
    if large_train is not None:
        large = rng.choice(large, round(large_train / (1 - TEST_SIZE)), False)
    keep = np.sort(np.concatenate([large, rng.choice(small, n_small, False)]))
    strata = np.char.add(A[keep].astype(str), y[keep].astype(str))
    train, test = train_test_split(
        keep, test_size=TEST_SIZE, random_state=seed, stratify=strata
    )
    unseen = np.setdiff1d(np.arange(len(y)), train)
    return np.sort(train), np.sort(test), unseen


# -- one fit ----------------------------------------------------------------------
def run_one(method: Method, seed: int, d19, d18, protocol=None) -> dict:
    (X19, y19, A19), (X18, y18, A18) = d19, d18
    train, test, unseen = small_group_split(y19, A19, seed, **(protocol or {}))
    enc = ACSFeatureEncoder().fit(X19.iloc[train])
    E19 = np.asarray(enc.transform(X19), dtype=np.float32)
    E18 = np.asarray(enc.transform(X18), dtype=np.float32)
    clf = method.make(seed)
    weight = None
    if method.weights == "balanced":
        groups, codes, counts = np.unique(
            A19[train], return_inverse=True, return_counts=True
        )
        weight = (len(train) / (len(groups) * counts))[codes]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bound-miss warnings: the table says it
        clf.fit(
            E19[train], y19[train], sensitive_features=A19[train], sample_weight=weight
        )
    seconds = time.perf_counter() - start
    p19, p18 = clf.predict_proba(E19)[:, 1], clf.predict_proba(E18)[:, 1]

    def gap(y, p, A):
        return float(loss_gap(y, p, sensitive_features=A))

    row = {
        "seed": seed,
        "seconds": seconds,
        "small_train": int((A19[train] != "White").sum()),
        "train": gap(y19[train], p19[train], A19[train]),
        "test": gap(y19[test], p19[test], A19[test]),
        "auc": float(roc_auc_score(y19[test], p19[test])),
        "new19": gap(y19[unseen], p19[unseen], A19[unseen]),
        "n2018": gap(y18, p18, A18),
        "auc18": float(roc_auc_score(y18, p18)),
    }
    report = getattr(clf, "validation_report_", None)
    if report is not None:
        first = report.iloc[0]
        row["heldout"] = [float(first.value), float(first.ci_low), float(first.ci_high)]
    return row


def run(methods, seeds, d19, d18, cache: Path | None, protocol=None):
    """Every method on every split, from the cache where it holds the same run."""
    protocol = protocol or {}
    if cache is not None and protocol:
        cache = cache / "_".join(f"{k}={v}" for k, v in sorted(protocol.items()))
    results: dict[str, list[dict]] = {}
    total, done = len(methods) * len(seeds), 0
    for method in methods:
        rows = []
        for seed in seeds:
            done += 1
            path = None if cache is None else cache / f"{method.name}__{seed}.json"
            if path is not None and path.exists():
                saved = json.loads(path.read_text())
                if saved.get("key") == method.key():
                    rows.append(saved["row"])
                    continue
            row = run_one(method, seed, d19, d18, protocol)
            rows.append(row)
            print(
                f"[{done}/{total}] {method.name:<26} split {seed}: train "
                f"{row['train']:.4f} test {row['test']:.4f} new19 {row['new19']:.4f} "
                f"2018 {row['n2018']:.4f} AUC {row['auc']:.4f} "
                f"({row['seconds']:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"key": method.key(), "row": row}))
        results[method.name] = rows
    return results


# -- tables -----------------------------------------------------------------------
def table(results: dict[str, list[dict]], reference: str = "unconstrained") -> str:
    """The method x (train, test, new19, 2018) table, means over the splits."""
    ref = results.get(reference)

    def col(rows, key):
        return np.array([r[key] for r in rows])

    def paired(rows, key):
        if ref is None:
            return np.nan
        mine = {r["seed"]: r[key] for r in rows}
        return float(
            np.mean([mine[r["seed"]] - r[key] for r in ref if r["seed"] in mine])
        )

    head = (
        f"{'method':<26} {'train':>6} {'test':>13} {'ratio':>5} {'AUC':>6} "
        f"{'dAUC':>7} {'new19':>6} {'2018':>6} {'r18':>5} {'AUC18':>6} {'dAUC18':>7}"
    )
    lines = [head, "-" * len(head)]
    for name, rows in results.items():
        test, n18 = col(rows, "test"), col(rows, "n2018")
        ratio = test.mean() / col(ref, "test").mean() if ref else np.nan
        r18 = n18.mean() / col(ref, "n2018").mean() if ref else np.nan
        lines.append(
            f"{name:<26} {col(rows, 'train').mean():6.4f} "
            f"{test.mean():.4f}±{test.std():.4f} {ratio:5.2f} "
            f"{col(rows, 'auc').mean():6.4f} "
            f"{paired(rows, 'auc'):+7.4f} {col(rows, 'new19').mean():6.4f} "
            f"{n18.mean():6.4f} {r18:5.2f} {col(rows, 'auc18').mean():6.4f} "
            f"{paired(rows, 'auc18'):+7.4f}"
        )
    return "\n".join(lines)


def heldout_table(results: dict[str, list[dict]]) -> str:
    """The classifiers' own held-out estimate of |ΔL|, its interval and coverage."""

    def col(rows, key):
        return np.array([r[key] for r in rows])

    rows_out = []
    for name, rows in results.items():
        rows = [r for r in rows if "heldout" in r]
        if not rows:
            continue
        est = np.array([r["heldout"] for r in rows])
        width = (est[:, 2] - est[:, 1]).mean()
        lo, hi = est[:, 1], est[:, 2]
        cover19 = int(((lo <= col(rows, "new19")) & (col(rows, "new19") <= hi)).sum())
        cover18 = int(((lo <= col(rows, "n2018")) & (col(rows, "n2018") <= hi)).sum())
        rows_out.append(
            f"{name:<26} {est[:, 0].mean():8.4f} {width:9.4f} "
            f"{cover19:>3}/{len(rows):<3} {cover18:>3}/{len(rows):<3}"
        )
    if not rows_out:
        return ""
    head = (
        f"{'method':<26} {'held-out':>8} {'CI width':>9} {'covers new19':>12} "
        f"{'2018':>5}"
    )
    return "\n".join([head, "-" * len(head), *rows_out])


# -- the large-group check ----------------------------------------------------------
def run_large(methods, seeds, d19) -> str:
    """tests/test_acceptance_core.py's protocol: every row, 80/20 split, seed 42."""
    X, y, A = d19
    strata = np.char.add(A.astype(str), y.astype(str))
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.2, random_state=42, stratify=strata
    )
    enc = ACSFeatureEncoder().fit(X)  # as the acceptance fixture: all rows
    E = np.asarray(enc.transform(X), dtype=np.float32)
    lines = [f"{'method':<26} {'train':>6} {'test':>6} {'AUC':>6} {'seconds':>7}"]
    for method in methods:
        rows = []
        for seed in seeds:
            clf = method.make(seed)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.fit(E[train], y[train], sensitive_features=A[train])
            p = clf.predict_proba(E)[:, 1]
            rows.append(
                (
                    loss_gap(y[train], p[train], sensitive_features=A[train]),
                    loss_gap(y[test], p[test], sensitive_features=A[test]),
                    roc_auc_score(y[test], p[test]),
                    time.perf_counter() - start,
                )
            )
            print(f"large {method.name} seed {seed}: {rows[-1]}", file=sys.stderr)
        tr, te, auc, sec = np.mean(rows, axis=0)
        lines.append(f"{method.name:<26} {tr:6.4f} {te:6.4f} {auc:6.4f} {sec:7.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--only", nargs="+", help="method names (default: all)")
    parser.add_argument("--cache", type=Path, help="folder of per-run results")
    parser.add_argument(
        "--quick", action="store_true", help="1 split, 3 rows, 3 epochs"
    )
    parser.add_argument("--large", action="store_true", help="the large-group check")
    parser.add_argument("--json", type=Path, help="write every run's numbers here")
    parser.add_argument(
        "--small-train",
        type=int,
        default=SMALL_GROUP_TRAIN,
        help="Non-White training rows per split",
    )
    parser.add_argument(
        "--large-train",
        type=int,
        help="White training rows per split (default: 70%% of all); e.g. 3900 "
        "with --small-train 650 for a single state's size",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    names = args.only or (QUICK if args.quick else LARGE if args.large else None)
    methods = METHODS if names is None else [m for m in METHODS if m.name in names]
    unknown = set(names or ()) - {m.name for m in methods}
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; see METHODS")
    runnable = []
    for m in methods:
        why = m.available()
        if why:
            print(f"skipped {m.name}: {why}", file=sys.stderr)
        else:
            runnable.append(m)
    if args.quick:
        runnable = [
            Method(m.name, m.cls, {**m.params, "max_epochs": 3}, m.dropout, m.weights)
            for m in runnable
        ]
    d19, d18 = load(args.data)
    if args.large:
        print(run_large(runnable, range(3), d19))
        return 0
    seeds = range(1 if args.quick else args.splits)
    protocol = {}
    if args.small_train != SMALL_GROUP_TRAIN:
        protocol["small_train"] = args.small_train
    if args.large_train is not None:
        protocol["large_train"] = args.large_train
    results = run(runnable, seeds, d19, d18, args.cache, protocol)
    white = "all" if args.large_train is None else args.large_train
    print(
        f"Small protected group: national2019, {args.small_train} Non-White and "
        f"{white} White training rows, {len(seeds)} random 70/30 splits; loss_gap "
        f"bound {BOUND}; fairsk {fairsk.__version__}\n"
    )
    print(table(results))
    held = heldout_table(results)
    if held:
        print(
            "\nThe classifier's held-out estimate of |ΔL| "
            "(validation_report_, 95% CI)\n"
        )
        print(held)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
