"""Stochastic Ghost: the dual solutions of its subproblems, its step, the estimator.

The κ LP and the direction QP are solved through duals with one variable per
constraint row; they are checked against problems solved on paper and against
brute-force solutions of the primal problems (over every weight) by SciPy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import linprog, minimize

from fairsk import StochasticGhostClassifier
from fairsk.algorithms import StochasticGhost
from fairsk.algorithms.ghost import (
    feasibility_gap,
    feasibility_level,
    mlmc_combine,
    solve_direction,
)

from .common import sigmoid, softplus, tiny_problem

pytestmark = pytest.mark.usefixtures("one_thread")


# -- the κ LP ------------------------------------------------------------------------
def brute_gap(c, J, radius):
    """min z s.t. c + J d <= z, z >= 0, |d| <= ρ: the primal LP over every weight."""
    m, n = J.shape
    res = linprog(
        np.r_[np.zeros(n), 1.0],
        A_ub=np.hstack([J, -np.ones((m, 1))]),
        b_ub=-c,
        bounds=[(-radius, radius)] * n + [(0.0, None)],
    )
    assert res.status == 0
    return res.fun


def test_kappa_on_paper_one_row():
    # v = max(0, 1 - 0.8 (0.5 + 0.25)) = 0.4; κ = ½ max(c)⁺ + ½ v = 0.7
    c, J = np.array([1.0]), np.array([[0.5, -0.25]])
    assert feasibility_gap(c, J, 0.8) == pytest.approx(0.4)
    assert feasibility_level(c, J, 0.8, 0.5) == pytest.approx(0.7)
    # A feasible sample (c < 0) has v = 0 and κ = 0.
    assert feasibility_level(np.array([-0.1]), J, 0.8, 0.5) == 0.0


def test_kappa_on_paper_loss_gap_rows():
    # Rows ±a - δ with Jacobian ±j: v = max(0, -δ + max(0, |a| - ρ‖j‖₁)).
    a, delta, j = 0.3, 0.05, np.array([0.1, -0.1])
    c, J = np.array([a - delta, -a - delta]), np.vstack([j, -j])
    # ρ‖j‖₁ = 0.16: v = -0.05 + 0.14 = 0.09; κ = ½ · 0.25 + ½ · 0.09 = 0.17
    assert feasibility_gap(c, J, 0.8) == pytest.approx(0.09)
    assert feasibility_level(c, J, 0.8, 0.5) == pytest.approx(0.17)
    assert feasibility_gap(c, J, 10.0) == 0.0  # a large box reaches feasibility


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_kappa_matches_the_primal_lp(m):
    rng = np.random.default_rng(m)
    for _ in range(40):
        n = int(rng.integers(1, 8))
        c, J = rng.normal(size=m), rng.normal(size=(m, n))
        if m == 2 and rng.random() < 0.5:  # the loss-gap structure
            J[1], c[1] = -J[0], -c[0] - 0.01
        radius = float(rng.choice([0.0, 0.1, 0.8, 3.0]))
        assert feasibility_gap(c, J, radius) == pytest.approx(
            brute_gap(c, J, radius), abs=1e-8
        )


def test_kappa_dual_formula_on_a_simplex_grid():
    # w = max over the simplex of μ·c - ρ‖Jᵀμ‖₁ (three rows, a fine grid).
    rng = np.random.default_rng(0)
    c, J, radius = rng.normal(size=3), rng.normal(size=(3, 4)), 0.3
    s = np.linspace(0, 1, 201)
    a, b = np.meshgrid(s, s)
    keep = a + b <= 1
    mu = np.stack([a[keep], b[keep], 1 - a[keep] - b[keep]], 1)
    w = (mu @ c - radius * np.abs(mu @ J).sum(1)).max()
    assert feasibility_gap(c, J, radius) == pytest.approx(max(w, 0.0), abs=2e-2)


# -- the direction QP ----------------------------------------------------------------
def brute_direction(g, c, J, kappa, box, prox):
    """A general-purpose solver on the primal QP over every weight."""
    cons = [{"type": "ineq", "fun": lambda x: kappa - c - J @ x, "jac": lambda x: -J}]
    for method in ("SLSQP", "trust-constr"):
        res = minimize(
            lambda x: (g @ x + prox / 2 * x @ x, g + prox * x),
            np.zeros(len(g)),
            jac=True,
            hess=(lambda x: prox * np.eye(len(g))) if method != "SLSQP" else None,
            method=method,
            bounds=[(-box, box)] * len(g),
            constraints=cons,
            options={"maxiter": 2000}
            | (
                {"ftol": 1e-15} if method == "SLSQP" else {"gtol": 1e-12, "xtol": 1e-14}
            ),
        )
        if res.success:
            return res.x
    raise AssertionError("no reference solution")


def assert_kkt(g, c, J, kappa, box, prox, d, mu, tol=1e-8):
    """KKT of the convex QP (feasibility, μ >= 0, complementarity, stationarity)."""
    slack = c + J @ d - kappa
    assert np.all(slack <= tol) and np.all(np.abs(d) <= box + tol)
    assert np.all(mu >= 0)
    np.testing.assert_allclose(mu * slack, 0.0, atol=tol)
    grad = g + prox * d + J.T @ mu  # must vanish where the box is inactive
    inside = np.abs(d) < box - 1e-9
    np.testing.assert_allclose(grad[inside], 0.0, atol=1e-7)
    # At a bound the gradient must point outwards (no descent into the box).
    assert np.all(grad[d >= box - 1e-9] <= 1e-7)
    assert np.all(grad[d <= -box + 1e-9] >= -1e-7)


def test_direction_on_paper():
    g, c, J = np.array([1.0, -1.0]), np.array([0.0]), np.array([[1.0, 1.0]])
    # Constraint d₁ + d₂ <= -½ cuts the steepest descent step (-1, 1).
    # Large box: d = -(g + μJ) = (-1 - μ, 1 - μ), d₁ + d₂ = -2μ = -½ → μ = ¼.
    d, mu = solve_direction(g, c, J, kappa=-0.5, box=10.0)
    np.testing.assert_allclose(d, [-1.25, 0.75], atol=1e-9)
    np.testing.assert_allclose(mu, [0.25], atol=1e-9)
    # Box 1: d₁ = clip(-1 - μ) = -1, d₂ = 1 - μ, sum -μ = -½ → μ = ½, d = (-1, ½).
    d, mu = solve_direction(g, c, J, kappa=-0.5, box=1.0)
    np.testing.assert_allclose(d, [-1.0, 0.5], atol=1e-9)
    np.testing.assert_allclose(mu, [0.5], atol=1e-9)
    # τ = 2 and an inactive constraint (κ = 1): d = -g/τ, μ = 0.
    d, mu = solve_direction(g, c, J, kappa=1.0, box=10.0, prox=2.0)
    np.testing.assert_allclose(d, [-0.5, 0.5])
    np.testing.assert_allclose(mu, [0.0])


def test_direction_on_paper_two_rows():
    # Loss-gap-like rows: 0.2 + d₁ <= κ and -0.3 - d₁ <= κ, with κ = 0, i.e.
    # -0.3 <= d₁ <= -0.2; g = (-1, 2): the unconstrained d = (1, -2) violates the
    # first row, so d₁ = -0.2 = -(g₁ + μ₁ - μ₂) with μ₂ = 0 → μ₁ = 1.2.
    g = np.array([-1.0, 2.0])
    c, J = np.array([0.2, -0.3]), np.array([[1.0, 0.0], [-1.0, 0.0]])
    d, mu = solve_direction(g, c, J, kappa=0.0, box=10.0)
    np.testing.assert_allclose(d, [-0.2, -2.0], atol=1e-9)
    np.testing.assert_allclose(mu, [1.2, 0.0], atol=1e-9)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_direction_matches_the_primal_qp(m):
    rng = np.random.default_rng(10 + m)
    for _ in range(40):
        n = int(rng.integers(2, 9))
        g, c, J = rng.normal(size=n), rng.normal(size=m), rng.normal(size=(m, n))
        if m == 2 and rng.random() < 0.5:
            J[1], c[1] = -J[0], -c[0] - 0.01
        box = float(rng.choice([0.3, 1.0, 10.0]))
        prox = float(rng.choice([0.5, 1.0, 2.0]))
        radius = min(0.5, box)
        kappa = feasibility_level(c, J, radius, 0.5)
        d, mu = solve_direction(g, c, J, kappa, box, prox)
        assert_kkt(g, c, J, kappa, box, prox, d, mu)
        np.testing.assert_allclose(
            d, brute_direction(g, c, J, kappa, box, prox), atol=1e-5
        )


def test_direction_scales_to_network_size():
    # n = 10,000 weights, two rows: still the exact optimum (KKT holds).
    rng = np.random.default_rng(0)
    n = 10_000
    g, j = rng.normal(size=n) * 0.01, rng.normal(size=n) * 0.01
    c, J = np.array([0.05, -0.06]), np.vstack([j, -j])
    kappa = feasibility_level(c, J, 0.8, 0.5)
    d, mu = solve_direction(g, c, J, kappa, 10.0, 1.0)
    np.testing.assert_allclose(d, np.clip(-(g + J.T @ mu), -10, 10))
    assert mu[0] > 0 and mu[1] == 0
    assert (c + J @ d)[0] == pytest.approx(kappa, abs=1e-10)  # active row


def test_mlmc_combination():
    one, full = np.array([1.0, 2.0]), np.array([3.0, 0.0])
    odd, even = np.array([2.0, 2.0]), np.array([4.0, -2.0])
    # d₁ + (d - ½ d_odd - ½ d_even) / p = (1, 2) + ((3, 0) - (3, 0)) / 0.25
    np.testing.assert_allclose(mlmc_combine(one, full, odd, even, 0.25), [1.0, 2.0])
    np.testing.assert_allclose(mlmc_combine(one, full + 1, odd, even, 0.25), [5.0, 6.0])


def test_level_law_is_the_truncated_geometric():
    alg = StochasticGhost(2, level_probability=0.4, max_level=3)
    p = alg.level_probabilities()
    expected = 0.4 * 0.6 ** np.arange(4) / (1 - 0.6**4)
    np.testing.assert_allclose(p, expected)
    gen = torch.Generator().manual_seed(0)
    levels = [alg.draw_level(gen)[0] for _ in range(20_000)]
    freq = np.bincount(levels, minlength=4) / len(levels)
    np.testing.assert_allclose(freq, expected, atol=0.015)


# -- one step on a hand-checkable problem --------------------------------------------
def test_oracle_values_and_gradients_by_hand():
    problem, module = tiny_problem(t=1.0)
    alg = StochasticGhost(2)
    alg.bind(problem, torch.optim.SGD(module.parameters(), lr=0.05), 0.05)
    g, c, J, f = alg.oracle(torch.arange(problem.data.n), 3)
    La = 0.5 * (softplus(1.0) + softplus(-1.0))
    Lb = math.log(2.0)
    slope = 0.5 * (sigmoid(1.0) - sigmoid(-1.0))  # ∂L_a/∂θ₁; ∂L_b/∂θ = 0
    assert f == pytest.approx(0.5 * (La + Lb), rel=1e-6)
    np.testing.assert_allclose(g, [0.5 * slope, 0.0], atol=1e-7)
    np.testing.assert_allclose(c, [La - Lb - 0.02, Lb - La - 0.02], rtol=1e-5)
    np.testing.assert_allclose(J, [[slope, 0.0], [-slope, 0.0]], atol=1e-7)


def test_step_moves_by_gamma_times_the_mlmc_direction():
    problem, module = tiny_problem(t=1.0)
    lr = 0.05
    # Fixed oracles: S₁ and the two halves see different gradients.
    g1, g_odd, g_even = np.array([1.0, 0.0]), np.array([0.0, 2.0]), np.array([2.0, 0.0])
    c, J = np.array([-1.0, -1.0]), np.zeros((2, 2))  # inactive: d = -g
    oracles = iter([(g1, c, J, 0.5), (g_odd, c, J, 0.5), (g_even, c, J, 0.5)] * 2)

    class FixedOracles(StochasticGhost):
        def oracle(self, obj_rows, n_draws):
            return next(oracles)

    alg = FixedOracles(2, step_decay=0.5, max_level=0)
    alg.bind(problem, torch.optim.SGD(module.parameters(), lr=lr), lr)
    batch = problem.gather(torch.arange(4))
    before = module.lin.weight.detach().clone()[0].numpy()
    alg.start_epoch()
    alg.step(batch)
    # N = 0 always (max_level 0), p = 1; d(S) = -(g_odd + g_even)/2 = (-1, -1);
    # d̃ = (-1, 0) + [(-1, -1) - ½(0, -2) - ½(-2, 0)] / 1 = (-1, 0) + (0, 0).
    after = module.lin.weight.detach()[0].clone().numpy()
    np.testing.assert_allclose(after - before, lr * np.array([-1.0, 0.0]), atol=1e-7)
    # γ₁ = γ₀ (1 - ζ γ₀) = 0.05 (1 - 0.025)
    assert float(alg.step_size) == pytest.approx(0.05 * (1 - 0.5 * 0.05))
    alg.step(batch)
    second = module.lin.weight.detach()[0].numpy() - after
    np.testing.assert_allclose(second, [-0.04875, 0.0], atol=1e-7)
    summary = alg.end_epoch()
    assert summary["mean_level"] == 0.0 and summary["step_size"] == pytest.approx(
        0.04875 * (1 - 0.5 * 0.04875)
    )


def test_invalid_parameters():
    with pytest.raises(ValueError, match="level_probability"):
        StochasticGhost(2, level_probability=1.0)
    with pytest.raises(ValueError, match="feasibility_radius"):
        StochasticGhost(2, feasibility_radius=2.0, direction_bound=1.0)


# -- the estimator -------------------------------------------------------------------
def test_history_and_step_size_recursion(synthetic_400):
    X, y, A = synthetic_400
    clf = StochasticGhostClassifier(
        max_epochs=2,
        batch_size=100,
        lr=0.2,
        step_decay=0.5,
        random_state=0,
        device="cpu",
    )
    clf.fit(X, y, sensitive_features=A)
    gamma = 0.2
    for row in clf.history_:
        for _ in range(4):  # 400 / 100 steps per epoch
            gamma *= 1 - 0.5 * gamma
        assert row["step_size"] == pytest.approx(gamma, rel=1e-6)
        assert 0 <= row["mean_level"] <= clf.max_level
        assert row["kappa"] >= 0
    assert len(clf.history_[-1, "train_constraints"]) == 2


def test_warm_start_continues_the_step_size(synthetic_400):
    X, y, A = synthetic_400
    clf = StochasticGhostClassifier(
        max_epochs=1, batch_size=200, warm_start=True, random_state=0, device="cpu"
    )
    clf.fit(X, y, sensitive_features=A)
    first = clf.history_[-1, "step_size"]
    clf.fit(X, y, sensitive_features=A)
    assert clf.n_iter_ == 2 and clf.history_[-1, "step_size"] < first
