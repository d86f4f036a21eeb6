"""The scikit-learn classifiers users import; one module per family."""

from .base import BaseFairClassifier, classifier_for
from .ghost import StochasticGhostClassifier
from .lagrangian import ALMClassifier, SSLALMClassifier
from .penalty import PenaltyClassifier
from .switching import SwitchingSubgradientClassifier
from .unconstrained import UnconstrainedClassifier

__all__ = [
    "ALMClassifier",
    "BaseFairClassifier",
    "PenaltyClassifier",
    "SSLALMClassifier",
    "StochasticGhostClassifier",
    "SwitchingSubgradientClassifier",
    "UnconstrainedClassifier",
    "classifier_for",
]
