"""What every test module shares: the list of classifiers, tiny settings, toy data.

One home for each: the contract tests (sklearn's checks, reliability, routing,
docs) run over :data:`CLASSIFIERS`, and synthetic data comes from
:func:`make_synthetic` (named so: it is made up, for testing mechanics).
"""

from __future__ import annotations

import numpy as np

import fairsk
from fairsk.estimators import BaseFairClassifier

#: Every classifier fairsk exports.
CLASSIFIERS = [
    getattr(fairsk, name)
    for name in fairsk.__all__
    if isinstance(getattr(fairsk, name), type)
    and issubclass(getattr(fairsk, name), BaseFairClassifier)
]

#: Tiny settings: a 16-8 network, a few epochs.
TINY = {
    "hidden_layer_sizes": (16, 8),
    "max_epochs": 3,
    "batch_size": 32,
    "random_state": 0,
}


def make_synthetic(n: int = 240, seed: int = 0, groups=("a", "b"), p=None):
    """Synthetic ``(X, y, A)``: three features; the label depends on the first
    one and on the group (the first group is favoured)."""
    rng = np.random.default_rng(seed)
    A = rng.choice(np.array(groups, dtype=object), size=n, p=p)
    X = rng.normal(size=(n, 3))
    y = X[:, 0] + 0.8 * (A == groups[0]) + 0.5 * rng.normal(size=n) > 0.4
    return X, y.astype(int), A
