"""The fixed-weight fairness regulariser baseline."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval

from ..algorithms import Penalty
from .base import BaseFairClassifier, fill_doc

__all__ = ["PenaltyClassifier"]


@fill_doc
class PenaltyClassifier(BaseFairClassifier):
    r"""MLP classifier trained on loss plus a fixed-weight fairness penalty.

    Each step minimises :math:`f(\theta;\xi) + w \sum_j [c_j(\theta;\zeta)]_+^p`
    (see :mod:`fairsk.algorithms.penalty`): the regulariser baseline of the paper
    (fairret's ``NormLoss`` when the bound is 0 and ``p = 1``). The weight does not
    adapt, so the bound is a target rather than a guarantee.

    Parameters
    ----------
    %(common_parameters)s
    penalty_weight : float, default=1.0
        :math:`w`.
    penalty_power : {1, 2}, default=1
        :math:`p`: hinge (1) or squared hinge (2).

    Attributes
    ----------
    %(common_attributes)s

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
    >>> import numpy as np
    >>> from fairsk import PenaltyClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> A = rng.choice(["x", "y"], size=300)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = PenaltyClassifier(penalty_weight=2.0, max_epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=A).predict_proba(X[:2]).sum(axis=1)
    array([1., 1.])
    """

    _algorithm = Penalty
    _parameter_constraints = {
        **BaseFairClassifier._parameter_constraints,
        "penalty_weight": [Interval(Real, 0, None, closed="left")],
        "penalty_power": [Interval(Real, 1, 2, closed="both")],
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
        penalty_weight=1.0,
        penalty_power=1,
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
        self.penalty_weight = penalty_weight
        self.penalty_power = penalty_power

    def _algorithm_params(self) -> dict:
        return {"weight": self.penalty_weight, "power": self.penalty_power}
