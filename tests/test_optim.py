"""LeanSGD and MoreauEnvelope: their gathered-buffer updates against torch's own.

The speed of the primal step comes from updating gathered buffers
(:mod:`fairsk.optim`); these tests hold that path to ``torch.optim.SGD`` and to the
envelope's per-tensor path, over steps that change the learning rate, with
parameter groups that differ, and after someone replaces the gradients.
"""

from __future__ import annotations

import pytest
import torch

from fairsk.optim import LeanSGD, MoreauEnvelope, take_step


def _net(seed: int = 0) -> tuple[torch.nn.Module, torch.nn.Parameter]:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)
    )
    return net, torch.nn.Parameter(torch.zeros(2), requires_grad=False)


def _grads(net, extra, step: int) -> None:
    x = torch.linspace(-1, 1, 15).view(5, 3) * (step + 1)
    net(x).pow(2).mean().backward()
    g = torch.tensor([0.3, -0.2]) * (step + 1)
    if extra.grad is None:
        extra.grad = g
    else:
        extra.grad.copy_(g)


def _groups(net, extra, **net_group) -> list[dict]:
    return [
        {"params": list(net.parameters()), **net_group},
        {"params": [extra], "weight_decay": 0.0},
    ]


def _run(make_opt, steps: int = 6, replace_grads_at: int | None = None):
    net, extra = _net()
    opt = make_opt(net, extra)
    for step in range(steps):
        opt.zero_grad()
        if step == replace_grads_at:  # someone drops the gradients
            for p in net.parameters():
                p.grad = None
        _grads(net, extra, step)
        for group in opt.param_groups:  # a schedule: a new lr at every step
            group["lr"] = 0.1 / (step + 1)
        take_step(opt)
    return [p.detach().clone() for p in [*net.parameters(), extra]], opt


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("replace_grads_at", [None, 3])
def test_lean_sgd_equals_torch_sgd(momentum, replace_grads_at):
    def lean(net, extra):
        groups = _groups(net, extra, weight_decay=0.01)
        return LeanSGD(groups, lr=0.1, momentum=momentum)

    def torch_sgd(net, extra):
        groups = _groups(net, extra, weight_decay=0.01)
        return torch.optim.SGD(groups, lr=0.1, momentum=momentum)

    ours, _ = _run(lean, replace_grads_at=replace_grads_at)
    theirs, _ = _run(torch_sgd, replace_grads_at=replace_grads_at)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_moreau_envelope_gathered_equals_per_tensor():
    """The envelope over LeanSGD (gathered buffers) = over torch's SGD (per tensor)."""

    def wrapped(cls):
        def make(net, extra):
            groups = _groups(net, extra, weight_decay=0.01)
            return MoreauEnvelope(cls(groups, lr=0.1), smoothing=2.0, anchor_rate=0.5)

        return make

    ours, env = _run(wrapped(LeanSGD))
    theirs, ref = _run(wrapped(torch.optim.SGD))
    assert env.optimizer.flat is not None  # the gathered path was the one taken
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(env.anchor, ref.anchor, rtol=1e-6, atol=1e-7)


def test_lean_sgd_state_dict_round_trip_resumes_exactly():
    def lean(net, extra):
        return LeanSGD(_groups(net, extra, weight_decay=0.01), lr=0.1, momentum=0.9)

    whole, _ = _run(lean, steps=6)
    net, extra = _net()
    opt = lean(net, extra)
    for step in range(3):
        opt.zero_grad()
        _grads(net, extra, step)
        for group in opt.param_groups:
            group["lr"] = 0.1 / (step + 1)
        take_step(opt)
    saved = opt.state_dict()
    opt = lean(net, extra)  # a fresh optimizer on the same parameters
    opt.load_state_dict(saved)
    for step in range(3, 6):
        opt.zero_grad()
        _grads(net, extra, step)
        for group in opt.param_groups:
            group["lr"] = 0.1 / (step + 1)
        take_step(opt)
    for a, b in zip(whole, [*net.parameters(), extra], strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=1e-6, atol=1e-7)
