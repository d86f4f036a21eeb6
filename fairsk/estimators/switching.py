"""The stochastic switching subgradient classifier."""

from __future__ import annotations

from ..algorithms import SwitchingSubgradient
from .base import BaseFairClassifier, classifier_for, fill_doc

__all__ = ["SwitchingSubgradientClassifier"]


@fill_doc
@classifier_for(SwitchingSubgradient)
class SwitchingSubgradientClassifier(BaseFairClassifier):
    r"""MLP classifier trained by the stochastic switching subgradient method.

    Each step estimates the constraints on a fresh balanced group sample; when the
    largest exceeds the tolerance :math:`\varepsilon` it steps on that constraint
    (gradient on an independent sample, step :math:`\eta_c`), otherwise on the
    cross-entropy (step ``lr``). No multipliers. See
    :mod:`fairsk.algorithms.switching` for the update and the step rules.

    The paper's settings are ``tolerance=1e-4, lr=0.5, constraint_lr=0.05,
    batch_size=16`` (and, in its reference code, ``tolerance_decay=0.97,
    tolerance_decay_after=800``). The defaults here are tuned for batch 64 and 20
    epochs on the ACS income task: a constraint estimate from a minibatch is noisy
    (the loss gap of 16 rows per (group, label) cell has a standard deviation near
    0.13), so a tolerance of 1e-4 sends almost every step to the constraint branch
    and the objective barely trains. ``constraint_batch_size=256`` (64 rows per
    cell, standard deviation near 0.06) and ``tolerance=0.035`` make the switch
    informative; as the objective then gets only about two fifths of the steps, its
    step ``lr=0.1`` is twice the constraint step ``constraint_lr=0.05`` (the
    paper's ratio is 10).

    Parameters
    ----------
    %(parameters)s

    See Also
    --------
    StochasticGhostClassifier : A stochastic SQP.
    SSLALMClassifier : A primal-dual (multiplier) method.

    Notes
    -----
    ``history_`` records, per epoch, ``constraint_steps`` and ``objective_steps``
    (how often each branch was taken) and the ``tolerance`` in force at the end of
    the epoch.

    References
    ----------
    .. [1] Y. Huang, Q. Lin. Oracle Complexity of Single-Loop Switching Subgradient
       Methods for Non-Smooth Weakly Convex Functional Constrained Optimization.
       NeurIPS 2023.
    .. [2] A. Kliachkin, G. Bareilles, J. Mareček, J. Lepšová. Benchmarking
       Stochastic Approximation Algorithms for Fairness-Constrained Training of
       Deep Neural Networks. arXiv:2507.04033, 2025.

    Examples
    --------
    >>> from fairsk import SwitchingSubgradientClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(400, random_state=0)
    >>> clf = SwitchingSubgradientClassifier(max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    >>> h = clf.history_[-1]
    >>> h["constraint_steps"] + h["objective_steps"]  # one per minibatch
    7
    """
