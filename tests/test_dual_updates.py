"""The multiplier update rules of fairsk.algorithms.dual, against hand-computed values.

Every expected number below is worked out by hand from the rule's formula (the
comments show the arithmetic), on two constraint rows; then the rules inside SSLALM
and the Lagrangian classifiers (``dual_update``).
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

from fairsk import ALMClassifier, SSLALMClassifier
from fairsk.algorithms import SSLALM
from fairsk.algorithms.dual import (
    DUAL_UPDATES,
    Augmented,
    DualUpdate,
    GradientAscent,
    IncreasingPenalty,
    Momentum,
    NuPI,
    PenaltyBarrier,
    make_dual_update,
    quadratic_log_barrier,
    quadratic_log_barrier_slope,
)


def t(*values):
    """Float32, as the algorithms' state (every hand value is a binary fraction)."""
    return torch.tensor(values, dtype=torch.float32)


def t64(*values):
    return torch.tensor(values, dtype=torch.float64)


def ready(rule: DualUpdate, m: int = 2, **inherited) -> DualUpdate:
    rule.setup(m)
    rule.configure(**inherited)
    return rule


def run(rule, lam, sequence):
    """Feed (c1, c2) pairs; return the weights and multipliers after each step."""
    out = []
    for c1, c2 in sequence:
        w = rule.step(lam, c1, c2)
        out.append((w.clone(), lam.clone()))
    return out


# -- ascent ------------------------------------------------------------------------
def test_ascent_hand_values():
    rule = ready(GradientAscent(dual_lr=0.5, penalty=2.0, multiplier_max=10.0))
    lam = t(0.0, 0.0)
    w = rule.step(lam, t(0.5, -0.25), t(0.25, 0.5))
    # λ = 0 + 0.5 (0.5, -0.25) = (0.25, -0.125); w = λ + 2 (0.25, 0.5)
    np.testing.assert_allclose(lam, [0.25, -0.125])
    np.testing.assert_allclose(w, [0.75, 0.875])


def test_ascent_safeguard_resets_only_the_large_multiplier():
    rule = ready(GradientAscent(dual_lr=1.0, penalty=0.0, multiplier_max=1.0))
    lam = t(0.9, 0.5)
    rule.step(lam, t(0.1, 0.25), t(0.0, 0.0))
    # (1.0, 0.75): the first reaches λ_max = 1 and is reset to 0.
    np.testing.assert_allclose(lam, [0.0, 0.75])


def test_inherited_hyperparameters_and_own_values():
    rule = ready(GradientAscent(penalty=3.0), dual_lr=0.25, penalty=7.0)
    assert rule.hp == {"dual_lr": 0.25, "penalty": 3.0, "multiplier_max": 10.0}
    rule.configure()  # nothing inherited: the algorithm's defaults
    assert rule.hp["dual_lr"] == 0.05


# -- momentum ----------------------------------------------------------------------
def test_momentum_hand_values():
    rule = ready(Momentum(momentum=0.5, dual_lr=1.0, penalty=1.0), m=1)
    lam = t(0.0)
    seq = [(t(1.0), t(0.0)), (t(1.0), t(0.0)), (t(-1.0), t(2.0))]
    out = run(rule, lam, seq)
    # v: 1, 1.5, -0.25; λ: 1, 2.5, 2.25; w = λ + c2: 1, 2.5, 4.25
    assert [float(w[0]) for w, _ in out] == [1.0, 2.5, 4.25]
    assert [float(lam[0]) for _, lam in out] == [1.0, 2.5, 2.25]
    assert float(rule.velocity[0]) == -0.25


def test_momentum_zero_is_exactly_ascent():
    gen = torch.Generator().manual_seed(0)
    seq = [
        (torch.randn(2, generator=gen), torch.randn(2, generator=gen))
        for _ in range(20)
    ]
    a = ready(GradientAscent(dual_lr=0.3, penalty=0.7, multiplier_max=1.0))
    b = ready(Momentum(momentum=0.0, dual_lr=0.3, penalty=0.7, multiplier_max=1.0))
    out_a = run(a, torch.zeros(2), seq)
    out_b = run(b, torch.zeros(2), seq)
    for (wa, la), (wb, lb) in zip(out_a, out_b, strict=True):
        assert torch.equal(wa, wb) and torch.equal(la, lb)


