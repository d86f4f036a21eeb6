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

The multiplier step (1.) and the weight :math:`w = \lambda + \rho\tilde c_2` of
step 5 are the default rule (``"ascent"``) of :mod:`fairsk.algorithms.dual`;
``dual_update`` swaps in another (momentum, augmented, iALM, nuPI, PBM); rules
that treat the inequalities directly keep the slack at zero.

How the pieces map onto PyTorch: steps 2-5 without the proximal term are one
forward and one backward pass, of :math:`f(\theta;\xi) + w^\top c(\theta;\zeta^1)`
(``w`` held constant) over the objective minibatch and both constraint samples
stacked together; the slack is a parameter whose gradient is :math:`w`. The
proximal term and the anchor of steps 5-6 are
:class:`~fairsk.optim.MoreauEnvelope` around the primal optimizer (plain SGD by
default: :math:`x \leftarrow x - \tau G`), and the projection clips the slack at
zero after the step. ALM is the same method with :math:`\mu = 0` (no envelope).
Any torch optimizer may take the primal step (``optimizer=``): the envelope
wraps it, as humancompatible-train's ``MoreauEnvelope`` does.
"""

from __future__ import annotations

from numbers import Real
from typing import NamedTuple

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..optim import MoreauEnvelope, take_step
from ..settings import Setting
from .base import Algorithm
from .dual import DUAL_UPDATES, INHERITED_SETTINGS, DualUpdate, make_dual_update

__all__ = ["SSLALM"]


class _StepRefs(NamedTuple):
    """The tensors every step reads, looked up once per fit.

    An :class:`torch.nn.Module` finds its buffers and submodules through a
    Python ``__getattr__``, and each extra indexing operation costs a few µs of a
    ~0.4 ms step; the views below are taken once instead.
    """

    multipliers: torch.Tensor
    slack: torch.Tensor | None  # None when the rule keeps no slack
    c_sum: torch.Tensor
    weight_slot: torch.Tensor  # the coefficients of c(ζ¹), training rows
    coef: torch.Tensor  # [1, w, 0, ...] over a step's terms (set at the first)
    epoch_steps: torch.Tensor


class SSLALM(Algorithm):
    r"""SSL-ALM update rule (ALM when ``smoothing=0``).

    Parameters
    ----------
    n_constraints : int
        Number of constraint rows ``m``.
    **settings
        See :attr:`settings` (``dual_lr``, ``penalty``, ``smoothing``,
        ``anchor_rate``, ``multiplier_max``, ``dual_update``).

    Attributes
    ----------
    multipliers : torch.Tensor of shape (m,)
        :math:`\lambda`.
    slack : torch.nn.Parameter of shape (m,)
        :math:`s`.
    dual : DualUpdate
        The multiplier rule and its state.

    Examples
    --------
    >>> alg = SSLALM(2, dual_lr=0.1)
    >>> alg.multipliers.tolist(), alg.slack.tolist(), alg.dual_lr
    ([0.0, 0.0], [0.0, 0.0], 0.1)
    """

    settings = {
        **INHERITED_SETTINGS,
        "smoothing": Setting(
            2.0,
            [Interval(Real, 0, None, closed="left")],
            "float",
            r""":math:`\mu`, weight of the proximal pull towards the anchor
            (:class:`~fairsk.optim.MoreauEnvelope`); 0 is ALM.""",
        ),
        "anchor_rate": Setting(
            0.5,
            [Interval(Real, 0, 1, closed="right")],
            "float",
            r":math:`\beta`, how fast the anchor follows the iterate.",
        ),
        "dual_update": Setting(
            "ascent",
            [StrOptions(set(DUAL_UPDATES)), DualUpdate],
            "str or DualUpdate",
            """How the multipliers move (:mod:`fairsk.algorithms.dual`):
            ``"ascent"`` (the rule above), ``"momentum"`` (heavy ball),
            ``"augmented"`` (Rockafellar's augmented Lagrangian of the
            inequalities, no slack), ``"ialm"`` (increasing penalty), ``"nupi"``
            (PI-controlled multipliers) or ``"pbm"`` (penalty-barrier
            multipliers), or a rule object for its own hyperparameters, e.g.
            ``NuPI(proportional=1.0)`` (grid-searchable as
            ``dual_update__proportional``). A rule's ``dual_lr``, ``penalty`` and
            ``multiplier_max`` left at ``None`` take this classifier's.""",
        ),
    }
    n_draws = 2
    batched = True
    #: Held out (Cotter et al. 2019): the Jacobian's sample from the training
    #: rows, the multiplier step's and the weight's samples from held-out rows.
    holdout_draws = (1, 2)

    def __init__(self, n_constraints: int = 0, n_models=None, **settings):
        super().__init__(n_constraints, n_models, **settings)
        m, lead = self.n_constraints, self.lead
        self.register_buffer("multipliers", torch.zeros(*lead, m))
        self.slack = nn.Parameter(torch.zeros(*lead, m), requires_grad=False)
        self.dual = make_dual_update(self.dual_update).setup(m)
        self.register_buffer("_coef", torch.zeros(*lead, 1 + 3 * m), persistent=False)

    def configure(self, **settings) -> None:
        """Set hyperparameters; a new rule keeps its state (a warm start)."""
        dual = getattr(self, "dual", None)
        super().configure(**settings)
        if dual is not None:
            new = make_dual_update(self.dual_update)
            if type(new) is not type(dual):
                raise ValueError(
                    "dual_update cannot change its rule on a warm start; refit "
                    "with warm_start=False."
                )
            dual.set_params(**new.get_params())

    def prepare_optimizer(self, optimizer):
        """Add the slack to the primal step; wrap it in the Moreau envelope."""
        if self.dual.uses_slack and self.n_constraints:
            optimizer.add_param_group({"params": [self.slack], "weight_decay": 0.0})
        if self.smoothing:
            optimizer = MoreauEnvelope(optimizer, self.smoothing, self.anchor_rate)
        return optimizer

    def bind(self, problem, optimizer, lr) -> None:
        """Attach; resolve the rule's inherited hyperparameters."""
        super().bind(problem, optimizer, lr)
        self._coef.zero_()
        self._coef[..., 0] = 1.0
        self.dual.configure(
            dual_lr=self.dual_lr,
            penalty=self.penalty,
            multiplier_max=self.multiplier_max,
        )
        self._refs = _StepRefs(
            self.multipliers,
            self.slack if self.dual.uses_slack else None,
            self._c_sum,
            self._coef[..., 1 : 1 + self.n_constraints],
            self._coef[..., :0],
            self._epoch_steps,
        )

    def unbind(self) -> None:
        """Drop the training data, and the views the steps read."""
        super().unbind()
        self._refs = None

    def gradients(self, batch):
        """Take steps 1-5 (see the module docstring): λ moves, ``.grad`` holds G."""
        problem, rule, m = self.problem, self.dual, self.n_constraints
        multipliers, slack, c_sum, weight_slot, coef, _ = self._refs
        held = int(self.held_out)
        # Only f and c(ζ¹) enter the backward pass: the other samples' rows
        # need no gradient.
        logits = problem.forward(batch.rows_X, batch.n_obj + problem.sample_rows)
        out = problem.terms(logits, batch)  # [f, c(ζ¹), c(ζ²)] (+ a held-out one)
        od = out.detach()
        c = od[..., 1:].unflatten(-1, (-1, m)).unbind(-2)
        c1, c2 = c[held], c[held + 1]  # 1., and w of 5.: held out when there are
        c_sum.add_(c1)  # for the epoch's summary
        if slack is not None:
            c1, c2 = c1 + slack, c2 + slack  # c̃(x; ζ¹), c̃(x; ζ²)
        weight = rule.step(multipliers, c1, c2)
        weight_slot.copy_(weight)  # the coefficient of c(ζ¹) from the training rows
        if coef.shape[-1] != out.shape[-1]:  # the first step
            coef = self._coef[..., : out.shape[-1]]
            self._refs = self._refs._replace(coef=coef)
        loss = torch.dot(coef, out) if out.dim() == 1 else (coef * out).sum()
        self._backward(loss)  # ∇f + Jᵀw for θ
        if slack is not None:  # ∂/∂s of wᵀ(c + s)
            if slack.grad is None:
                slack.grad = weight
            else:
                slack.grad.copy_(weight)
        return od[..., 0], logits.detach()[..., : batch.n_obj]

    def apply(self) -> None:
        """Step 6: the (smoothed) primal step, then the projection ``s >= 0``."""
        refs = self._refs
        take_step(self.optimizer)
        if refs.slack is not None:
            refs.slack.clamp_(min=0.0)  # no autograd: requires_grad=False
        refs.epoch_steps.add_(1)

    def end_epoch(self) -> dict:
        """Summary: sampled constraints, multipliers, slack, the rule's state."""
        out = super().end_epoch()
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
