"""How SSL-ALM's epoch time and memory grow with rows and with groups.

Synthetic data (timing only: the values do not matter): ``n`` rows × 20 standard
normal float32 features, a logistic label, ``G`` groups of geometric sizes (each
group half the previous one, at least 50 rows), demographic parity with
``pairing="one_vs_mean"``; MLP 64-32, batch 64, one torch thread, one epoch.
Each configuration runs in a fresh subprocess that reports the epoch's seconds
and its peak resident memory; memory is reported as the growth over the same
process before ``fit`` (Python, torch and the data loaded, and a 500-row warm-up
fit done), next to the size of the data. Expected: seconds linear in rows
(constant seconds per row), nearly flat in groups, and the growth within ~2× the
data plus the model.

Usage: ``python benchmarks/bench_scale.py`` (about two minutes on two cores),
``--quick`` stops at 100k rows and 8 groups.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

WORKER = r"""
import json, resource, sys, time
import numpy as np, torch
from fairsk import SSLALMClassifier
n, G = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, 20), dtype=np.float32)
y = (X[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(np.int64)
sizes = np.maximum(n * 0.5 ** np.arange(1, G + 1), 50)
A = rng.choice(G, size=n, p=sizes / sizes.sum())
data_bytes = X.nbytes + y.nbytes + A.nbytes
# Warm up on 500 rows: lazy imports and torch's first allocations are not data.
SSLALMClassifier(max_epochs=1).fit(X[:500], y[:500], sensitive_features=A[:500] % 2)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
clf = SSLALMClassifier(constraint="demographic_parity", bound=0.05,
                       pairing="one_vs_mean", max_epochs=1, random_state=0)
start = time.perf_counter()
clf.fit(X, y, sensitive_features=A)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"n": n, "groups": G, "seconds": seconds,
                  "epoch": clf.history_[-1, "dur"],
                  "growth_mb": (after - before) / 1024, "data_mb": data_bytes / 2**20,
                  "rows": len(clf.constraint_names_)}))
"""


def run(n: int, groups: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(n), str(groups)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows = [10_000, 30_000, 100_000] + ([] if args.quick else [300_000, 1_000_000])
    groups = [2, 4, 8] + ([] if args.quick else [16, 32])
    assert resource  # the workers measure with it
    print("epoch time against rows (2 groups)")
    print(
        f"{'rows':>9} {'s/epoch':>8} {'us/row':>7} {'peak growth MB':>15} "
        f"{'data MB':>8}"
    )
    for n in rows:
        r = run(n, 2)
        print(
            f"{n:>9} {r['epoch']:8.3f} {1e6 * r['epoch'] / n:7.2f} "
            f"{r['growth_mb']:15.1f} {r['data_mb']:8.1f}"
        )
    print("\nepoch time against groups (100,000 rows)")
    print(f"{'groups':>7} {'rows of c':>9} {'s/epoch':>8} {'peak growth MB':>15}")
    for g in groups:
        r = run(100_000, g)
        print(f"{g:>7} {r['rows']:>9} {r['epoch']:8.3f} {r['growth_mb']:15.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
