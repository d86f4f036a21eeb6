"""The stochastic switching subgradient classifier."""

from __future__ import annotations

import inspect
import re
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..algorithms.switching import STEP_RULES, SwitchingSubgradient
from .base import BaseFairClassifier, fill_doc

__all__ = ["SwitchingSubgradientClassifier"]


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
    %(common_parameters)s
    tolerance : float, default=0.035
        :math:`\varepsilon \ge 0`: step on the constraint when the sampled largest
        constraint value reaches it.
    constraint_lr : float, default=0.05
        :math:`\eta_c`, base step of the constraint branch.
    step_rule : {"constant", "inv_sqrt", "polyak"}, default="constant"
        Step rule of the objective branch: ``lr``, ``lr / sqrt(k)``, or Polyak's
        :math:`\min(f/\|\nabla f\|^2, \text{lr})`.
    constraint_step_rule : {"constant", "inv_sqrt", "polyak"}, default="constant"
        Step rule of the constraint branch (Polyak:
        :math:`\min(c_{\max}/\|\nabla c_{j^*}\|^2, \eta_c)`).
    tolerance_decay : float, default=1.0
        Factor applied to the tolerance per step after ``tolerance_decay_after``
        steps of an epoch (the reference code's heuristic uses 0.97; 1 disables).
    tolerance_decay_after : int, default=800
        Steps of an epoch before the tolerance starts to shrink.

    Attributes
    ----------
    %(common_attributes)s

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
    >>> import numpy as np
    >>> from fairsk import SwitchingSubgradientClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> A = rng.choice(["a", "b"], size=400)
    >>> y = (X[:, 0] + 0.5 * (A == "a") > 0).astype(int)
    >>> clf = SwitchingSubgradientClassifier(max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    >>> h = clf.history_[-1]
    >>> h["constraint_steps"] + h["objective_steps"]  # one per minibatch
    7
    """

    _algorithm = SwitchingSubgradient
    _parameter_constraints = {
        **BaseFairClassifier._parameter_constraints,
        "tolerance": [Interval(Real, 0, None, closed="left")],
        "constraint_lr": [Interval(Real, 0, None, closed="neither")],
        "step_rule": [StrOptions(set(STEP_RULES))],
        "constraint_step_rule": [StrOptions(set(STEP_RULES))],
        "tolerance_decay": [Interval(Real, 0, 1, closed="right")],
        "tolerance_decay_after": [Interval(Integral, 0, None, closed="left")],
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
        tolerance=0.035,
        constraint_lr=0.05,
        step_rule="constant",
        constraint_step_rule="constant",
        tolerance_decay=1.0,
        tolerance_decay_after=800,
        hidden_layer_sizes=(64, 32),
        activation="relu",
        alpha=3e-3,
        lr=0.1,
        lr_schedule="cosine",
        max_epochs=20,
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
        self.tolerance = tolerance
        self.constraint_lr = constraint_lr
        self.step_rule = step_rule
        self.constraint_step_rule = constraint_step_rule
        self.tolerance_decay = tolerance_decay
        self.tolerance_decay_after = tolerance_decay_after

    def _algorithm_params(self) -> dict:
        return {
            "tolerance": self.tolerance,
            "constraint_lr": self.constraint_lr,
            "step_rule": self.step_rule,
            "constraint_step_rule": self.constraint_step_rule,
            "tolerance_decay": self.tolerance_decay,
            "tolerance_decay_after": self.tolerance_decay_after,
        }
