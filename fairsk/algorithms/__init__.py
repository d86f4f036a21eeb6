"""Update rules: pure PyTorch, no scikit-learn.

See :class:`~fairsk.algorithms.base.Algorithm` for the interface.
"""

from .base import Algorithm
from .dual import DualUpdate
from .ghost import StochasticGhost
from .gradient import GradientDescent
from .lagrangian import SSLALM
from .penalty import Penalty
from .switching import SwitchingSubgradient

__all__ = [
    "SSLALM",
    "Algorithm",
    "DualUpdate",
    "GradientDescent",
    "Penalty",
    "StochasticGhost",
    "SwitchingSubgradient",
]