def test_momentum_reset_clears_the_velocity():
    rule = ready(Momentum(momentum=0.5, dual_lr=1.0, multiplier_max=1.0), m=1)
    lam = t(0.0)
    rule.step(lam, t(0.75), t(0.0))  # v = 0.75, λ = 0.75
    rule.step(lam, t(0.5), t(0.0))  # v = 0.875, λ = 1.625 >= 1: both reset
    assert float(lam[0]) == 0.0 and float(rule.velocity[0]) == 0.0


def test_momentum_equals_nupi_with_negative_proportional_gain():
    # Unprojected heavy ball = nuPI with ν = β, κ_i = η/(1-β), κ_p = -ηβ/(1-β)².
    eta, beta = 0.2, 0.5
    mom = ready(Momentum(momentum=beta, dual_lr=eta, multiplier_max=1e9), m=1)
    pi = ready(
        NuPI(
            ema=beta,
            dual_lr=eta / (1 - beta),
            proportional=-eta * beta / (1 - beta) ** 2,
            multiplier_max=1e9,
        ),
        m=1,
    )
    lam_m, lam_p = t(0.0), t(0.0)
    for c in [0.5, 0.25, 1.0, 0.125, 0.75]:  # positive: no projection at 0
        mom.step(lam_m, t(c), t(0.0))
        pi.step(lam_p, t(c), t(0.0))
        assert float(lam_m[0]) == pytest.approx(float(lam_p[0]), abs=1e-6)


# -- augmented and iALM ------------------------------------------------------------
def test_augmented_hand_values():
    rule = ready(Augmented(dual_lr=1.0, penalty=4.0, multiplier_max=0.5))
    lam = t(0.25, 0.25)
    w = rule.step(lam, t(1.0, -0.5), t(0.125, -0.25))
    # λ = clip((1.25, -0.25), 0, 0.5) = (0.5, 0); w = [(0.5 + 0.5, 0 - 1)]_+
    np.testing.assert_allclose(lam, [0.5, 0.0])
    np.testing.assert_allclose(w, [1.0, 0.0])


def test_ialm_penalty_grows_geometrically_up_to_its_cap():
    rule = ready(IncreasingPenalty(growth=2.0, penalty_max=5.0, penalty=1.0), m=1)
    lam = t(0.0)
    seq = [(t(0.0), t(1.0))] * 4
    # λ stays 0, so w = ρ_k c2 = ρ_k: 1, 2, 4, then capped at 5.
    assert [float(w[0]) for w, _ in run(rule, lam, seq)] == [1.0, 2.0, 4.0, 5.0]
    assert rule.summary() == {"penalty": 5.0}


def test_ialm_growth_one_is_augmented():
    seq = [(t(0.3, -0.1), t(0.2, 0.4)), (t(-0.6, 0.2), t(0.1, -0.3))]
    a = run(ready(Augmented(dual_lr=0.5, penalty=2.0)), t(0.0, 0.0), seq)
    b = run(
        ready(IncreasingPenalty(growth=1.0, dual_lr=0.5, penalty=2.0)), t(0.0, 0.0), seq
    )
    for (wa, la), (wb, lb) in zip(a, b, strict=True):
        torch.testing.assert_close(wa, wb)
        torch.testing.assert_close(la, lb)


# -- nuPI ----------------------------------------------------------------------------
def test_nupi_recursion_hand_values():
    rule = ready(NuPI(dual_lr=1.0, proportional=1.0, ema=0.5), m=1)
    lam = t(0.0)
    lams, xis = [], []
    for c in (1.0, 1.0, -0.5):
        rule.step(lam, t(c), None)
        lams.append(float(lam[0]))
        xis.append(float(rule.ema_violation[0]))
    # κ_p(1-ν) = 0.5:
    # λ1 = 0 + 1.5·1 - 0.5·0 = 1.5,        ξ1 = 0.5·0 + 0.5·1 = 0.5
    # λ2 = 1.5 + 1.5·1 - 0.5·0.5 = 2.75,   ξ2 = 0.25 + 0.5 = 0.75
    # λ3 = 2.75 - 0.75 - 0.5·0.75 = 1.625, ξ3 = 0.375 - 0.25 = 0.125
    assert lams == [1.5, 2.75, 1.625]
    assert xis == [0.5, 0.75, 0.125]


