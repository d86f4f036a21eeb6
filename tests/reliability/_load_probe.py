"""Measure the peak memory of one large fit; run as a script in its own process.

``python _load_probe.py <Classifier> <n_rows> <n_features> <batch_size>`` prints
one JSON line: ``data_bytes`` (X, y and the sensitive features as handed to
``fit``), ``baseline`` (resident memory after imports and a warm-up fit, before the
data exist), ``peak`` (the process's maximum resident set size, ``VmHWM``,
after the large fit) and ``seconds``. A process of its own, because
the maximum resident set size only grows.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import warnings


def current_rss() -> int:
    """Resident memory now, in bytes (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """Largest resident memory of this process image so far, in bytes.

    ``VmHWM`` of ``/proc/self/status``: it starts afresh at ``exec``, whereas
    ``getrusage``'s ``ru_maxrss`` survives it and so reports the parent's
    resident size when the probe is started from a large process (a pytest run).
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(name: str, n: int, d: int, batch_size: int) -> dict:
    import numpy as np

    import fairsk

    warnings.simplefilter("ignore")
    cls = getattr(fairsk, name)
    params = {"max_epochs": 1, "batch_size": batch_size, "random_state": 0}
    # Warm-up: import and initialise everything a fit touches, on small data.
    rng = np.random.default_rng(0)
    small = rng.standard_normal((2000, d), dtype=np.float32)
    cls(**params).fit(small, small[:, 0] > 0, sensitive_features=small[:, 1] > 0)
    baseline = current_rss()
    X = rng.standard_normal((n, d), dtype=np.float32)
    A = rng.integers(0, 2, size=n).astype(np.int8)
    y = (X[:, 0] + 0.5 * A + rng.standard_normal(n, dtype=np.float32) > 0).astype(
        np.int8
    )
    data_bytes = X.nbytes + y.nbytes + A.nbytes
    start = time.perf_counter()
    clf = cls(**params).fit(X, y, sensitive_features=A)
    seconds = time.perf_counter() - start
    finite = bool(np.isfinite(clf.predict_proba(X[:1000])).all())
    return {
        "data_bytes": data_bytes,
        "baseline": baseline,
        "peak": peak_rss(),
        "seconds": seconds,
        "finite": finite,
    }


if __name__ == "__main__":
    name, n, d, bs = sys.argv[1], *map(int, sys.argv[2:5])
    print(json.dumps(main(name, n, d, bs)))
