"""fairsk: scikit-learn classifiers trained under fairness constraints.

PyTorch networks trained with stochastic constrained-optimisation algorithms
(SSL-ALM, ALM, switching subgradient, stochastic ghost SQP and baselines), usable in
Pipelines and grid searches, evaluated with fairlearn's metrics.
"""

from ._version import __version__
from .constraints import Constraint, Statistic
from .estimators import (
    ALMClassifier,
    PenaltyClassifier,
    SSLALMClassifier,
    StochasticGhostClassifier,
    SwitchingSubgradientClassifier,
    UnconstrainedClassifier,
)
from .exceptions import FitInterruptedWarning

__all__ = [
    "ALMClassifier",
    "Constraint",
    "FitInterruptedWarning",
    "PenaltyClassifier",
    "SSLALMClassifier",
    "Statistic",
    "StochasticGhostClassifier",
    "SwitchingSubgradientClassifier",
    "UnconstrainedClassifier",
    "__version__",
]