def test_nupi_special_cases():
    seq = [0.5, -0.25, 1.0, 0.75]
    # ν = 0: PI controller λ_{t+1} = λ_t + (κ_i + κ_p) c_t - κ_p c_{t-1}.
    rule = ready(NuPI(dual_lr=0.5, proportional=2.0, ema=0.0), m=1)
    lam, prev, expect = t(0.0), 0.0, 0.0
    for c in seq:
        rule.step(lam, t(c), None)
        expect = max(expect + 2.5 * c - 2.0 * prev, 0.0)
        prev = c
        assert float(lam[0]) == pytest.approx(expect)
    # κ_p = 0: projected gradient ascent with step κ_i.
    rule = ready(NuPI(dual_lr=0.5, proportional=0.0, ema=0.9), m=1)
    lam, expect = t(0.0), 0.0
    for c in seq:
        rule.step(lam, t(c), None)
        expect = max(expect + 0.5 * c, 0.0)
        assert float(lam[0]) == pytest.approx(expect)


def test_nupi_projects_and_returns_a_copy():
    rule = ready(NuPI(dual_lr=1.0, proportional=0.0, multiplier_max=2.0))
    lam = t(0.0, 0.0)
    w = rule.step(lam, t(3.0, -1.0), None)
    np.testing.assert_allclose(lam, [2.0, 0.0])
    w += 1.0  # the weights are not the state
    np.testing.assert_allclose(lam, [2.0, 0.0])


# -- PBM -------------------------------------------------------------------------------
def test_barrier_value_and_slope_at_the_joint64():
    joint = -0.5
    # Quadratic branch at the joint: t + t²/2 = -0.375, slope 1 + t = 0.5.
    # Log branch at the joint: -log(-2t)/4 - 3/8 = -0.375, slope -1/(4t) = 0.5.
    quad = joint + 0.5 * joint**2
    log = -0.25 * np.log(-2 * joint) - 0.375
    assert quad == log == -0.375
    assert 1 + joint == -1 / (4 * joint) == 0.5
    x = t64(joint)
    assert float(quadratic_log_barrier(x)) == -0.375
    assert float(quadratic_log_barrier_slope(x)) == 0.5
    # Continuous and C¹ across the joint: one-sided values and slopes agree.
    eps = 1e-7
    left, right = t64(joint - eps), t64(joint + eps)
    assert float(quadratic_log_barrier(left)) == pytest.approx(-0.375, abs=1e-6)
    assert float(quadratic_log_barrier(right)) == pytest.approx(-0.375, abs=1e-6)
    assert float(quadratic_log_barrier_slope(left)) == pytest.approx(0.5, abs=1e-6)
    assert float(quadratic_log_barrier_slope(right)) == pytest.approx(0.5, abs=1e-6)
    # Curvature matches too (1 on both sides): the function is C².
    h = 1e-4
    for side in (joint - 2 * h, joint + 2 * h):
        s = (
            quadratic_log_barrier_slope(t64(side + h))
            - quadratic_log_barrier_slope(t64(side - h))
        ) / (2 * h)
        assert float(s) == pytest.approx(1.0, abs=1e-3)


def test_barrier_properties_and_slope_is_the_derivative():
    x = torch.linspace(-5.0, 3.0, 81, dtype=torch.float64, requires_grad=True)
    phi = quadratic_log_barrier(x)
    (grad,) = torch.autograd.grad(phi.sum(), x)
    torch.testing.assert_close(grad, quadratic_log_barrier_slope(x.detach()))
    assert float(quadratic_log_barrier(t64(0.0))) == 0.0
    assert float(quadratic_log_barrier_slope(t64(0.0))) == 1.0
    slope = quadratic_log_barrier_slope(x.detach())
    assert bool((slope > 0).all()) and bool((slope.diff() > 0).all())  # convex
    # Far on the feasible side the slope vanishes like -1/(4t).
    assert float(quadratic_log_barrier_slope(t64(-100.0))) == pytest.approx(0.0025)


def test_pbm_hand_values():
    rule = ready(
        PenaltyBarrier(
            barrier_penalty=0.5, penalty_decay=0.5, penalty_min=0.1875, dual_lr=0.5
        )
    )
    lam = t(0.0, 0.0)  # the algorithm's zeros: PBM starts them at u_0 = 1
    w = rule.step(lam, t(0.25, -0.5), t(0.0, -0.25))
    # t1 = c1/p = (0.5, -1): φ' = (1.5, 0.25);
    # u = 1·(1 + 0.5·(1.5 - 1)) = 1.25 and 1·(1 + 0.5·(0.25 - 1)) = 0.625
    np.testing.assert_allclose(lam, [1.25, 0.625])
    # t2 = c2/p = (0, -0.5): φ' = (1, 0.5); w = (1.25, 0.3125)
    np.testing.assert_allclose(w, [1.25, 0.3125])
    assert float(rule.barrier_scale) == 0.25  # 0.5 · 0.5
    rule.step(lam, t(0.0, 0.0), t(0.0, 0.0))
    assert float(rule.barrier_scale) == 0.1875  # 0.125 clipped at p_min
    np.testing.assert_allclose(lam, [1.25, 0.625])  # φ'(0) = 1: unchanged


