"""Update rules: pure PyTorch, no scikit-learn.

See :class:`~fairsk.algorithms.base.Algorithm` for the interface.
"""

from .base import Algorithm
from .gradient import GradientDescent
from .lagrangian import SSLALM
from .penalty import Penalty

__all__ = ["SSLALM", "Algorithm", "GradientDescent", "Penalty"]
