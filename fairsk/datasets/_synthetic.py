"""Made-up toy data for examples and tests: no real people behind any row."""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np
from sklearn.utils import check_random_state, check_scalar

__all__ = ["make_fair_classification"]


def make_fair_classification(
    n_samples: int = 400,
    n_features: int = 3,
    *,
    groups: Iterable = ("a", "b"),
    group_shift: float = 0.5,
    random_state: int | np.random.Generator | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Generate a synthetic binary task whose label depends on a group.

    The data are made up: random numbers, not records of people. They are for
    examples, doctests and tests of the mechanics (shapes, routing, a fit that
    runs); what a model learns on them says nothing about fairness on real data
    (for that, see :func:`~fairsk.datasets.load_adult` and
    :func:`~fairsk.datasets.load_acs`).

    With :math:`n` = ``n_samples``, :math:`d` = ``n_features`` and
    :math:`s` = ``group_shift``, the rows are drawn in this order:

    .. math::

        X_i \sim \mathcal{N}(0, I_d), \qquad
        A_i \sim \mathrm{Uniform}(\texttt{groups}), \qquad
        y_i = \mathbb{1}\left[X_{i,0} + s \,\mathbb{1}[A_i = \texttt{groups[0]}] > 0
        \right],

    so the label is the sign of the first feature, shifted up by ``group_shift``
    for the rows of the first group: with ``group_shift > 0`` that group has the
    higher positive rate (none has with ``group_shift=0``). The group is not a
    column of ``X``.

    Parameters
    ----------
    n_samples : int, default=400
        Number of rows, at least 1.
    n_features : int, default=3
        Number of features, at least 1; only the first one enters the label.
    groups : iterable of labels, default=("a", "b")
        The group labels (not a single string), drawn with equal probability (a
        label listed twice is drawn twice as often).
    group_shift : float, default=0.5
        Added to the first feature of the rows of ``groups[0]`` before the label is
        thresholded at 0.
    random_state : int, numpy Generator, RandomState or None, default=None
        An int seeds ``numpy.random.default_rng``; a Generator or RandomState is
        drawn from as it is; None uses numpy's global random state, as
        :func:`sklearn.utils.check_random_state` does. The same int always gives
        the same data: ``X = rng.normal(size=(n_samples, n_features))`` is drawn
        first, then ``A = rng.choice(list(groups), size=n_samples)``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features, float64.
    y : ndarray of shape (n_samples,)
        The labels, 0 or 1 (int).
    A : ndarray of shape (n_samples,)
        The group of each row, one of ``groups``: pass it as ``sensitive_features``.

    Examples
    --------
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(400, random_state=0)
    >>> X.shape, y.shape, A.shape, sorted(set(A.tolist()))
    ((400, 3), (400,), (400,), ['a', 'b'])
    >>> [round(float(y[A == g].mean()), 2) for g in ("a", "b")]  # "a" is shifted up
    [0.66, 0.41]

    Numeric groups, no shift (the label is the sign of the first feature):

    >>> X, y, A = make_fair_classification(300, 2, groups=(0, 1), group_shift=0,
    ...                                    random_state=0)
    >>> bool((y == (X[:, 0] > 0)).all()), A.dtype.kind
    (True, 'i')

    """
    n_samples = check_scalar(n_samples, "n_samples", numbers.Integral, min_val=1)
    n_features = check_scalar(n_features, "n_features", numbers.Integral, min_val=1)
    group_shift = check_scalar(group_shift, "group_shift", numbers.Real)
    labels = [] if isinstance(groups, str) else list(groups)
    if not labels:
        raise ValueError(
            f"groups must be a non-empty sequence of labels such as ('a', 'b'), "
            f"got {groups!r}"
        )
    if isinstance(random_state, numbers.Integral):
        rng = np.random.default_rng(random_state)
    elif isinstance(random_state, np.random.Generator):
        rng = random_state
    else:
        rng = check_random_state(random_state)
    X = rng.normal(size=(n_samples, n_features))
    A = rng.choice(labels, size=n_samples)
    y = (X[:, 0] + group_shift * (A == labels[0]) > 0).astype(int)
    return X, y, A
