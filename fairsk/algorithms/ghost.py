r"""Stochastic Ghost: a stochastic SQP with a multilevel Monte Carlo direction.

Facchinei & Kungurtsev, *Stochastic Approximation for Expectation Objective and
Expectation Inequality-Constrained Nonconvex Optimization*, arXiv:2307.02943; as
benchmarked by Kliachkin et al. (2025), arXiv:2507.04033.

**The direction of a sample.** For a sample :math:`S` with objective gradient
:math:`g = \nabla f_S`, constraint values :math:`c = c_S \in \mathbb{R}^m` and
Jacobian :math:`J = \nabla c_S \in \mathbb{R}^{m\times n}` (:math:`n` = number of
weights),

.. math::

    d(S) = \arg\min_d\; g^\top d + \frac{\tau}{2}\|d\|^2 \quad\text{s.t.}\quad
    c + J d \le \kappa_S e,\;\; \|d\|_\infty \le \beta,

    \kappa_S = (1-\lambda)\max_j c_j^+ + \lambda\, v_S, \qquad
    v_S = \min_{\|d\|_\infty \le \rho} \max_j (c_j + J_j d)^+ .

Both problems have :math:`n` variables (all the network's weights) but only
:math:`m` general constraints, so both are solved through their duals, which have
:math:`m` variables.

*The* :math:`\kappa` *LP* (:func:`feasibility_gap`). Since :math:`t \mapsto t^+` is
monotone, :math:`v_S = \max(0, w)` with
:math:`w = \min_{\|d\|_\infty\le\rho}\max_j (c_j + J_j d)`. Writing the max over
:math:`j` as a max over the simplex :math:`\Delta_m` and exchanging min and max
(bilinear function, compact convex sets: Sion's theorem),

.. math::

    w = \max_{\mu\in\Delta_m}\; \mu^\top c + \min_{\|d\|_\infty\le\rho} (J^\top
    \mu)^\top d = \max_{\mu\in\Delta_m}\; \mu^\top c - \rho\,\|J^\top \mu\|_1 ,

a concave piecewise-linear maximisation over the simplex. For :math:`m = 1` it is
:math:`c_1 - \rho\|J_1\|_1`; for :math:`m = 2`, with :math:`\mu = (s, 1-s)`,
:math:`h(s) = c_2 + s(c_1 - c_2) - \rho\sum_i |a_i + s b_i|` (:math:`a = J_2`,
:math:`b = J_1 - J_2`) has slope decreasing by :math:`2\rho|b_i|` at each
breakpoint :math:`s_i = -a_i/b_i`, so its maximiser is found exactly by sorting
the breakpoints (:math:`O(n\log n)`). For :math:`m > 2` the primal LP
:math:`\min\{z : c + Jd \le z e,\ z \ge 0,\ \|d\|_\infty \le \rho\}` (:math:`m`
rows, bounds on the variables) is solved with :func:`scipy.optimize.linprog`.

*The direction QP* (:func:`solve_direction`). With multipliers
:math:`\mu \ge 0` for the :math:`m` rows and the box kept as the domain,

.. math::

    q(\mu) = \min_{\|d\|_\infty\le\beta} g^\top d + \frac\tau2\|d\|^2 +
    \mu^\top(c + Jd - \kappa e) = \mu^\top(c - \kappa e) -
    \sum_{i=1}^n H_{\tau,\beta}\big((g + J^\top\mu)_i\big),

the inner problem being separable, minimised by
:math:`d_i(\mu) = \operatorname{clip}(-(g + J^\top\mu)_i/\tau, -\beta, \beta)`,
with :math:`H` the Huber function (:math:`v^2/(2\tau)` for
:math:`|v| \le \tau\beta`, :math:`\beta|v| - \tau\beta^2/2` beyond). The dual
:math:`q` is concave and :math:`C^1`, :math:`\nabla q(\mu) = c - \kappa e +
J d(\mu)`, with generalised Hessian :math:`-J_F J_F^\top/\tau` over the coordinates
:math:`F` where the clip is inactive. It is maximised over :math:`\mu \ge 0` by a
projected (semismooth) Newton method with an Armijo search (L-BFGS-B as a
fallback), and :math:`d = d(\mu^*)` -- the unique primal solution, by strong
duality (the QP is strongly convex, and feasible because :math:`\kappa \ge v`
with :math:`\rho \le \beta`). A step therefore costs a few gradient evaluations
and :math:`O(mn)` arithmetic, never a QP over the weights.

**The step.** Draw the level :math:`N` from the geometric law
:math:`p_N = \alpha(1-\alpha)^N` truncated to :math:`N \le N_{\max}` (so
:math:`p_N = \alpha(1-\alpha)^N / (1 - (1-\alpha)^{N_{\max}+1})`; the estimator is
then unbiased for the direction of a :math:`2^{N_{\max}+1}`-unit sample), a sample
:math:`S_1` of one unit and an independent sample :math:`S` of :math:`2^{N+1}`
units with its odd and even halves; a unit is one objective minibatch (the
engine's ``idx`` for :math:`S_1`, uniform draws otherwise) and one balanced
constraint sample. Then

.. math::

    \tilde d = d(S_1) + \frac{d(S) - \frac12 d(S_{\text{odd}}) -
    \frac12 d(S_{\text{even}})}{p_N}, \qquad
    \theta \leftarrow \theta + \gamma_k \tilde d, \qquad
    \gamma_{k+1} = \gamma_k (1 - \zeta\gamma_k).

The values and gradients of :math:`S` are the means of those of its halves, so the
:math:`3(1+m)` gradients needed come from the three samples :math:`S_1`,
:math:`S_{\text{odd}}`, :math:`S_{\text{even}}`: per sample, one forward pass over
its objective rows and one over its constraint rows, and one backward pass per
output over those rows only. The step goes through the primal optimizer (SGD with
learning rate :math:`\gamma_0`, the estimator's ``lr``) with gradient
:math:`-(\gamma_k/\gamma_0)\tilde d`, so a learning-rate schedule multiplies
:math:`\gamma_k` (and the optimizer's weight decay, the estimator's ``alpha``,
shrinks the weights by :math:`\gamma_0\alpha\theta` per step, as for every
classifier). Unlike the other rules this one synchronises with the host at
every step (the duals are solved on the CPU in float64).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from scipy.optimize import linprog, minimize
from sklearn.utils._param_validation import Interval

from ..settings import Setting
from .base import Algorithm

__all__ = [
    "StochasticGhost",
    "feasibility_gap",
    "feasibility_level",
    "mlmc_combine",
    "solve_direction",
]


# -- the kappa LP --------------------------------------------------------------------
def feasibility_gap(c: np.ndarray, J: np.ndarray, radius: float) -> float:
    r"""Return :math:`\min_{\|d\|_\infty\le\rho} \max_j (c_j + J_j d)^+`.

    Solved through the dual :math:`\max_{\mu\in\Delta_m} \mu^\top c -
    \rho\|J^\top\mu\|_1` (exactly for :math:`m \le 2`, by
    :func:`scipy.optimize.linprog` on the primal otherwise); see the module
    docstring for the derivation.

    Parameters
    ----------
    c : numpy.ndarray of shape (m,)
        Constraint values.
    J : numpy.ndarray of shape (m, n)
        Constraint Jacobian.
    radius : float
        :math:`\rho \ge 0`.

    Returns
    -------
    float
        The smallest attainable linearised violation within the box.

    Examples
    --------
    >>> import numpy as np
    >>> feasibility_gap(np.array([1.0]), np.array([[0.5, -0.25]]), 0.8)
    0.4
    """
    c = np.asarray(c, dtype=np.float64)
    J = np.asarray(J, dtype=np.float64)
    m = c.shape[0]
    if m == 0:
        return 0.0
    if m == 1:
        w = c[0] - radius * np.abs(J[0]).sum()
    elif m == 2:
        w = _two_row_gap(c, J, radius)
    else:
        n = J.shape[1]
        cost = np.zeros(n + 1)
        cost[-1] = 1.0
        res = linprog(
            cost,
            A_ub=np.hstack([J, -np.ones((m, 1))]),
            b_ub=-c,
            bounds=[(-radius, radius)] * n + [(0.0, None)],
            method="highs",
        )
        if res.status != 0:  # pragma: no cover - the LP is always feasible
            raise RuntimeError(f"kappa LP failed: {res.message}")
        return float(res.fun)
    return float(max(w, 0.0))


def _two_row_gap(c: np.ndarray, J: np.ndarray, radius: float) -> float:
    """Maximise the concave piecewise-linear ``h(s)`` on [0, 1] (m = 2)."""
    a, b = J[1], J[0] - J[1]

    def h(s: float) -> float:
        return c[1] + s * (c[0] - c[1]) - radius * np.abs(a + s * b).sum()

    nz = b != 0
    brk, abs_b = -a[nz] / b[nz], np.abs(b[nz])
    weight = 2.0 * radius * abs_b
    # Slope just right of s = 0: each |a_i + s b_i| slopes by -|b_i| before its
    # breakpoint and +|b_i| after it.
    after = brk <= 0.0
    slope = (c[0] - c[1]) - radius * (abs_b[after].sum() - abs_b[~after].sum())
    if slope <= 0.0:
        return h(0.0)
    inside = (brk > 0.0) & (brk < 1.0)
    order = np.argsort(brk[inside], kind="stable")
    points, drops = brk[inside][order], weight[inside][order]
    remaining = slope - np.cumsum(drops)
    hit = np.flatnonzero(remaining <= 0.0)
    return h(points[hit[0]]) if hit.size else h(1.0)


def feasibility_level(c: np.ndarray, J: np.ndarray, radius: float, mix: float) -> float:
    r"""Return :math:`\kappa = (1-\lambda)\max_j c_j^+ + \lambda v`.

    :math:`v` is :func:`feasibility_gap` (``radius`` :math:`\rho`), ``mix`` is
    :math:`\lambda \in [0, 1]`.

    Examples
    --------
    >>> import numpy as np
    >>> feasibility_level(np.array([1.0]), np.array([[0.5, -0.25]]), 0.8, 0.5)
    0.7
    """
    c = np.asarray(c, dtype=np.float64)
    worst = float(np.maximum(c, 0.0).max()) if c.size else 0.0
    return (1.0 - mix) * worst + mix * feasibility_gap(c, J, radius)


# -- the direction QP ----------------------------------------------------------------
def _huber(v: np.ndarray, prox: float, box: float) -> np.ndarray:
    a = np.abs(v)
    return np.where(a <= prox * box, v * v / (2.0 * prox), box * a - prox * box**2 / 2)


def solve_direction(
    g: np.ndarray,
    c: np.ndarray,
    J: np.ndarray,
    kappa: float,
    box: float,
    prox: float = 1.0,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Solve the direction QP through its dual; return ``(d, mu)``.

    .. math::

        \min_d g^\top d + \frac\tau2\|d\|^2 \;\text{s.t.}\; c + Jd \le \kappa e,\;
        \|d\|_\infty \le \beta

    by maximising the concave dual :math:`q(\mu)` over :math:`\mu \ge 0`
    (:math:`m` variables; see the module docstring), then
    :math:`d = \operatorname{clip}(-(g + J^\top\mu)/\tau, -\beta, \beta)`.

    Parameters
    ----------
    g : numpy.ndarray of shape (n,)
        Objective gradient.
    c : numpy.ndarray of shape (m,)
        Constraint values.
    J : numpy.ndarray of shape (m, n)
        Constraint Jacobian.
    kappa : float
        Right-hand side :math:`\kappa`.
    box : float
        :math:`\beta`.
    prox : float, default=1.0
        :math:`\tau > 0`.
    tol : float, default=1e-10
        Tolerance on the projected dual gradient (relative).
    max_iter : int, default=100
        Newton iterations before falling back to L-BFGS-B.

    Returns
    -------
    d : numpy.ndarray of shape (n,)
        The direction.
    mu : numpy.ndarray of shape (m,)
        The multipliers of the linearised constraints.

    Examples
    --------
    The constraint :math:`d_1 + d_2 \le -\frac12` cuts the box-clipped steepest
    descent step :math:`(-1, 1)`:

    >>> import numpy as np
    >>> d, mu = solve_direction(np.array([1.0, -1.0]), np.array([0.0]),
    ...                         np.array([[1.0, 1.0]]), kappa=-0.5, box=1.0)
    >>> d.round(6).tolist(), mu.round(6).tolist()
    ([-1.0, 0.5], [0.5])
    """
    g = np.asarray(g, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    J = np.asarray(J, dtype=np.float64).reshape(c.shape[0], g.shape[0])
    m = c.shape[0]
    b = c - kappa
    lo = prox * box

    def primal(mu):
        v = g + J.T @ mu
        return np.clip(-v / prox, -box, box), v

    def value_grad(mu):
        d, v = primal(mu)
        return mu @ b - _huber(v, prox, box).sum(), b + J @ d, v

    mu = np.zeros(m)
    q, grad, v = value_grad(mu)
    scale = 1.0 + np.abs(b).max(initial=0.0) + np.abs(J).sum(1).max(initial=0.0)
    for _ in range(max_iter):
        pg = mu - np.maximum(mu + grad, 0.0)  # projected gradient (ascent)
        if np.abs(pg).max(initial=0.0) <= tol * scale:
            return primal(mu)[0], mu
        free = np.abs(v) < lo
        Jf = J[:, free]
        H = Jf @ Jf.T / prox
        # Variables at their bound whose gradient points outwards stay there.
        active = ~((mu <= 0.0) & (grad <= 0.0))
        step = np.zeros(m)
        if active.any():
            Ha = H[np.ix_(active, active)]
            Ha = Ha + (1e-12 * (1.0 + np.trace(Ha))) * np.eye(Ha.shape[0])
            try:
                step[active] = np.linalg.solve(Ha, grad[active])
            except np.linalg.LinAlgError:
                step[active] = grad[active]
        t, accepted = 1.0, False
        for _ in range(60):
            trial = np.maximum(mu + t * step, 0.0)
            q_t, grad_t, v_t = value_grad(trial)
            if q_t >= q + 1e-4 * grad @ (trial - mu) - 1e-15 * abs(q):
                accepted = True
                break
            t *= 0.5
        if not accepted or np.array_equal(trial, mu):
            break
        mu, q, grad, v = trial, q_t, grad_t, v_t
    # Fallback: a first-order solver on the same concave dual.
    res = minimize(
        lambda x: tuple(-r for r in value_grad(x)[:2]),
        mu,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * m,
        options={"ftol": 1e-15, "gtol": tol * scale, "maxiter": 1000},
    )
    mu = np.maximum(res.x, 0.0)
    return primal(mu)[0], mu


def mlmc_combine(
    d_single: np.ndarray,
    d_full: np.ndarray,
    d_odd: np.ndarray,
    d_even: np.ndarray,
    prob: float,
) -> np.ndarray:
    r"""Return :math:`d(S_1) + [d(S) - \frac12 d(S_{odd}) - \frac12 d(S_{even})]/p_N`.

    Examples
    --------
    >>> import numpy as np
    >>> mlmc_combine(np.ones(2), np.full(2, 3.0), np.full(2, 2.0), np.zeros(2), 0.5)
    array([5., 5.])
    """
    return d_single + (d_full - 0.5 * d_odd - 0.5 * d_even) / prob


class StochasticGhost(Algorithm):
    r"""Stochastic Ghost update rule (see the module docstring).

    Built as every :class:`~fairsk.algorithms.Algorithm`, from the number of
    constraint rows ``m`` and the hyperparameters of :attr:`settings`.

    Attributes
    ----------
    step_size : torch.Tensor
        :math:`\gamma_k` (``NaN`` until the first step reads :math:`\gamma_0`, the
        optimizer's learning rate).

    Examples
    --------
    >>> alg = StochasticGhost(2, max_level=3)
    >>> round(float(alg.level_probabilities().sum()), 12)
    1.0
    """

    settings = {
        "level_probability": Setting(
            0.4,
            [Interval(Real, 0, 1, closed="neither")],
            "float",
            r""":math:`\alpha`: the level :math:`N` is geometric,
            :math:`P(N = n) \propto \alpha(1-\alpha)^n`.""",
        ),
        "max_level": Setting(
            4,
            [Interval(Integral, 0, 20, closed="both")],
            "int",
            r""":math:`N_{\max}`, truncation of the level: the largest sample has
            :math:`2^{N_{\max}+1}` units.""",
        ),
        "direction_bound": Setting(
            10.0,
            [Interval(Real, 0, None, closed="neither")],
            "float",
            r":math:`\beta`, bound on :math:`\|d\|_\infty`.",
        ),
        "proximal_weight": Setting(
            1.0,
            [Interval(Real, 0, None, closed="neither")],
            "float",
            r":math:`\tau`, of the QP's :math:`\frac\tau2\|d\|^2`.",
        ),
        "feasibility_radius": Setting(
            0.8,
            [Interval(Real, 0, None, closed="left")],
            "float",
            r""":math:`\rho \le \beta`, box of the feasibility LP defining
            :math:`\kappa`.""",
        ),
        "feasibility_mix": Setting(
            0.5,
            [Interval(Real, 0, 1, closed="both")],
            "float",
            r""":math:`\lambda`: :math:`\kappa = (1-\lambda)\max_j c_j^+ +
            \lambda v`.""",
        ),
        "step_decay": Setting(
            0.02,
            [Interval(Real, 0, None, closed="left")],
            "float",
            r""":math:`\zeta`: :math:`\gamma_{k+1} = \gamma_k(1 - \zeta\gamma_k)`;
            ``lr * step_decay`` must be below 1.""",
        ),
    }
    #: A step costs about twenty SGD steps, so fewer epochs; its own step decay
    #: is the schedule; a larger constraint sample keeps the linearised
    #: constraints from being dominated by noise (see StochasticGhostClassifier).
    shared_defaults = {
        "lr": 0.1,
        "lr_schedule": "constant",
        "max_epochs": 5,
        "constraint_batch_size": 256,
    }
    any_optimizer = False

    def __init__(self, n_constraints: int = 0, **settings):
        super().__init__(n_constraints, **settings)
        if self.feasibility_radius > self.direction_bound:
            raise ValueError(
                "feasibility_radius must not exceed direction_bound, or the "
                "direction QP may be infeasible."
            )
        self.register_buffer("step_size", torch.full((), math.nan))
        self.register_buffer("initial_step", torch.full((), math.nan))
        self._level_sum = 0.0
        self._kappa_sum = 0.0

    def bind(self, problem, optimizer, lr) -> None:
        """Attach; the step recursion must keep the step positive."""
        super().bind(problem, optimizer, lr)
        if lr * self.step_decay >= 1:
            raise ValueError(
                f"StochasticGhost needs lr * step_decay < 1 (got lr={lr:g}, "
                f"step_decay={self.step_decay:g}): the step "
                "gamma <- gamma * (1 - step_decay * gamma) would turn negative."
            )

    def level_probabilities(self) -> np.ndarray:
        r"""Return :math:`p_N` for :math:`N = 0..N_{\max}` (truncated geometric)."""
        q = 1.0 - self.level_probability
        n = np.arange(self.max_level + 1)
        return self.level_probability * q**n / (1.0 - q ** (self.max_level + 1))

    def draw_level(self, generator: torch.Generator) -> tuple[int, float]:
        """Draw the level :math:`N` and return it with its probability :math:`p_N`.

        By the inverse CDF of the truncated geometric law, from the problem's
        generator, so that a fit is reproducible from its seed.
        """
        u = float(torch.rand((), generator=generator, device=generator.device))
        q = 1.0 - self.level_probability
        total = 1.0 - q ** (self.max_level + 1)
        level = math.floor(math.log1p(-u * total) / math.log(q))
        level = min(max(level, 0), self.max_level)
        return level, float(self.level_probabilities()[level])

    def _direction(self, g, c, J) -> tuple[np.ndarray, float]:
        kappa = feasibility_level(c, J, self.feasibility_radius, self.feasibility_mix)
        d, _ = solve_direction(
            g, c, J, kappa, self.direction_bound, self.proximal_weight
        )
        return d, kappa

    def oracle(self, obj_rows: torch.Tensor, n_draws: int):
        """Return ``(g, c, J, f)`` of one sample, in float64 NumPy.

        The sample is the objective rows ``obj_rows`` and ``n_draws`` fresh
        balanced constraint samples (their estimates are averaged).
        """
        problem, params = self.problem, self.params
        # Separate graphs for the objective and the constraint rows, and one
        # backward pass per output (faster than a vmap-batched backward for a
        # network this small): 1 + m passes, each over its own rows only.
        obj = problem.gather(obj_rows)
        f, _ = problem.losses(problem.forward(obj.rows_X), obj)
        con = problem.gather(obj_rows[:0], n_draws)
        _, c = problem.losses(problem.forward(con.rows_X), con)
        c = c.mean(0)
        rows = [torch.autograd.grad(f, params)]
        m = c.shape[0]
        rows += [
            torch.autograd.grad(c[j], params, retain_graph=j < m - 1) for j in range(m)
        ]
        G = torch.stack([torch.cat([g.reshape(-1) for g in gr]) for gr in rows])
        G = G.cpu().double().numpy()
        c_np = c.detach().cpu().double().numpy()
        return G[0], c_np, G[1:], float(f.detach())

    def gradients(self, batch):
        r"""Put the MLMC direction of ``batch`` and a fresh sample in ``.grad``.

        The gradient is :math:`-(\\gamma_k/\\gamma_0)\\,\tilde d`, so that the
        optimizer's step at ``lr`` :math:`= \\gamma_0` moves by
        :math:`\\gamma_k \tilde d` (plus the weight decay).
        """
        problem, gen, idx = self.problem, self.problem.generator, batch.idx
        level, prob = self.draw_level(gen)
        units, bs = 2 ** (level + 1), idx.shape[0]
        extra = torch.randint(
            problem.data.n, (units * bs,), generator=gen, device=idx.device
        ).view(units, bs)
        # S_1, then the odd and even halves of S (one unit: a minibatch and a
        # constraint sample); S's (g, c, J) are the means of its halves'.
        odd, even = slice(1, None, 2), slice(0, None, 2)
        blocks = [
            self.oracle(idx, 1),
            self.oracle(extra[odd].reshape(-1), units // 2),
            self.oracle(extra[even].reshape(-1), units // 2),
        ]
        full = [(x + y) / 2 for x, y in zip(blocks[1][:3], blocks[2][:3], strict=True)]
        (d1, kappa1), (d_odd, _), (d_even, _), (d_full, _) = (
            self._direction(*sample[:3]) for sample in (*blocks, full)
        )
        d = mlmc_combine(d1, d_full, d_odd, d_even, prob)
        with torch.no_grad():
            if torch.isnan(self.step_size):
                self.initial_step.fill_(self.lr)
                self.step_size.fill_(self.lr)
            scale = -float(self.step_size) / float(self.initial_step)
            flat = torch.as_tensor(d * scale, dtype=torch.float32).to(idx.device)
            sizes = [p.numel() for p in self.params]
            for p, step in zip(self.params, flat.split(sizes), strict=True):
                if p.grad is None:
                    p.grad = step.view_as(p).clone()
                else:
                    p.grad.copy_(step.view_as(p))
            self._c_sum.add_(torch.as_tensor(blocks[0][1], dtype=self._c_sum.dtype))
        self._level_sum += level
        self._kappa_sum += kappa1
        f = torch.as_tensor(blocks[0][3], dtype=torch.float32, device=idx.device)
        return f, problem.forward(batch.rows_X).detach()

    def apply(self) -> None:
        """Move by the direction; shrink the step size."""
        super().apply()
        gamma = float(self.step_size)
        self.step_size.fill_(gamma * (1.0 - self.step_decay * gamma))

    def start_epoch(self) -> None:
        """Reset the accumulators."""
        super().start_epoch()
        self._level_sum = 0.0
        self._kappa_sum = 0.0

    def end_epoch(self) -> dict:
        """Summary: mean level, mean kappa, the step size, sampled constraints."""
        steps = max(float(self._epoch_steps), 1.0)
        out = super().end_epoch()
        out["mean_level"] = self._level_sum / steps
        out["kappa"] = self._kappa_sum / steps
        out["step_size"] = float(self.step_size)
        return out
