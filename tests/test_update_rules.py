"""Update rules against values computed by hand on a tiny problem.

The problem: a two-parameter model ``logit = w x + b``, four samples, one per
(group, label) cell, so every constraint sample draws the same rows and the
objective minibatch is the whole data set: each step is deterministic and its
result can be written in closed form with numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fairsk.algorithms import SSLALM, GradientDescent, Penalty
from fairsk.constraints import compile_constraints, make_constraints
from fairsk.optim import MoreauEnvelope
from fairsk.problem import FairProblem
from fairsk.sampling import TrainingData

X = np.array([[1.0], [2.0], [-1.0], [0.5]])
Y = np.array([0.0, 1.0, 0.0, 1.0])
G = np.array([0, 0, 1, 1])
W0, B0 = 0.3, -0.2
DELTA = 0.01


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 1, dtype=torch.float64)
        with torch.no_grad():
            self.lin.weight.fill_(W0)
            self.lin.bias.fill_(B0)

    def forward(self, x):
        return self.lin(x).squeeze(-1)


#: Held-out rows (holdout_constraints): other features, the same cells.
X_HOLD = np.array([[0.5], [1.5], [-2.0], [1.0]])


def setup(algorithm_cls, lr=0.1, holdout=False, **params):
    mass = np.zeros((2, 2))
    np.add.at(mass, (G, Y.astype(int)), 1.0)
    compiled = compile_constraints(
        make_constraints("loss_gap", DELTA), mass, ["a", "b"]
    )
    data = TrainingData(X, Y, G, None, compiled, 4, "cpu", dtype=torch.float64)
    held = None
    if holdout:
        held = TrainingData(X_HOLD, Y, G, None, compiled, 4, "cpu", torch.float64)
    model = Linear()
    problem = FairProblem(model, data, torch.Generator().manual_seed(0), held)
    alg = algorithm_cls(compiled.n_constraints, **params).double()
    opt = alg.prepare_optimizer(torch.optim.SGD(model.parameters(), lr=lr))
    alg.bind(problem, opt, lr)
    return model, alg


def setup_alm(lr, dual_lr, penalty, **params):
    """SSLALM without smoothing (anchors that follow θ): the plain augmented
    Lagrangian method."""
    return setup(
        SSLALM,
        lr=lr,
        dual_lr=dual_lr,
        penalty=penalty,
        smoothing=0.0,
        anchor_rate=1.0,
        **params,
    )


def step(alg):
    """One step on a batch holding all four rows (and every cell once per draw)."""
    batch = next(alg.problem.batches(4, *alg.draws(alg.held_out)))
    f, _ = alg.gradients(batch)
    alg.apply()
    return f


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def by_hand(w, b, x=None):
    """Objective, constraint vector, and their gradients in (w, b)."""
    x = X[:, 0] if x is None else x
    p = sigmoid(w * x + b)
    loss = -(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    dl = np.stack([(p - Y) * x, p - Y], 1)  # per-sample gradient of BCE
    f, df = loss.mean(), dl.mean(0)
    La, Lb = loss[G == 0].mean(), loss[G == 1].mean()
    dLa, dLb = dl[G == 0].mean(0), dl[G == 1].mean(0)
    c = np.array([La - Lb - DELTA, Lb - La - DELTA])
    J = np.stack([dLa - dLb, dLb - dLa])
    return f, df, c, J


def params(model):
    return np.array([model.lin.weight.item(), model.lin.bias.item()])


def assert_one_step(model, lr, df, weight, J):
    """The model's (w, b) after one step from (W0, B0) with step size ``lr`` along
    the objective's gradient ``df`` plus the constraint rows' ``weight @ J``."""
    np.testing.assert_allclose(
        params(model), [W0, B0] - lr * (df + weight @ J), rtol=1e-12
    )


def test_gradient_descent_step():
    model, alg = setup(GradientDescent, lr=0.1)
    f = step(alg)
    f0, df, _, _ = by_hand(W0, B0)
    assert f.item() == pytest.approx(f0)
    np.testing.assert_allclose(params(model), [W0, B0] - 0.1 * df, rtol=1e-12)


@pytest.mark.parametrize("power", [1, 2])
def test_penalty_step(power):
    model, alg = setup(Penalty, lr=0.1, penalty_weight=2.0, penalty_power=power)
    step(alg)
    _, df, c, J = by_hand(W0, B0)
    active = c > 0
    coef = 2.0 * (1.0 if power == 1 else 2 * c) * active
    assert_one_step(model, 0.1, df, coef, J)


def test_sslalm_two_steps_by_hand():
    tau, eta, rho, mu, beta = 0.1, 0.5, 2.0, 3.0, 0.4
    model, alg = setup(
        SSLALM,
        lr=tau,
        dual_lr=eta,
        penalty=rho,
        smoothing=mu,
        anchor_rate=beta,
        multiplier_max=10.0,
    )
    theta = np.array([W0, B0])
    lam, s = np.zeros(2), np.zeros(2)
    z_theta, z_s = theta.copy(), s.copy()
    for _ in range(2):
        step(alg)
        _, df, c, J = by_hand(*theta)
        lam = lam + eta * (c + s)  # 1. dual ascent (c̃ = c + s)
        lam = np.where(lam >= 10.0, 0.0, lam)
        weight = lam + rho * (c + s)  # ζ² draws the same rows here
        G_theta = df + weight @ J + mu * (theta - z_theta)
        G_s = weight + mu * (s - z_s)
        z_theta = z_theta + beta * (theta - z_theta)
        z_s = z_s + beta * (s - z_s)
        theta = theta - tau * G_theta
        s = np.maximum(s - tau * G_s, 0.0)
        np.testing.assert_allclose(alg.multipliers.numpy(), lam, rtol=1e-12)
        slack = alg.slack.detach().numpy()
        np.testing.assert_allclose(slack, s, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(params(model), theta, rtol=1e-12)
        # The Moreau envelope's anchors: the network's weights, then the slack.
        anchors = [z.item() for z in alg.optimizer.anchors[:2]]
        np.testing.assert_allclose(anchors, z_theta, rtol=1e-12)
        z_slack = alg.optimizer.anchors[2].numpy()
        np.testing.assert_allclose(z_slack, z_s, rtol=1e-12, atol=1e-15)
    # The hand-made problem is unfair enough for both effects to be visible.
    assert lam.max() > 0 and s.max() > 0


def test_sslalm_safeguard_resets_large_multipliers():
    _, alg = setup(SSLALM, lr=0.01, dual_lr=100.0, multiplier_max=1.0)
    step(alg)
    _, _, c, _ = by_hand(W0, B0)
    lam = 100.0 * c
    np.testing.assert_allclose(alg.multipliers.numpy(), np.where(lam >= 1.0, 0.0, lam))
    assert (lam >= 1.0).any()  # the reset really happened for one row


def test_alm_is_sslalm_without_smoothing():
    model, alg = setup_alm(lr=0.1, dual_lr=0.5, penalty=1.0)
    step(alg)
    _, df, c, J = by_hand(W0, B0)
    lam = 0.5 * c
    weight = lam + 1.0 * c
    assert_one_step(model, 0.1, df, weight, J)
    assert not isinstance(alg.optimizer, MoreauEnvelope)  # no anchor state


def test_sslalm_step_with_held_out_estimates():
    # Cotter et al.'s two-dataset step: λ and the weight from the held-out rows'
    # constraint estimates, the Jacobian from the training rows'.
    tau, eta, rho = 0.1, 0.5, 2.0
    model, alg = setup_alm(lr=tau, dual_lr=eta, penalty=rho, holdout=True)
    step(alg)
    _, df, _, J = by_hand(W0, B0)
    _, _, c_hold, _ = by_hand(W0, B0, X_HOLD[:, 0])
    lam = eta * c_hold
    np.testing.assert_allclose(alg.multipliers.numpy(), lam, rtol=1e-12)
    weight = lam + rho * c_hold
    assert_one_step(model, tau, df, weight, J)
