"""Augmented-Lagrangian classifiers: SSL-ALM and its unsmoothed variant ALM."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ..algorithms import SSLALM
from ..algorithms.dual import DUAL_UPDATES, DualUpdate
from .base import BaseFairClassifier, fill_doc

__all__ = ["ALMClassifier", "SSLALMClassifier"]

_LAGRANGIAN_PARAMS = {
    "dual_lr": [Interval(Real, 0, None, closed="neither")],
    "penalty": [Interval(Real, 0, None, closed="left")],
    "multiplier_max": [Interval(Real, 0, None, closed="neither")],
    "dual_update": [StrOptions(set(DUAL_UPDATES)), DualUpdate],
}

_DUAL_UPDATE_DOC = """dual_update : str or DualUpdate, default="ascent"
        How the multipliers move (:mod:`fairsk.algorithms.dual`): ``"ascent"``
        (the rule above), ``"momentum"`` (heavy ball), ``"augmented"``
        (Rockafellar's augmented Lagrangian of the inequalities, no slack),
        ``"ialm"`` (increasing penalty), ``"nupi"`` (PI-controlled multipliers) or
        ``"pbm"`` (penalty-barrier multipliers), or a rule object for its own
        hyperparameters, e.g. ``NuPI(proportional=1.0)`` (grid-searchable as
        ``dual_update__proportional``). A rule's ``dual_lr``, ``penalty`` and
        ``multiplier_max`` left at ``None`` take this classifier's."""


def _fill_dual_doc(cls):
    cls.__doc__ = cls.__doc__.replace("%(dual_update)s", _DUAL_UPDATE_DOC)
    return fill_doc(cls)


@_fill_dual_doc
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
    %(common_parameters)s
    dual_lr : float, default=0.05
        :math:`\eta`, the multiplier step.
    penalty : float, default=1.0
        :math:`\rho`, the augmented-Lagrangian penalty.
    smoothing : float, default=2.0
        :math:`\mu`, weight of the proximal pull towards the anchor.
    anchor_rate : float, default=0.5
        :math:`\beta`, how fast the anchor follows the iterate.
    multiplier_max : float, default=10.0
        :math:`\lambda_{\max}`: a multiplier reaching it is reset to 0.
    %(dual_update)s

    Attributes
    ----------
    %(common_attributes)s

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
    >>> import numpy as np
    >>> from fairsk import SSLALMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> A = rng.choice(["a", "b"], size=400)
    >>> y = (X[:, 0] + 0.5 * (A == "a") > 0).astype(int)
    >>> clf = SSLALMClassifier(bound=0.01, max_epochs=5, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict(X[:3]).shape
    (3,)
    >>> len(clf.history_[-1, "multipliers"])  # one per constraint row
    2
    """

    _algorithm = SSLALM
    _parameter_constraints = {
        **BaseFairClassifier._parameter_constraints,
        **_LAGRANGIAN_PARAMS,
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "anchor_rate": [Interval(Real, 0, 1, closed="right")],
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
        dual_lr=0.05,
        penalty=1.0,
        smoothing=2.0,
        anchor_rate=0.5,
        multiplier_max=10.0,
        dual_update="ascent",
        hidden_layer_sizes=(64, 32),
        activation="relu",
        alpha=3e-3,
        lr=0.05,
        lr_schedule="cosine",
        max_epochs=20,
        batch_size=64,
        constraint_batch_size=None,
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
        self.dual_lr = dual_lr
        self.penalty = penalty
        self.smoothing = smoothing
        self.anchor_rate = anchor_rate
        self.multiplier_max = multiplier_max
        self.dual_update = dual_update

    def _algorithm_params(self) -> dict:
        return {
            "dual_lr": self.dual_lr,
            "penalty": self.penalty,
            "smoothing": self.smoothing,
            "anchor_rate": self.anchor_rate,
            "multiplier_max": self.multiplier_max,
            "dual_update": self.dual_update,
        }


@_fill_dual_doc
class ALMClassifier(BaseFairClassifier):
    r"""MLP classifier trained by the stochastic linearized ALM (no smoothing).

    SSL-ALM with :math:`\mu = 0, \beta = 1`: multiplier ascent
    :math:`\lambda \leftarrow \lambda + \eta(c(\theta;\zeta^1) + s)` with the
    safeguard, and a primal step on
    :math:`f + (\lambda + \rho\,\tilde c(\theta;\zeta^2))^\top c(\theta;\zeta^1)`
    with slack variables kept non-negative.

    Parameters
    ----------
    %(common_parameters)s
    dual_lr : float, default=0.05
        :math:`\eta`, the multiplier step.
    penalty : float, default=1.0
        :math:`\rho`, the augmented-Lagrangian penalty.
    multiplier_max : float, default=10.0
        :math:`\lambda_{\max}`: a multiplier reaching it is reset to 0.
    %(dual_update)s

    Attributes
    ----------
    %(common_attributes)s

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
    >>> import numpy as np
    >>> from fairsk import ALMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> A = rng.choice([0, 1], size=400)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = ALMClassifier(max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).score(X, y) > 0.5
    True
    """

    _algorithm = SSLALM
    _parameter_constraints = {
        **BaseFairClassifier._parameter_constraints,
        **_LAGRANGIAN_PARAMS,
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
        dual_lr=0.05,
        penalty=1.0,
        multiplier_max=10.0,
        dual_update="ascent",
        hidden_layer_sizes=(64, 32),
        activation="relu",
        alpha=3e-3,
        lr=0.05,
        lr_schedule="cosine",
        max_epochs=20,
        batch_size=64,
        constraint_batch_size=None,
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
        self.dual_lr = dual_lr
        self.penalty = penalty
        self.multiplier_max = multiplier_max
        self.dual_update = dual_update

    def _algorithm_params(self) -> dict:
        return {
            "dual_lr": self.dual_lr,
            "penalty": self.penalty,
            "smoothing": 0.0,
            "anchor_rate": 1.0,
            "multiplier_max": self.multiplier_max,
            "dual_update": self.dual_update,
        }
