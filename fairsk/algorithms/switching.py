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
primal optimizer's step (exact for SGD, which is why this rule takes no other
``optimizer``; the optimizer then adds its weight decay :math:`\alpha\theta` at the
rate ``lr``, on either branch). The
objective branch's base step is the optimizer's ``lr``; the constraint branch's is
``constraint_lr``; a learning-rate schedule (the estimator's ``lr_schedule``, an
``LRScheduler``) scales both alike, relative to the step at the start of the fit.
"""

from __future__ import annotations

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ..optim import take_step
from ..settings import Setting
from .base import Algorithm

__all__ = ["STEP_RULES", "SwitchingSubgradient"]

#: Step-size rules available to each branch.
STEP_RULES = ("constant", "inv_sqrt", "polyak")


class SwitchingSubgradient(Algorithm):
    r"""Stochastic switching subgradient update rule.

    Built as every :class:`~fairsk.algorithms.Algorithm`, from the number of
    constraint rows ``m`` and the hyperparameters of :attr:`settings`.

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

    settings = {
        "tolerance": Setting(
            0.035,
            [Interval(Real, 0, None, closed="left")],
            "float",
            r""":math:`\varepsilon \ge 0`: step on the constraint when the sampled
            largest constraint value reaches it.""",
        ),
        "constraint_lr": Setting(
            0.05,
            [Interval(Real, 0, None, closed="neither")],
            "float",
            r":math:`\eta_c`, base step of the constraint branch.",
        ),
        "step_rule": Setting(
            "constant",
            [StrOptions(set(STEP_RULES))],
            '{"constant", "inv_sqrt", "polyak"}',
            r"""Step rule of the objective branch: ``lr``, ``lr / sqrt(k)``, or
            Polyak's :math:`\min(f/\|\nabla f\|^2, \text{lr})`.""",
        ),
        "constraint_step_rule": Setting(
            "constant",
            [StrOptions(set(STEP_RULES))],
            '{"constant", "inv_sqrt", "polyak"}',
            r"""Step rule of the constraint branch (Polyak:
            :math:`\min(c_{\max}/\|\nabla c_{j^*}\|^2, \eta_c)`).""",
        ),
        "tolerance_decay": Setting(
            1.0,
            [Interval(Real, 0, 1, closed="right")],
            "float",
            """Factor applied to the tolerance per step after
            ``tolerance_decay_after`` steps of an epoch (the reference code's
            heuristic uses 0.97; 1 disables).""",
        ),
        "tolerance_decay_after": Setting(
            800,
            [Interval(Integral, 0, None, closed="left")],
            "int",
            "Steps of an epoch before the tolerance starts to shrink.",
        ),
    }
    #: A minibatch estimate of a loss gap from 16 rows per (group, label) cell
    #: has a standard deviation near 0.13: larger samples make the switch
    #: informative, and the objective, taking about two fifths of the steps, gets
    #: a larger step (see SwitchingSubgradientClassifier).
    shared_defaults = {"lr": 0.1, "constraint_batch_size": 256}
    #: Constraint samples per step: the switching sample and the gradient sample.
    n_draws = 2
    #: Held out: the switch on a held-out sample, the gradient on the training
    #: rows' sample.
    holdout_draws = (1, 1)
    any_optimizer = False

    def __init__(self, n_constraints: int = 0, **settings):
        super().__init__(n_constraints, **settings)
        self.register_buffer("current_tolerance", torch.tensor(float(self.tolerance)))
        self.register_buffer("_constraint_steps", torch.zeros(()), persistent=False)

    def bind(self, problem, optimizer, lr) -> None:
        """Attach; the base step ``lr`` lets a schedule scale both branches."""
        super().bind(problem, optimizer, lr)
        like = self.current_tolerance
        self._one = like.new_ones(())
        self._coef = like.new_zeros(1 + 2 * self.n_constraints)

    @staticmethod
    def _step_size(rule: str, base: float, k, value, sq_norm) -> torch.Tensor:
        """Step of one branch as a device tensor (no sync)."""
        if rule == "inv_sqrt":
            return base * torch.rsqrt(k)
        if rule == "polyak":
            step = value.clamp(min=0.0) / sq_norm.clamp(min=1e-12)
            return step.clamp(max=base)
        return torch.full_like(k, base)

    def gradients(self, batch):
        """One switching step's gradient (see the module docstring).

        The loss is ``dot(coef, [f, c(ζ¹), c(ζ²)])`` with a one-hot ``coef``
        chosen on the device: the objective, or the most violated row on the
        independent sample. Constant and 1/√k steps are folded into ``coef`` (the
        gradient comes out already scaled); a Polyak step needs the gradient's
        norm, so it scales the gradient after the backward pass.
        """
        problem, m = self.problem, self.n_constraints
        logits = problem.forward(batch.rows_X)
        out = problem.terms(logits, batch)  # [f, c(ζ¹), c(ζ²)]
        polyak = "polyak" in (self.step_rule, self.constraint_step_rule)
        switch, grad = (2, 1) if self.held_out else (1, 2)  # rows of the samples
        with torch.no_grad():
            od = out.detach()
            c_max, j = od[1 + (switch - 1) * m : 1 + switch * m].max(0)
            on_constraint = c_max >= self.current_tolerance
            lr = self.lr
            if polyak:
                weight = self._one
            elif self.step_rule == self.constraint_step_rule == "constant":
                ratio = self.constraint_lr / self.base_lr  # η_c / lr: schedules cancel
                weight = torch.where(on_constraint, ratio, 1.0)
            else:
                k = self.n_steps + self._epoch_steps + 1.0
                eta_f = self._step_size(self.step_rule, lr, k, None, None)
                eta_c = self._step_size(
                    self.constraint_step_rule,
                    self.constraint_lr * lr / self.base_lr,  # schedules scale both
                    k,
                    None,
                    None,
                )
                weight = torch.where(on_constraint, eta_c, eta_f) / lr
            pos = torch.where(on_constraint, j + 1 + (grad - 1) * m, 0)
            self._coef.zero_().scatter_(0, pos.view(1), weight.view(1))
            self._c_sum.add_(od[1 + (switch - 1) * m : 1 + switch * m])
            self._constraint_steps.add_(on_constraint)
        self._backward(torch.dot(self._coef, out))
        if polyak:
            with torch.no_grad():
                self._scale_polyak(od[0], c_max, on_constraint)
        return od[0], logits[: batch.n_obj].detach()

    def apply(self) -> None:
        """Take the primal step; then decay the tolerance."""
        take_step(self.optimizer)
        if self.tolerance_decay != 1.0:
            late = self._epoch_steps + 1 > self.tolerance_decay_after
            self.current_tolerance.mul_(torch.where(late, self.tolerance_decay, 1.0))
        self._epoch_steps.add_(1)  # in place: no Module.__setattr__ per step

    def _scale_polyak(self, f, c_max, on_constraint) -> None:
        """Scale the chosen branch's gradient by its step over the base ``lr``."""
        grads = [p.grad for p in self.params if p.grad is not None]
        sq_norm = torch.stack(torch._foreach_norm(grads)).square().sum()
        k = self.n_steps + self._epoch_steps + 1.0
        lr = self.lr
        eta_f = self._step_size(self.step_rule, lr, k, f, sq_norm)
        eta_c = self._step_size(
            self.constraint_step_rule,
            self.constraint_lr * lr / self.base_lr,
            k,
            c_max,
            sq_norm,
        )
        torch._foreach_mul_(grads, torch.where(on_constraint, eta_c, eta_f) / lr)

    def start_epoch(self) -> None:
        """Reset the accumulators and the tolerance."""
        super().start_epoch()
        self._constraint_steps.zero_()
        self.current_tolerance.fill_(self.tolerance)

    def end_epoch(self) -> dict:
        """Summary: steps on each branch, the tolerance, the sampled constraints."""
        steps = float(self._epoch_steps)
        n_con = float(self._constraint_steps)
        out = super().end_epoch()
        out["constraint_steps"] = int(n_con)
        out["objective_steps"] = int(steps - n_con)
        out["tolerance"] = float(self.current_tolerance)
        return out
