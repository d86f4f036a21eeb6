"""The Stochastic Ghost classifier: a stochastic SQP."""

from __future__ import annotations

from ..algorithms import StochasticGhost
from .base import BaseFairClassifier, classifier_for, fill_doc

__all__ = ["StochasticGhostClassifier"]


@fill_doc
@classifier_for(StochasticGhost)
class StochasticGhostClassifier(BaseFairClassifier):
    r"""MLP classifier trained by Stochastic Ghost, a stochastic SQP method.

    Each step solves, for a few samples, the quadratic model
    :math:`\min_d \nabla f^\top d + \frac\tau2\|d\|^2` subject to the linearised
    constraints :math:`c + \nabla c^\top d \le \kappa` and
    :math:`\|d\|_\infty \le \beta` (through its dual, which has one variable per
    constraint row), combines the directions into an unbiased multilevel Monte
    Carlo estimate and moves :math:`\theta \leftarrow \theta + \gamma_k\tilde d`
    with diminishing :math:`\gamma_k`; see :mod:`fairsk.algorithms.ghost`.
    ``lr`` is :math:`\gamma_0`.

    The paper's settings are ``level_probability=0.4, direction_bound=10,
    lr=0.05, step_decay=0.05, feasibility_radius=0.8, feasibility_mix=0.5,
    proximal_weight=1, batch_size=8`` (with an unbounded level, i.e. a large
    ``max_level``). The defaults differ where our budget needs it. A step costs
    about twenty SGD steps on the CPU (three gradient evaluations of :math:`1 + m`
    outputs on about nine units, four small dual problems solved on the host), so
    ``max_epochs=5``. With fewer steps the step size starts higher and decays
    slower (``lr=0.1, step_decay=0.02``: :math:`\gamma` falls from 0.1 to about
    0.03 over 1,400 steps, batch 64 on the ACS income task); that decay is the
    schedule, so ``lr_schedule="constant"``. A larger constraint
    sample (``constraint_batch_size=256``, 64 rows per (group, label) cell) keeps
    the linearised constraints from being dominated by noise, and ``max_level=4``
    bounds the cost of a step (the largest sample is 32 units).

    Parameters
    ----------
    %(parameters)s

    See Also
    --------
    SwitchingSubgradientClassifier : A multiplier-free first-order method.
    SSLALMClassifier : A primal-dual (multiplier) method.

    Notes
    -----
    Unlike the other classifiers, each step synchronises with the host (the dual
    problems are solved on the CPU with NumPy/SciPy) and costs about
    :math:`3(1 + m)` gradient evaluations on :math:`2 + E[2^{N+1}]` units.
    ``history_`` records ``mean_level`` (mean :math:`N`), ``kappa`` and
    ``step_size`` (:math:`\gamma_k`) per epoch.

    References
    ----------
    .. [1] F. Facchinei, V. Kungurtsev. Stochastic Approximation for Expectation
       Objective and Expectation Inequality-Constrained Nonconvex Optimization.
       arXiv:2307.02943.
    .. [2] A. Kliachkin, G. Bareilles, J. Mareček, J. Lepšová. Benchmarking
       Stochastic Approximation Algorithms for Fairness-Constrained Training of
       Deep Neural Networks. arXiv:2507.04033, 2025.

    Examples
    --------
    >>> from fairsk import StochasticGhostClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(400, random_state=0)
    >>> clf = StochasticGhostClassifier(max_epochs=2, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict_proba(X[:2]).shape
    (2, 2)
    >>> 0 <= clf.history_[-1, "mean_level"] <= 4
    True
    """
