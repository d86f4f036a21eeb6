"""Augmented-Lagrangian classifiers: SSL-ALM and its unsmoothed variant ALM."""

from __future__ import annotations

from ..algorithms import SSLALM
from .base import BaseFairClassifier, classifier_for, fill_doc

__all__ = ["ALMClassifier", "SSLALMClassifier"]


@fill_doc
@classifier_for(SSLALM)
class SSLALMClassifier(BaseFairClassifier):
    r"""MLP classifier trained by the stochastic smoothed linearized ALM (SSL-ALM).

    Minimises the mean binary cross-entropy subject to fairness constraints
    :math:`c(\theta) \le 0` with slack variables, a smoothing anchor, an
    independent second constraint sample and a multiplier safeguard; see
    :mod:`fairsk.algorithms.lagrangian` for the update. The paper's settings are
    ``lr=0.01, dual_lr=0.05, penalty=1, smoothing=2, anchor_rate=0.5,
    multiplier_max=10, batch_size=8``.

    Parameters
    ----------
    %(parameters)s

    See Also
    --------
    ALMClassifier : The same method without smoothing.
    PenaltyClassifier : Fixed-weight fairness regulariser.
    UnconstrainedClassifier : Same network and engine, no constraint.

    References
    ----------
    .. [1] J. Huang, Y. Zhang, A. Alacaoglu. Stochastic Smoothed Primal-Dual
       Algorithms for Nonconvex Optimization with Linear Inequality Constraints.
       arXiv:2504.07607, 2025.
    .. [2] A. Kliachkin, G. Bareilles, J. Mareček, J. Lepšová. Benchmarking
       Stochastic Approximation Algorithms for Fairness-Constrained Training of
       Deep Neural Networks. arXiv:2507.04033, 2025.

    Examples
    --------
    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(400, random_state=0)
    >>> clf = SSLALMClassifier(bound=0.01, max_epochs=5, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    >>> len(clf.history_[-1, "multipliers"])  # one per constraint row
    2
    """


@fill_doc
@classifier_for(SSLALM, fixed={"smoothing": 0.0, "anchor_rate": 1.0})
class ALMClassifier(BaseFairClassifier):
    r"""MLP classifier trained by the stochastic linearized ALM (no smoothing).

    SSL-ALM with :math:`\mu = 0, \beta = 1`: multiplier ascent
    :math:`\lambda \leftarrow \lambda + \eta(c(\theta;\zeta^1) + s)` with the
    safeguard, and a primal step on
    :math:`f + (\lambda + \rho\,\tilde c(\theta;\zeta^2))^\top c(\theta;\zeta^1)`
    with slack variables kept non-negative.

    Parameters
    ----------
    %(parameters)s

    See Also
    --------
    SSLALMClassifier : The smoothed method.

    References
    ----------
    .. [1] A. Kliachkin, G. Bareilles, J. Mareček, J. Lepšová. Benchmarking
       Stochastic Approximation Algorithms for Fairness-Constrained Training of
       Deep Neural Networks. arXiv:2507.04033, 2025.

    Examples
    --------
    >>> from fairsk import ALMClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(400, groups=(0, 1), group_shift=0,
    ...                                    random_state=0)
    >>> clf = ALMClassifier(max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).score(X, y) > 0.5
    True
    """
