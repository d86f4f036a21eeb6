r"""Stochastic smoothed linearized augmented Lagrangian (SSL-ALM), and ALM.

Huang, Zhang & Alacaoglu (2025), *Stochastic Smoothed Primal-Dual Algorithms for
Nonconvex Optimization with Linear Inequality Constraints*, arXiv:2504.07607; as
benchmarked by Kliachkin et al. (2025), arXiv:2507.04033.

Slack variables :math:`s \ge 0` turn the inequalities into equalities
:math:`\tilde c(x) = c(\theta) + s = 0` over :math:`x = (\theta, s)`. With anchor
:math:`z_0 = x_0` and multipliers :math:`\lambda_0 = 0`, each step

1. draws a constraint sample :math:`\zeta^1` and ascends
   :math:`\lambda \leftarrow \lambda + \eta\,\tilde c(x; \zeta^1)`; safeguard: every
   :math:`\lambda_j \ge \lambda_{\max}` is reset to 0;
2. draws an objective minibatch :math:`\xi`, :math:`g = \nabla f(\theta; \xi)`
   (zero for :math:`s`);
3. forms :math:`J`, the Jacobian of :math:`\tilde c(x; \zeta^1)` (row *j*:
   :math:`[\nabla_\theta c_j, e_j]`);
4. draws an independent constraint sample :math:`\zeta^2` and evaluates
   :math:`\tilde c_2 = \tilde c(x; \zeta^2)` without gradient;
5. :math:`G = g + J^\top\lambda + \rho J^\top \tilde c_2 + \mu (x - z)`;
6. :math:`x \leftarrow \Pi_{s \ge 0}(x - \tau G)`,
   :math:`z \leftarrow z + \beta (x_{\text{old}} - z)`.

The multiplier step (1.) and the weight :math:`\lambda + \rho\tilde c_2` of step 5 are
the default rule (``"ascent"``) of :mod:`fairsk.algorithms.dual`; ``dual_update``
swaps in another (momentum, augmented, iALM, nuPI, PBM): it returns the weights
:math:`w` of the constraint gradients, :math:`G = g + J^\top w + \mu(x - z)`, and
rules that treat the inequalities directly keep the slack at zero.

Steps 2–5 cost one forward and one backward pass: :math:`G_\theta` is the gradient of
the scalar :math:`f(\theta;\xi) + (\lambda + \rho\tilde c_2)^\top c(\theta;\zeta^1)`
(the weights held constant), computed over the objective minibatch and both
constraint samples stacked together, and :math:`G_s = \lambda + \rho\tilde c_2 +
\mu(s - z_s)`. ALM is the same method with :math:`\mu = 0, \beta = 1` (no smoothing).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .base import Algorithm
from .dual import DualUpdate, make_dual_update

__all__ = ["SSLALM"]


def _flatten(tensors: list[torch.Tensor]) -> torch.Tensor:
    """One contiguous buffer holding ``tensors``, each made a view into it.

    The tensors keep their identity (parameters stay the optimizer's leaves);
    their ``.data`` moves into the buffer, so in-place updates of either are seen
    by both.
    """
    flat = torch.cat([t.detach().reshape(-1) for t in tensors])
    offset = 0
    for t in tensors:
        n = t.numel()
        t.data = flat[offset : offset + n].view_as(t)
        offset += n
    return flat


class SSLALM(Algorithm):
    r"""SSL-ALM update rule (ALM when ``smoothing=0`` and ``anchor_rate=1``).

    Parameters
    ----------
    n_constraints : int
        Number of constraint rows ``m``.
    param_shapes : sequence of torch.Size
        Shapes of the model parameters (the anchor :math:`z_\theta` mirrors them).
    dual_lr : float, default=0.05
        :math:`\eta`, the multiplier step.
    penalty : float, default=1.0
        :math:`\rho`, the augmented-Lagrangian penalty.
    smoothing : float, default=2.0
        :math:`\mu`, the weight of the proximal term pulling ``x`` to the anchor.
    anchor_rate : float, default=0.5
        :math:`\beta`, how fast the anchor follows the iterate.
    multiplier_max : float, default=10.0
        :math:`\lambda_{\max}`, the safeguard threshold.
    dual_update : str, DualUpdate or None, default=None
        The multiplier rule (:mod:`fairsk.algorithms.dual`); ``None`` is
        ``"ascent"``, the SSL-ALM step above. Its ``dual_lr``, ``penalty`` and
        ``multiplier_max`` left at ``None`` take the values above.

    Attributes
    ----------
    multipliers : torch.Tensor of shape (m,)
        :math:`\lambda`.
    slack : torch.Tensor of shape (m,)
        :math:`s`.
    dual : DualUpdate
        The multiplier rule and its state.

    Examples
    --------
    >>> alg = SSLALM(2, [])
    >>> alg.multipliers.tolist(), alg.slack.tolist()
    ([0.0, 0.0], [0.0, 0.0])
    """

    def __init__(
        self,
        n_constraints: int,
        param_shapes: Sequence[torch.Size] = (),
        *,
        dual_lr: float = 0.05,
        penalty: float = 1.0,
        smoothing: float = 2.0,
        anchor_rate: float = 0.5,
        multiplier_max: float = 10.0,
        dual_update: str | DualUpdate | None = None,
    ):
        super().__init__(n_constraints, param_shapes)
        self.dual_lr = float(dual_lr)
        self.penalty = float(penalty)
        self.smoothing = float(smoothing)
        self.anchor_rate = float(anchor_rate)
        self.multiplier_max = float(multiplier_max)
        m = self.n_constraints
        self.register_buffer("multipliers", torch.zeros(m))
        self.register_buffer("slack", torch.zeros(m))
        self.register_buffer("anchor_slack", torch.zeros(m))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))
        self.dual = make_dual_update(dual_update).setup(m)
        self._smoothed = self.smoothing != 0.0
        self.anchors = []
        if self._smoothed:
            for i, shape in enumerate(param_shapes):
                self.register_buffer(f"anchor_{i}", torch.zeros(shape))
            self.anchors = [
                getattr(self, f"anchor_{i}") for i in range(len(param_shapes))
            ]

    def _apply(self, fn, recurse=True):
        # Keep the list of anchors pointing at the (moved) buffers.
        out = super()._apply(fn, recurse)
        if self._smoothed:
            self.anchors = [
                getattr(self, f"anchor_{i}") for i in range(len(self.anchors))
            ]
        return out

    def __setattr__(self, name, value):
        # A warm start re-sets the estimator's parameters on the algorithm: take a
        # new rule's hyperparameters, keep its state.
        if name == "dual_update":
            new = make_dual_update(value)
            if type(new) is not type(self.dual):
                raise ValueError(
                    "dual_update cannot change its rule on a warm start; refit "
                    "with warm_start=False."
                )
            self.dual.set_params(**new.get_params())
            return
        super().__setattr__(name, value)

    def bind(self, problem, optimizer) -> None:
        """Attach, and on the first call set the anchor ``z_0 = x_0``."""
        super().bind(problem, optimizer)
        self.dual.configure(
            dual_lr=self.dual_lr,
            penalty=self.penalty,
            multiplier_max=self.multiplier_max,
        )
        if not bool(self.initialized):
            with torch.no_grad():
                if self._smoothed:
                    torch._foreach_copy_(self.anchors, self.params)
                self.anchor_slack.copy_(self.slack)
            self.initialized.fill_(True)
        if self._smoothed:
            # x = (θ, s) and z = (z_θ, z_s) each in one contiguous buffer, the
            # tensors views into it: the smoothing's three updates are then one
            # kernel each, not one per tensor (they cost 5% of a small step).
            self._xf = _flatten([*self.params, self.slack])
            self._zf = _flatten([*self.anchors, self.anchor_slack])
        m, like = self.n_constraints, self.multipliers
        # Coefficients of the loss over [f, c¹, c²]: 1, the weight, zeros.
        self._coef = like.new_zeros(1 + 2 * m)
        self._coef[0] = 1.0
        self._acc = like.new_zeros(1 + 2 * m)

    n_draws = 2

    def step_batch(self, batch) -> torch.Tensor:
        """One SSL-ALM step (see the module docstring for the six stages)."""
        # Attributes read once into locals: buffers and submodules of an
        # nn.Module are found through its Python __getattr__, each step.
        problem, rule, slack, m = (
            self.problem,
            self.dual,
            self.slack,
            self.n_constraints,
        )
        out = problem.terms(problem.module(batch.X), batch)  # [f, c¹, c²]
        with torch.no_grad():
            ct = out[1:].view(2, m)
            if rule.uses_slack:
                ct = ct + slack  # c̃(x; ζ¹), c̃(x; ζ²)
            # 1. and the weight of 5.; by default λ += η c̃₁ with the safeguard,
            # and weight = λ + ρ c̃₂.
            weight = rule.step(self.multipliers, ct[0], ct[1])
            # loss = f + weightᵀ c(ζ¹): coefficients over [f, c¹, c²].
            coef = self._coef
            coef[1 : 1 + m].copy_(weight)
            self._acc.add_(out)
        loss = torch.dot(coef, out)
        self.optimizer.zero_grad()
        loss.backward()  # 2-5: G_θ without the proximal term
        with torch.no_grad():
            lr = self.lr
            if self._smoothed:
                gap = self._xf - self._zf  # x_old − z, for θ and s
                # 6. z ← z + β (x_old − z), before x moves.
                self._zf.add_(gap, alpha=self.anchor_rate)
            self._optimizer_step()  # θ ← θ − τ (∇_θ + weight decay)
            if self._smoothed:
                # The proximal part of G_θ and G_s: μ (x_old − z).
                self._xf.add_(gap, alpha=-lr * self.smoothing)
            # s ← Π_{s≥0}(s − τ G_s), G_s = λ + ρ c̃₂ + μ (s − z_s): the rest of it.
            if rule.uses_slack:
                slack.sub_(weight, alpha=lr).clamp_(min=0.0)
        self._epoch_steps.add_(1)  # in place: no Module.__setattr__ per step
        return out[0]

    def start_epoch(self) -> None:
        """Reset the accumulators."""
        super().start_epoch()
        self._acc.zero_()

    def end_epoch(self) -> dict:
        """Summary: mean minibatch loss and constraints, multipliers, slack."""
        self._loss_sum.copy_(self._acc[0])
        steps = max(float(self._epoch_steps), 1.0)
        out = super().end_epoch()
        out["train_constraints"] = (
            self._acc[1 : 1 + self.n_constraints] / steps
        ).tolist()
        out["multipliers"] = self.multipliers.tolist()
        out["slack"] = self.slack.tolist()
        out.update(self.dual.summary())
        return out

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Multipliers and slack must stay finite."""
        return {
            "multipliers": self.multipliers,
            "slack": self.slack,
            **self.dual.state_tensors(),
        }
