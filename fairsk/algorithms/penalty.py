r"""Fixed-weight penalty: the fairness regulariser baseline.

Each step minimises

.. math::

    f(\theta; \xi) + w \sum_j \big[c_j(\theta; \zeta)\big]_+^p,

the minibatch loss plus a fixed weight times the (hinge, ``p = 1``, or squared
hinge, ``p = 2``) constraint violation on a balanced per-group sample
:math:`\zeta`. With bound 0 and ``p = 1`` this is the group-gap norm that fairret's
``NormLoss`` adds to the loss (the paper's "SGD + fairret" baseline); unlike a
Lagrangian method the weight never adapts, so feasibility is not guaranteed.
"""

from __future__ import annotations

import torch

from .base import Algorithm

__all__ = ["Penalty"]


class Penalty(Algorithm):
    """Minimise loss plus a fixed multiple of the constraint violation.

    Parameters
    ----------
    n_constraints : int
        Number of constraint rows.
    param_shapes : sequence of torch.Size
        Unused (kept for a uniform constructor).
    weight : float, default=1.0
        :math:`w`, the weight of the penalty.
    power : {1, 2}, default=1
        :math:`p`: hinge or squared hinge.

    Examples
    --------
    >>> Penalty(2, weight=0.5).weight
    0.5
    """

    def __init__(self, n_constraints, param_shapes=(), *, weight=1.0, power=1):
        super().__init__(n_constraints, param_shapes)
        self.weight = float(weight)
        self.power = int(power)

    def penalty(self, c: torch.Tensor) -> torch.Tensor:
        r""":math:`w \sum_j [c_j]_+^p`."""
        hinge = c.clamp_min(0)
        if self.power == 2:
            hinge = hinge * hinge
        return self.weight * hinge.sum()

    n_draws = 1

    def step_batch(self, batch) -> torch.Tensor:
        """One step on loss + penalty, both from one forward pass."""
        f, c = self.problem.losses(self.problem.module(batch.X), batch)
        self._primal_step(f + self.penalty(c[0]))
        self._count(f)
        return f
