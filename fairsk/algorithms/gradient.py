r"""Plain stochastic gradient descent on the objective: the unconstrained baseline.

.. math:: \theta \leftarrow \theta - \tau \nabla f(\theta; \xi)

taken by the engine's primal optimizer (:class:`torch.optim.SGD` by default).
"""

from __future__ import annotations

import torch

from .base import Algorithm

__all__ = ["GradientDescent"]


class GradientDescent(Algorithm):
    """Minimise the objective only, ignoring constraints.

    Examples
    --------
    >>> GradientDescent(n_constraints=0).uses_constraints
    False
    """

    uses_constraints = False

    def step(self, idx: torch.Tensor) -> torch.Tensor:
        """One gradient step on the minibatch ``idx``."""
        problem = self.problem
        f = problem.objective(problem.module(problem.data.X[idx]), idx)
        self._primal_step(f)
        self._count(f)
        return f
