"""What every test module shares: the list of classifiers, tiny settings, toy data.

One home for each: the contract tests (sklearn's checks, reliability, routing,
docs) run over :data:`CLASSIFIERS` (or :data:`CONSTRAINED`, a filter of it), and
synthetic data comes from :func:`make_synthetic` (named so: it is made up, for
testing mechanics), or from the ``synthetic`` fixture of ``tests/conftest.py``
for its defaults.
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

#: The classifiers that train under constraints (all but the unconstrained one).
CONSTRAINED = [c for c in CLASSIFIERS if c is not fairsk.UnconstrainedClassifier]

#: Tiny settings: a 16-8 network, a few epochs.
TINY = {
    "hidden_layer_sizes": (16, 8),
    "max_epochs": 3,
    "batch_size": 32,
    "random_state": 0,
}


def make_synthetic(
    n: int = 240,
    seed: int = 0,
    groups=("a", "b"),
    p=None,
    *,
    shifts=None,
    group_feature: bool = False,
):
    """Synthetic ``(X, y, A)``: made up, for testing mechanics.

    ``A`` draws each row's group from ``groups`` (with probabilities ``p``,
    uniform by default); ``X`` has three standard-normal features; the label is 1
    when ``X[:, 0] + shift + 0.5 * noise > 0.4``, with each group's ``shift``
    from ``shifts`` (by default 0.8 for the first group and 0 for the others:
    the first group is favoured).

    ``X`` does not show the group, so an unconstrained network predicts alike
    for all groups and errs more on some (a loss gap). With
    ``group_feature=True`` a fourth column holds each row's shift: the network
    sees the group and reproduces the groups' disparity in its predictions.
    """
    rng = np.random.default_rng(seed)
    names = np.array(groups, dtype=object)
    codes = rng.choice(len(names), size=n, p=p)
    A = names[codes]
    X = rng.normal(size=(n, 3))
    if shifts is None:
        shifts = [0.8] + [0.0] * (len(names) - 1)
    shift = np.asarray(shifts, dtype=float)[codes]
    y = X[:, 0] + shift + 0.5 * rng.normal(size=n) > 0.4
    if group_feature:
        X = np.column_stack([X, shift])
    return X, y.astype(int), A