def test_pbm_multipliers_stay_positive_and_bounded():
    rule = ready(PenaltyBarrier(dual_lr=1.0, barrier_penalty=0.1, multiplier_max=3.0))
    lam = t(0.0, 0.0)
    for _ in range(50):
        rule.step(lam, t(1.0, -10.0), t(0.0, 0.0))
    assert float(lam[0]) == 3.0  # grew to the cap
    assert 0 < float(lam[1]) <= 1e-6 * 1.0001  # shrank to u_min, not to 0


# -- construction, parameters, state --------------------------------------------------
@pytest.mark.parametrize("name", sorted(DUAL_UPDATES))
def test_make_by_name_and_state_round_trip(name):
    rule = make_dual_update(name)
    assert type(rule).name == name
    holder = nn.Module()
    holder.rule = ready(rule, dual_lr=0.5)
    lam = torch.zeros(2)
    for _ in range(3):
        holder.rule.step(lam, torch.tensor([0.3, -0.2]), torch.tensor([0.1, 0.1]))
    state = holder.state_dict()
    other = nn.Module()
    other.rule = ready(make_dual_update(name), dual_lr=0.5)
    other.load_state_dict(state)
    for key, value in other.state_dict().items():
        assert torch.equal(value, state[key])
    back = pickle.loads(pickle.dumps(holder))
    assert back.rule.get_params() == rule.get_params()


def test_make_dual_update_specs():
    assert isinstance(make_dual_update(None), GradientAscent)
    nupi = NuPI(proportional=0.5)
    made = make_dual_update(nupi)
    assert made is not nupi and made.get_params() == nupi.get_params()
    assert made.n_constraints is None  # fresh, unallocated
    with pytest.raises(ValueError, match="Unknown dual_update"):
        make_dual_update("adam")
    with pytest.raises(TypeError):
        make_dual_update(3)


def test_params_are_sklearn_compatible():
    rule = Momentum(momentum=0.25)
    assert rule.get_params()["momentum"] == 0.25
    copy = clone(rule)
    assert copy is not rule and copy.get_params() == rule.get_params()
    rule.set_params(momentum=0.75, dual_lr=0.1)
    assert rule.momentum == 0.75 and rule.dual_lr == 0.1
    with pytest.raises(ValueError, match="Invalid parameter"):
        rule.set_params(nesterov=True)


@pytest.mark.parametrize(
    "rule",
    [
        Momentum(momentum=1.0),
        NuPI(ema=1.0),
        IncreasingPenalty(growth=0.5),
        PenaltyBarrier(dual_lr=2.0),
        PenaltyBarrier(barrier_penalty=0.0),
        GradientAscent(dual_lr=-1.0),
    ],
)
def test_invalid_hyperparameters_raise(rule):
    with pytest.raises(ValueError):
        rule.setup(2)


# -- the rules inside SSLALM and the Lagrangian classifiers ---------------------------


def test_default_rule_is_ascent_and_momentum_zero_matches_it(synthetic_600):
    X, y, A = synthetic_600
    kw = dict(max_epochs=3, random_state=0, device="cpu")
    base = SSLALMClassifier(**kw).fit(X, y, sensitive_features=A)
    for rule in ("ascent", GradientAscent(), Momentum(momentum=0.0)):
        other = SSLALMClassifier(dual_update=rule, **kw).fit(X, y, sensitive_features=A)
        np.testing.assert_array_equal(
            other.decision_function(X), base.decision_function(X)
        )


