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
    n_draws = 0

    def step_batch(self, batch) -> torch.Tensor:
        """One gradient step on the batch's objective rows."""
        f, _ = self.problem.losses(self.problem.module(batch.X), batch)
        self._primal_step(f)
        self._count(f)
        return f
