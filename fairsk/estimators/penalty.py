"""The fixed-weight fairness regulariser baseline."""

from __future__ import annotations

from ..algorithms import Penalty
from .base import BaseFairClassifier, classifier_for, fill_doc

__all__ = ["PenaltyClassifier"]


@fill_doc
@classifier_for(Penalty)
class PenaltyClassifier(BaseFairClassifier):
    r"""MLP classifier trained on loss plus a fixed-weight fairness penalty.

    Each step minimises :math:`f(\theta;\xi) + w \sum_j [c_j(\theta;\zeta)]_+^p`
    (see :mod:`fairsk.algorithms.penalty`): the regulariser baseline of the paper
    (fairret's ``NormLoss`` when the bound is 0 and ``p = 1``). The weight does not
    adapt, so the bound is a target rather than a guarantee.

    Parameters
    ----------
    %(parameters)s

    See Also
    --------
    SSLALMClassifier : Adapts the weights (multipliers) to meet the bound.

    References
    ----------
    .. [1] A. Kliachkin, G. Bareilles, J. Mareček, J. Lepšová. Benchmarking
       Stochastic Approximation Algorithms for Fairness-Constrained Training of
       Deep Neural Networks. arXiv:2507.04033, 2025.

    Examples
    --------
    >>> from fairsk import PenaltyClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(300, 2, groups=("x", "y"), group_shift=0,
    ...                                    random_state=0)
    >>> clf = PenaltyClassifier(penalty_weight=2.0, max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict_proba(X[:2]).sum(axis=1)
    array([1., 1.])
    """
