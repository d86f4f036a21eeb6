"""Stochastic switching subgradient: the update rule by hand, and the estimator.

The hand-checked problem: a linear model without bias, ``logit = θ·x``, whose two
groups have one feature vector each (group a: x = (1, 0), group b: x = (0, 1)) and
balanced labels. Every draw of a cell then holds identical rows, so constraint
estimates are exact whatever the sample, and with θ = (t, 0)

    L_a = ½(softplus(-t) + softplus(t)),  L_b = log 2,
    ∂L_a/∂θ₁ = ½(σ(t) - σ(-t)),           ∂L_b/∂θ = 0 at θ₂ = 0,

so the loss-gap rows are c = (L_a - L_b - δ, L_b - L_a - δ).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fairsk import SwitchingSubgradientClassifier
from fairsk.algorithms import SwitchingSubgradient

from .common import sigmoid, softplus, tiny_problem

pytestmark = pytest.mark.usefixtures("one_thread")


def full_batch(problem):
    """One step's rows: every row as the objective minibatch, two group samples."""
    n = problem.data.n
    return next(problem.batches(n, SwitchingSubgradient.n_draws))


def sampled_constraints(problem, n_draws):
    """``n_draws`` constraint estimates, shape (n_draws, m)."""
    batch = problem.gather(torch.arange(0), n_draws)
    return problem.losses(problem.forward(batch.rows_X), batch)[1]


def gap(t):
    return 0.5 * (softplus(t) + softplus(-t)) - math.log(2)


def gap_slope(t):
    return 0.5 * (sigmoid(t) - sigmoid(-t))


def one_step(lr=0.1, t=1.0, bound=0.02, **params):
    """Take one step on all rows; return (Δθ, the epoch summary)."""
    problem, module = tiny_problem(t, bound)
    opt = torch.optim.SGD(module.parameters(), lr=lr)
    alg = SwitchingSubgradient(problem.n_constraints, **params)
    alg.bind(problem, opt, opt.param_groups[0]["lr"])
    before = module.lin.weight.detach().clone()
    alg.start_epoch()
    alg.step(full_batch(problem))
    summary = alg.end_epoch()
    return (module.lin.weight.detach() - before)[0].tolist(), summary


C_MAX = gap(1.0) - 0.02  # ≈ 0.1001, the larger loss-gap row at t = 1


def test_tiny_problem_constraints_are_exact():
    problem, _ = tiny_problem()
    c = sampled_constraints(problem, 3)
    expected = [gap(1.0) - 0.02, -gap(1.0) - 0.02]
    np.testing.assert_allclose(c.detach().numpy(), [expected] * 3, rtol=1e-5)


def test_constraint_branch_above_the_tolerance():
    d, summary = one_step(tolerance=C_MAX - 1e-4, constraint_lr=1.0)
    # θ₁ ← θ₁ - η_c ∂c₁/∂θ₁ = -1 · ½(σ(1) - σ(-1)); θ₂ untouched.
    assert d[0] == pytest.approx(-gap_slope(1.0), rel=1e-5)
    assert d[1] == 0.0
    assert summary["constraint_steps"] == 1 and summary["objective_steps"] == 0


def test_objective_branch_below_the_tolerance():
    d, summary = one_step(lr=0.1, tolerance=C_MAX + 1e-4, constraint_lr=1.0)
    # f = ½(L_a + L_b) over all rows: θ₁ ← θ₁ - 0.1 · ½ · ½(σ(1) - σ(-1)).
    assert d[0] == pytest.approx(-0.1 * 0.5 * gap_slope(1.0), rel=1e-5)
    assert d[1] == 0.0
    assert summary["constraint_steps"] == 0 and summary["objective_steps"] == 1


def step_constraint_max(problem) -> float:
    """The largest switching-sample row exactly as the step computes it.

    The step reads ``FairProblem.terms`` on its gathered batch; the same float32
    value along another code path (``problem.constraints``: a matrix product
    instead of ``addmv``) may differ in the last bit, and does on some x86 CPUs.
    """
    batch = full_batch(problem)
    with torch.no_grad():
        out = problem.terms(problem.forward(batch.rows_X), batch)
    return float(out[1 : 1 + problem.n_constraints].max())


def test_switch_at_exactly_the_tolerance_takes_the_constraint_step():
    # The rule is ``c_max >= tolerance``: at equality the constraint step. The
    # tolerance is constructed equal to the step's own float32 value, and one
    # float32 ulp above it takes the objective step, so the boundary is exact.
    problem, _ = tiny_problem()
    c_max = step_constraint_max(problem)
    assert c_max == pytest.approx(C_MAX, rel=1e-5)
    d, summary = one_step(tolerance=c_max, constraint_lr=1.0)
    assert summary["constraint_steps"] == 1
    assert d[0] == pytest.approx(-gap_slope(1.0), rel=1e-5)
    above = float(np.nextafter(np.float32(c_max), np.float32(np.inf)))
    _, summary = one_step(tolerance=above, constraint_lr=1.0)
    assert summary["constraint_steps"] == 0 and summary["objective_steps"] == 1


