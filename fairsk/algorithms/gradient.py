r"""Plain stochastic gradient descent on the objective: the unconstrained baseline.

.. math:: \theta \leftarrow \theta - \tau \nabla f(\theta; \xi)

taken by the engine's primal optimizer (:class:`~fairsk.optim.LeanSGD` by default;
any torch optimizer through ``optimizer=``).
"""

from __future__ import annotations

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
    batched = True

    def gradients(self, batch):
        """Compute the objective rows' mean loss and its gradient."""
        logits = self.problem.forward(batch.rows_X)
        f, _ = self.problem.losses(logits, batch)
        self._backward(f.sum())
        return f.detach(), logits[..., : batch.n_obj].detach()