def test_sslalm_step_with_nupi_by_hand():
    # Two groups with one feature vector each (a: (1, 0), b: (0, 1)), balanced
    # labels, θ = (1, 0): constraint samples are exact, c = (Δ - δ, -Δ - δ) with
    # Δ = L_a - L_b and ∇c₁ = (s, 0), s = ½(σ(1) - σ(-1)).
    from fairsk.constraints import compile_constraints, make_constraints
    from fairsk.problem import FairProblem
    from fairsk.sampling import TrainingData

    X = np.array([[1.0, 0.0]] * 8 + [[0.0, 1.0]] * 8)
    y = np.array([0, 1] * 8, dtype=np.float32)
    compiled = compile_constraints(
        make_constraints("loss_gap", 0.02), np.full((2, 2), 4.0), ["a", "b"]
    )
    data = TrainingData(X, y, np.repeat([0, 1], 8), None, compiled, 8, "cpu")
    lin = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 0.0]]))
    module = nn.Sequential(lin, nn.Flatten(0))
    problem = FairProblem(module, data, torch.Generator().manual_seed(0))
    alg = SSLALM(
        2,
        smoothing=0.0,
        anchor_rate=1.0,
        dual_update=NuPI(dual_lr=1.0, proportional=2.0, ema=0.5),
    )
    alg.bind(problem, torch.optim.SGD(module.parameters(), lr=0.1), 0.1)
    alg.step(next(problem.batches(16, SSLALM.n_draws)))
    sig = 1 / (1 + np.exp(-1.0))
    s = 0.5 * (sig - (1 - sig))
    gap = 0.5 * (np.log1p(np.exp(1.0)) + np.log1p(np.exp(-1.0))) - np.log(2)
    c1 = gap - 0.02
    # λ₁ = (κ_i + κ_p(1-ν)) c₁ = 2 c₁, λ₂ = [2 (-Δ - δ)]_+ = 0; no slack.
    np.testing.assert_allclose(alg.multipliers, [2 * c1, 0.0], rtol=1e-5)
    assert alg.slack.tolist() == [0.0, 0.0]
    # θ₁ ← 1 - 0.1 (∂f/∂θ₁ + λ₁ s) with ∂f/∂θ₁ = ½ s (f averages both groups).
    expected = 1 - 0.1 * (0.5 * s + 2 * c1 * s)
    assert float(lin.weight[0, 0].detach()) == pytest.approx(expected, rel=1e-5)
    assert float(lin.weight[0, 1].detach()) == 0.0


@pytest.mark.parametrize("name", sorted(DUAL_UPDATES))
@pytest.mark.parametrize("cls", [SSLALMClassifier, ALMClassifier])
def test_every_rule_trains_in_the_classifiers(synthetic_600, cls, name):
    X, y, A = synthetic_600
    clf = cls(dual_update=name, max_epochs=3, random_state=0, device="cpu")
    clf.fit(X, y, sensitive_features=A)
    assert clf.score(X, y) > 0.6
    hist = clf.history_
    lam = np.array(hist[:, "multipliers"])
    assert np.isfinite(lam).all() and lam.shape == (3, 2)
    if not DUAL_UPDATES[name].uses_slack:
        assert np.array(hist[:, "slack"]).max() == 0.0
        assert lam.min() >= 0.0
    if name == "ialm":
        assert hist[-1, "penalty"] > hist[0, "penalty"]
    if name == "pbm":
        assert lam.min() > 0.0 and "barrier_penalty" in hist[-1]


def test_rule_objects_are_grid_searchable_and_picklable(synthetic_600):
    X, y, A = synthetic_600
    clf = SSLALMClassifier(dual_update=NuPI(), max_epochs=2, device="cpu")
    assert clf.get_params()["dual_update__proportional"] == 2.0
    search = GridSearchCV(clf, {"dual_update__proportional": [0.0, 1.0]}, cv=2)
    search.fit(X, y, sensitive_features=A)
    assert search.best_params_["dual_update__proportional"] in (0.0, 1.0)
    best = search.best_estimator_
    assert best.dual_update.n_constraints is None  # the parameter is never used
    back = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(back.predict_proba(X), best.predict_proba(X))


def test_invalid_dual_update_is_rejected(synthetic_600):
    X, y, A = synthetic_600
    with pytest.raises(ValueError, match="dual_update"):
        SSLALMClassifier(dual_update="adam").fit(X, y, sensitive_features=A)


def test_warm_start_takes_new_rule_hyperparameters_keeps_state(synthetic_600):
    X, y, A = synthetic_600
    clf = SSLALMClassifier(
        dual_update=NuPI(proportional=1.0),
        max_epochs=2,
        warm_start=True,
        random_state=0,
        device="cpu",
    )
    clf.fit(X, y, sensitive_features=A)
    rule = clf.net_.algorithm_.dual
    xi = rule.ema_violation.clone()
    clf.set_params(dual_update=NuPI(proportional=0.5)).fit(X, y, sensitive_features=A)
    assert clf.net_.algorithm_.dual is rule and rule.hp["proportional"] == 0.5
    assert not torch.equal(rule.ema_violation, xi)  # the state went on
    with pytest.raises(ValueError, match="warm start"):
        clf.set_params(dual_update="pbm").fit(X, y, sensitive_features=A)