def test_inv_sqrt_rule_divides_by_root_of_the_step_count():
    problem, module = tiny_problem()
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    alg = SwitchingSubgradient(
        2, tolerance=0.0, constraint_lr=1.0, constraint_step_rule="inv_sqrt"
    )
    alg.bind(problem, opt, opt.param_groups[0]["lr"])
    alg.n_steps.fill_(3)  # this is step k = 4: η_c / 2
    before = float(module.lin.weight[0, 0])
    alg.start_epoch()
    alg.step(full_batch(problem))
    assert float(module.lin.weight[0, 0]) - before == pytest.approx(
        -0.5 * gap_slope(1.0), rel=1e-5
    )


def test_a_schedule_scales_both_branches():
    # A schedule (lr_schedule, LRScheduler) that halves the optimizer's step
    # halves the constraint step too: relative to the step when the fit began.
    problem, module = tiny_problem()
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    alg = SwitchingSubgradient(2, tolerance=C_MAX - 1e-4, constraint_lr=1.0)
    alg.bind(problem, opt, opt.param_groups[0]["lr"])
    opt.param_groups[0]["lr"] = 0.05
    before = float(module.lin.weight[0, 0].detach())
    alg.start_epoch()
    alg.step(full_batch(problem))
    after = float(module.lin.weight[0, 0].detach())
    assert after - before == pytest.approx(-0.5 * gap_slope(1.0), rel=1e-5)


@pytest.mark.parametrize("cap", [10.0, 0.5])
def test_polyak_constraint_step(cap):
    d, _ = one_step(tolerance=0.0, constraint_lr=cap, constraint_step_rule="polyak")
    g = gap_slope(1.0)
    step = min(C_MAX / g**2, cap)  # c_max / ‖∇c‖², capped at η_c
    assert (step < cap) == (cap == 10.0)  # 1.87: capped only at 0.5
    assert d[0] == pytest.approx(-step * g, rel=1e-4)


def test_polyak_objective_step():
    # Objective branch (tolerance above c_max): step min(f / ‖∇f‖², lr).
    d, _ = one_step(lr=100.0, tolerance=1.0, step_rule="polyak")
    f = 0.5 * (0.5 * (softplus(1.0) + softplus(-1.0)) + math.log(2))
    g = 0.5 * gap_slope(1.0)
    assert d[0] == pytest.approx(-(f / g**2) * g, rel=1e-4)


def test_tolerance_decay_heuristic_and_epoch_reset():
    problem, module = tiny_problem()
    opt = torch.optim.SGD(module.parameters(), lr=0.01)
    alg = SwitchingSubgradient(
        2, tolerance=1.0, tolerance_decay=0.5, tolerance_decay_after=1
    )
    alg.bind(problem, opt, opt.param_groups[0]["lr"])
    alg.start_epoch()
    alg.step(full_batch(problem))  # first step of the epoch: not yet
    assert float(alg.current_tolerance) == 1.0
    alg.step(full_batch(problem))
    alg.step(full_batch(problem))
    assert alg.end_epoch()["tolerance"] == 0.25
    alg.start_epoch()
    assert float(alg.current_tolerance) == 1.0


def test_invalid_step_rule():
    with pytest.raises(ValueError, match="step_rule"):
        SwitchingSubgradient(2, step_rule="adagrad")


# -- the estimator ------------------------------------------------------------------
def test_history_records_the_branches(synthetic_600):
    X, y, A = synthetic_600
    clf = SwitchingSubgradientClassifier(
        max_epochs=3, batch_size=50, random_state=0, device="cpu"
    )
    clf.fit(X, y, sensitive_features=A)
    for row in clf.history_:
        assert row["constraint_steps"] + row["objective_steps"] == 12  # 600 / 50
        assert row["tolerance"] == pytest.approx(clf.tolerance)
        assert len(row["train_constraints"]) == 2
    # tolerance 1: the loss gap never reaches it, every step is an objective step.
    clf.set_params(tolerance=1.0).fit(X, y, sensitive_features=A)
    assert clf.history_[:, "constraint_steps"] == [0, 0, 0]


@pytest.mark.parametrize("rule", ["inv_sqrt", "polyak"])
def test_step_rules_train(synthetic_600, rule):
    X, y, A = synthetic_600
    clf = SwitchingSubgradientClassifier(
        step_rule=rule,
        constraint_step_rule=rule,
        max_epochs=3,
        random_state=0,
        device="cpu",
    )
    assert clf.fit(X, y, sensitive_features=A).score(X, y) > 0.6


def test_warm_start_continues(synthetic_600):
    X, y, A = synthetic_600
    clf = SwitchingSubgradientClassifier(
        max_epochs=2, warm_start=True, random_state=0, device="cpu"
    )
    clf.fit(X, y, sensitive_features=A)
    clf.fit(X, y, sensitive_features=A)
    assert clf.n_iter_ == 4
