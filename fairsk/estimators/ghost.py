"""The Stochastic Ghost (stochastic SQP) classifier."""

from __future__ import annotations

import inspect
import re
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from ..algorithms.ghost import StochasticGhost
from .base import BaseFairClassifier, fill_doc

__all__ = ["StochasticGhostClassifier"]


def _literal(value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _doc_defaults(cls):
    """Write the signature's defaults into the shared parameter docs.

    The shared docs (``%(common_parameters)s``) state the base defaults; this
    classifier's ``lr``, ``max_epochs`` or ``constraint_batch_size`` differ.
    """
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if param.default is not inspect.Parameter.empty:
            cls.__doc__ = re.sub(
                rf"(\n    {name} : [^\n]*default=)[^\n]*",
                lambda m, d=param.default: m.group(1) + _literal(d),
                cls.__doc__,
            )
    return cls


@_doc_defaults
@fill_doc
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
    %(common_parameters)s
    level_probability : float, default=0.4
        :math:`\alpha`: the level :math:`N` is geometric,
        :math:`P(N = n) \propto \alpha(1-\alpha)^n`.
    max_level : int, default=4
        :math:`N_{\max}`, truncation of the level.
    direction_bound : float, default=10.0
        :math:`\beta`, bound on :math:`\|d\|_\infty`.
    proximal_weight : float, default=1.0
        :math:`\tau`.
    feasibility_radius : float, default=0.8
        :math:`\rho \le \beta`, box of the feasibility LP defining :math:`\kappa`.
    feasibility_mix : float, default=0.5
        :math:`\lambda`: :math:`\kappa = (1-\lambda)\max_j c_j^+ + \lambda v`.
    step_decay : float, default=0.02
        :math:`\zeta`: :math:`\gamma_{k+1} = \gamma_k(1 - \zeta\gamma_k)`.

    Attributes
    ----------
    %(common_attributes)s

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
    >>> import numpy as np
    >>> from fairsk import StochasticGhostClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> A = rng.choice(["a", "b"], size=400)
    >>> y = (X[:, 0] + 0.5 * (A == "a") > 0).astype(int)
    >>> clf = StochasticGhostClassifier(max_epochs=2, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict_proba(X[:2]).shape
    (2, 2)
    >>> 0 <= clf.history_[-1, "mean_level"] <= 4
    True
    """

    _algorithm = StochasticGhost
    _parameter_constraints = {
        **BaseFairClassifier._parameter_constraints,
        "level_probability": [Interval(Real, 0, 1, closed="neither")],
        "max_level": [Interval(Integral, 0, 20, closed="both")],
        "direction_bound": [Interval(Real, 0, None, closed="neither")],
        "proximal_weight": [Interval(Real, 0, None, closed="neither")],
        "feasibility_radius": [Interval(Real, 0, None, closed="left")],
        "feasibility_mix": [Interval(Real, 0, 1, closed="both")],
        "step_decay": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        constraint="loss_gap",
        bound=0.005,
        pairing="auto",
        min_group_size=None,
        confidence=0.9,
        validation_fraction=None,
        select="last",
        level_probability=0.4,
        max_level=4,
        direction_bound=10.0,
        proximal_weight=1.0,
        feasibility_radius=0.8,
        feasibility_mix=0.5,
        step_decay=0.02,
        hidden_layer_sizes=(64, 32),
        activation="relu",
        alpha=3e-3,
        lr=0.1,
        lr_schedule="constant",
        max_epochs=5,
        batch_size=64,
        constraint_batch_size=256,
        average=0.5,
        device="auto",
        random_state=None,
        warm_start=False,
        callbacks=None,
        verbose=0,
    ):
        super().__init__(
            constraint=constraint,
            bound=bound,
            pairing=pairing,
            min_group_size=min_group_size,
            confidence=confidence,
            validation_fraction=validation_fraction,
            select=select,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            alpha=alpha,
            lr=lr,
            lr_schedule=lr_schedule,
            max_epochs=max_epochs,
            batch_size=batch_size,
            constraint_batch_size=constraint_batch_size,
            average=average,
            device=device,
            random_state=random_state,
            warm_start=warm_start,
            callbacks=callbacks,
            verbose=verbose,
        )
        self.level_probability = level_probability
        self.max_level = max_level
        self.direction_bound = direction_bound
        self.proximal_weight = proximal_weight
        self.feasibility_radius = feasibility_radius
        self.feasibility_mix = feasibility_mix
        self.step_decay = step_decay

    def _algorithm_params(self) -> dict:
        if self.lr * self.step_decay >= 1:
            # gamma_{k+1} = gamma_k (1 - step_decay gamma_k) stays positive and
            # decreasing only while step_decay * gamma_0 < 1.
            raise ValueError(
                f"StochasticGhostClassifier needs lr * step_decay < 1 (the step "
                f"recursion gamma <- gamma (1 - step_decay gamma) turns negative "
                f"otherwise); got lr={self.lr!r}, step_decay={self.step_decay!r}."
            )
        return {
            "level_probability": self.level_probability,
            "max_level": self.max_level,
            "direction_bound": self.direction_bound,
            "proximal_weight": self.proximal_weight,
            "feasibility_radius": self.feasibility_radius,
            "feasibility_mix": self.feasibility_mix,
            "step_decay": self.step_decay,
        }
