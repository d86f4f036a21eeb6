r"""Stochastic switching subgradient (SSG).

Huang & Lin (2023), *Oracle Complexity of Single-Loop Switching Subgradient Methods
for Non-Smooth Weakly Convex Functional Constrained Optimization*, NeurIPS; as
benchmarked by Kliachkin et al. (2025), arXiv:2507.04033.

Each step estimates every constraint on a fresh balanced sample :math:`\zeta^1`,
:math:`c_{\max} = \max_j c_j(\theta;\zeta^1)`, and takes **one** of two steps:

.. math::

    \theta \leftarrow \begin{cases}
        \theta - \eta_c\, \nabla c_{j^*}(\theta; \zeta^2) &
            c_{\max} \ge \varepsilon \quad (j^* = \arg\max_j c_j(\theta;\zeta^1)) \\
        \theta - \eta_f\, \nabla f(\theta; \xi) & \text{otherwise,}
    \end{cases}

the constraint gradient being taken on an independent balanced sample
:math:`\zeta^2` (so the switch and the step are not correlated). Step rules, for
each branch (base step :math:`\eta`, :math:`k` the step count from 1):

- ``"constant"``: :math:`\eta`;
- ``"inv_sqrt"``: :math:`\eta/\sqrt{k}`;
- ``"polyak"``: :math:`\min(v/\|g\|^2, \eta)` with :math:`g` the branch's gradient
  and :math:`v = c_{\max}` on the constraint branch (Polyak's step for a target
  value 0) or :math:`v = f(\theta;\xi)` on the objective branch (target 0, a lower
  bound of the cross-entropy); the cap :math:`\eta` keeps a vanishing gradient
  from producing a huge step.

The reference implementation also shrinks the tolerance,
:math:`\varepsilon \leftarrow 0.97\,\varepsilon` per step after 800 steps of an
epoch (``tolerance_decay=0.97, tolerance_decay_after=800``); here the tolerance
starts again from :math:`\varepsilon` at each epoch.

**No host synchronisation.** One forward pass covers the step's gathered rows:
the objective minibatch :math:`\xi` and both constraint samples
(:meth:`FairProblem.losses` on a :class:`~fairsk.problem.Batch` with two draws).
The branch is chosen on the device: the loss is
``where(c_max >= eps, c_{j*}(ζ²), f(ξ))``, whose gradient is the chosen branch's,
and the step size is applied by scaling that gradient by ``step / lr`` before the
primal optimizer's step (exact for SGD; the engine's optimizer then adds its weight
decay :math:`\alpha\theta` at the rate ``lr``, on either branch). The
objective branch's base step is the optimizer's ``lr``; the constraint branch's is
``constraint_lr``; a learning-rate schedule (the estimator's ``lr_schedule``, an
``LRScheduler``) scales both alike, relative to the step at the start of the fit.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .base import Algorithm

__all__ = ["STEP_RULES", "SwitchingSubgradient"]

#: Step-size rules available to each branch.
STEP_RULES = ("constant", "inv_sqrt", "polyak")


class SwitchingSubgradient(Algorithm):
    r"""Stochastic switching subgradient update rule.

    Parameters
    ----------
    n_constraints : int
        Number of constraint rows ``m``.
    param_shapes : sequence of torch.Size
        Unused (uniform constructor).
    tolerance : float, default=1e-4
        :math:`\varepsilon \ge 0`: a constraint step is taken when the sampled
        :math:`c_{\max} \ge \varepsilon`.
    constraint_lr : float, default=0.05
        :math:`\eta_c`, base step of the constraint branch.
    step_rule : {"constant", "inv_sqrt", "polyak"}, default="constant"
        Step rule of the objective branch (base step: the optimizer's ``lr``).
    constraint_step_rule : {"constant", "inv_sqrt", "polyak"}, default="constant"
        Step rule of the constraint branch.
    tolerance_decay : float, default=1.0
        Factor applied to the tolerance per step once ``tolerance_decay_after``
        steps of the epoch have passed (1 disables the heuristic).
    tolerance_decay_after : int, default=800
        Steps of an epoch before the tolerance starts to shrink.

    Attributes
    ----------
    current_tolerance : torch.Tensor
        The tolerance in force.

    Examples
    --------
    >>> alg = SwitchingSubgradient(2, tolerance=0.01, constraint_step_rule="polyak")
    >>> float(alg.current_tolerance)
    0.01
    """

    def __init__(
        self,
        n_constraints: int,
        param_shapes: Sequence[torch.Size] = (),
        *,
        tolerance: float = 1e-4,
        constraint_lr: float = 0.05,
        step_rule: str = "constant",
        constraint_step_rule: str = "constant",
        tolerance_decay: float = 1.0,
        tolerance_decay_after: int = 800,
    ):
        super().__init__(n_constraints, param_shapes)
        for name, rule in (
            ("step_rule", step_rule),
            ("constraint_step_rule", constraint_step_rule),
        ):
            if rule not in STEP_RULES:
                raise ValueError(f"{name} must be one of {STEP_RULES}, got {rule!r}.")
        self.tolerance = float(tolerance)
        self.constraint_lr = float(constraint_lr)
        self.step_rule = step_rule
        self.constraint_step_rule = constraint_step_rule
        self.tolerance_decay = float(tolerance_decay)
        self.tolerance_decay_after = int(tolerance_decay_after)
        self.register_buffer("current_tolerance", torch.tensor(self.tolerance))
        self.register_buffer("_constraint_steps", torch.zeros(()), persistent=False)

    def bind(self, problem, optimizer) -> None:
        """Attach; remember the base step so that schedules scale both branches."""
        super().bind(problem, optimizer)
        self._base_lr = self.lr
        like = self.current_tolerance
        self._one = like.new_ones(())
        self._coef = like.new_zeros(1 + 2 * self.n_constraints)
        self._acc = like.new_zeros(1 + 2 * self.n_constraints)

    @staticmethod
    def _step_size(rule: str, base: float, k, value, sq_norm) -> torch.Tensor:
        """Step of one branch as a device tensor (no sync)."""
        if rule == "inv_sqrt":
            return base * torch.rsqrt(k)
        if rule == "polyak":
            step = value.clamp(min=0.0) / sq_norm.clamp(min=1e-12)
            return step.clamp(max=base)
        return torch.full_like(k, base)

    #: Constraint samples per step: the switching sample and the gradient sample.
    n_draws = 2

    def step_batch(self, batch) -> torch.Tensor:
        """One switching step on a gathered batch (see the module docstring).

        The loss is ``dot(coef, [f, c(ζ¹), c(ζ²)])`` with a one-hot ``coef``
        chosen on the device: the objective, or the most violated row on the
        independent sample. Constant and 1/√k steps are folded into ``coef`` (the
        gradient comes out already scaled); a Polyak step needs the gradient's
        norm, so it scales the gradient after the backward pass.
        """
        problem, m = self.problem, self.n_constraints
        out = problem.terms(problem.module(batch.X), batch)  # [f, c(ζ¹), c(ζ²)]
        polyak = "polyak" in (self.step_rule, self.constraint_step_rule)
        with torch.no_grad():
            od = out.detach()
            c_max, j = od[1 : 1 + m].max(0)
            on_constraint = c_max >= self.current_tolerance
            lr = self.lr
            if polyak:
                weight = self._one
            elif self.step_rule == self.constraint_step_rule == "constant":
                ratio = self.constraint_lr / self._base_lr  # η_c / lr, schedules cancel
                weight = torch.where(on_constraint, ratio, 1.0)
            else:
                k = self.n_steps + self._epoch_steps + 1.0
                eta_f = self._step_size(self.step_rule, lr, k, None, None)
                eta_c = self._step_size(
                    self.constraint_step_rule,
                    self.constraint_lr * lr / self._base_lr,  # schedules scale both
                    k,
                    None,
                    None,
                )
                weight = torch.where(on_constraint, eta_c, eta_f) / lr
            pos = torch.where(on_constraint, j + 1 + m, 0)
            self._coef.zero_().scatter_(0, pos.view(1), weight.view(1))
            self._acc.add_(od)
            self._constraint_steps.add_(on_constraint)
        self.optimizer.zero_grad()
        torch.dot(self._coef, out).backward()
        with torch.no_grad():
            if polyak:
                self._scale_polyak(od[0], c_max, on_constraint)
            self._optimizer_step()
            if self.tolerance_decay != 1.0:
                late = self._epoch_steps + 1 > self.tolerance_decay_after
                self.current_tolerance.mul_(
                    torch.where(late, self.tolerance_decay, 1.0)
                )
        self._epoch_steps.add_(1)  # in place: no Module.__setattr__ per step
        return od[0]

    def _scale_polyak(self, f, c_max, on_constraint) -> None:
        """Scale the chosen branch's gradient by its step over the base ``lr``."""
        grads = [p.grad for p in self.params if p.grad is not None]
        sq_norm = torch.stack(torch._foreach_norm(grads)).square().sum()
        k = self.n_steps + self._epoch_steps + 1.0
        lr = self.lr
        eta_f = self._step_size(self.step_rule, lr, k, f, sq_norm)
        eta_c = self._step_size(
            self.constraint_step_rule,
            self.constraint_lr * lr / self._base_lr,
            k,
            c_max,
            sq_norm,
        )
        torch._foreach_mul_(grads, torch.where(on_constraint, eta_c, eta_f) / lr)

    def start_epoch(self) -> None:
        """Reset the accumulators and the tolerance."""
        super().start_epoch()
        self._acc.zero_()
        self._constraint_steps.zero_()
        self.current_tolerance.fill_(self.tolerance)

    def end_epoch(self) -> dict:
        """Summary: steps on each branch, the tolerance, the sampled constraints."""
        steps = float(self._epoch_steps)
        n_con = float(self._constraint_steps)
        self._loss_sum.copy_(self._acc[0])
        out = super().end_epoch()
        out["constraint_steps"] = int(n_con)
        out["objective_steps"] = int(steps - n_con)
        out["tolerance"] = float(self.current_tolerance)
        m = self.n_constraints
        out["train_constraints"] = (self._acc[1 : 1 + m] / max(steps, 1.0)).tolist()
        return out
