"""The scikit-learn classifiers users import; one module per family."""

from .base import BaseFairClassifier
from .lagrangian import ALMClassifier, SSLALMClassifier
from .penalty import PenaltyClassifier
from .unconstrained import UnconstrainedClassifier

__all__ = [
    "ALMClassifier",
    "BaseFairClassifier",
    "PenaltyClassifier",
    "SSLALMClassifier",
    "UnconstrainedClassifier",
]
