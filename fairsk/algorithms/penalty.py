r"""Fixed-weight penalty: the fairness regulariser baseline.

Each step minimises

.. math::

    f(\theta; \xi) + w \sum_j \big[c_j(\theta; \zeta)\big]_+^p,

the minibatch loss plus a fixed weight times the (hinge, ``p = 1``, or squared
hinge, ``p = 2``) constraint violation on a balanced per-group sample
:math:`\zeta`. With bound 0 and ``p = 1`` this is the group-gap norm that fairret's
``NormLoss`` adds to the loss (the paper's "SGD + fairret" baseline); unlike a
Lagrangian method the weight never adapts, so feasibility is not guaranteed. Any
torch optimizer may take the step (``optimizer=``).
"""

from __future__ import annotations

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, Options

from ..settings import Setting
from .base import Algorithm

__all__ = ["Penalty"]


class Penalty(Algorithm):
    """Minimise loss plus a fixed multiple of the constraint violation.

    Parameters
    ----------
    n_constraints : int
        Number of constraint rows.
    **settings
        ``penalty_weight`` and ``penalty_power`` (see :attr:`settings`).

    Examples
    --------
    >>> Penalty(2, penalty_weight=0.5).penalty(torch.tensor([0.5, -1.0])).item()
    0.25
    """

    settings = {
        "penalty_weight": Setting(
            1.0, [Interval(Real, 0, None, closed="left")], "float", ":math:`w`."
        ),
        "penalty_power": Setting(
            1,
            [Options(Integral, {1, 2})],
            "{1, 2}",
            ":math:`p`: hinge (1) or squared hinge (2).",
        ),
    }
    n_draws = 1
    batched = True

    def penalty(self, c: torch.Tensor) -> torch.Tensor:
        r""":math:`w \sum_j [c_j]_+^p`."""
        hinge = c.clamp_min(0)
        if self.penalty_power == 2:
            hinge = hinge * hinge
        return self.penalty_weight * hinge.sum()

    def gradients(self, batch):
        """Loss + penalty, both from one forward pass, and its gradient."""
        logits = self.problem.forward(batch.rows_X)
        f, c = self.problem.losses(logits, batch)
        self._backward(f.sum() + self.penalty(c[..., 0, :]))
        with torch.no_grad():
            self._c_sum.add_(c[..., 0, :])
        return f.detach(), logits[..., : batch.n_obj].detach()
