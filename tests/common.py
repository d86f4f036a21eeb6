"""What every test module shares: the list of classifiers, tiny settings, toy data.

One home for each: the contract tests (sklearn's checks, reliability, routing,
docs) run over :data:`CLASSIFIERS` (or :data:`CONSTRAINED`, a filter of it), and
synthetic data comes from :func:`make_synthetic` (named so: it is made up, for
testing mechanics), or from the ``synthetic`` fixture of ``tests/conftest.py``
for its defaults. The callbacks that stop a fit (Ctrl-C, or a planned end), the
checkpoint the resume tests use and the two-group problem the update-rule tests
check by hand (:func:`tiny_problem`) live here too, and :func:`load_benchmark`, which
imports a benchmark script for the acceptance tests that share its protocol.
"""

from __future__ import annotations

import importlib.util
import math
import signal
import sys
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, Checkpoint
from torch import nn

import fairsk
from fairsk.constraints import compile_constraints, make_constraints
from fairsk.estimators import BaseFairClassifier
from fairsk.problem import FairProblem
from fairsk.sampling import TrainingData

#: Every classifier fairsk exports.
CLASSIFIERS = [
    getattr(fairsk, name)
    for name in fairsk.__all__
    if isinstance(getattr(fairsk, name), type)
    and issubclass(getattr(fairsk, name), BaseFairClassifier)
]

#: The classifiers that train under constraints (all but the unconstrained one).
CONSTRAINED = [c for c in CLASSIFIERS if c is not fairsk.UnconstrainedClassifier]

#: Tiny settings: a 16-8 network, a few epochs.
TINY = {
    "hidden_layer_sizes": (16, 8),
    "max_epochs": 3,
    "batch_size": 32,
    "random_state": 0,
}

#: The repository's benchmark scripts: the acceptance tests run their protocols.
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    """Import the script ``benchmarks/<name>.py`` (not a package) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def make_synthetic(
    n: int = 240,
    seed: int = 0,
    groups=("a", "b"),
    p=None,
    *,
    shifts=None,
    group_feature: bool = False,
):
    """Synthetic ``(X, y, A)``: made up, for testing mechanics.

    ``A`` draws each row's group from ``groups`` (with probabilities ``p``,
    uniform by default); ``X`` has three standard-normal features; the label is 1
    when ``X[:, 0] + shift + 0.5 * noise > 0.4``, with each group's ``shift``
    from ``shifts`` (by default 0.8 for the first group and 0 for the others:
    the first group is favoured).

    ``X`` does not show the group, so an unconstrained network predicts alike
    for all groups and errs more on some (a loss gap). With
    ``group_feature=True`` a fourth column holds each row's shift: the network
    sees the group and reproduces the groups' disparity in its predictions.
    """
    rng = np.random.default_rng(seed)
    names = np.array(groups, dtype=object)
    codes = rng.choice(len(names), size=n, p=p)
    A = names[codes]
    X = rng.normal(size=(n, 3))
    if shifts is None:
        shifts = [0.8] + [0.0] * (len(names) - 1)
    shift = np.asarray(shifts, dtype=float)[codes]
    y = X[:, 0] + shift + 0.5 * rng.normal(size=n) > 0.4
    if group_feature:
        X = np.column_stack([X, shift])
    return X, y.astype(int), A


# -- stopping a fit from a callback --------------------------------------------------
class StopAtEpochEnd(Callback):
    """Press Ctrl-C (SIGINT) at the end of epoch ``epoch`` (after a checkpoint)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C


class StopMidEpoch(Callback):
    """Press Ctrl-C (SIGINT) after a few steps (3 batches) of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, **kwargs):
        if len(net.history) == self.epoch and len(net.history[-1, "batches"]) > 2:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C


class EndAfter(Callback):
    """End training after epoch ``epoch``, as a time budget does.

    The callback raises KeyboardInterrupt itself: skorch's way to end training
    early, a planned end, not an interruption (no SIGINT).
    """

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def checkpoint(folder):
    """A checkpoint of every epoch into ``folder``, the update rule's state too."""
    return Checkpoint(monitor=None, f_algorithm="algorithm.pt", dirname=str(folder))


# -- a problem checked by hand -------------------------------------------------------
def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


class Linear(nn.Module):
    """``logit = θ·x`` on two features, no bias."""

    def __init__(self, theta):
        super().__init__()
        self.lin = nn.Linear(2, 1, bias=False)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([theta], dtype=torch.float32))

    def forward(self, X):
        return self.lin(X).squeeze(-1)


def tiny_problem(t=1.0, bound=0.02, per_cell=4):
    """A loss-gap problem whose constraint estimates are exact; θ = (t, 0).

    Group a: x = (1, 0), group b: x = (0, 1), each with ``per_cell`` rows of each
    label, so every draw of a cell holds identical rows. Returns the
    :class:`~fairsk.problem.FairProblem` and its :class:`Linear` module.
    """
    X = np.array([[1.0, 0.0]] * (2 * per_cell) + [[0.0, 1.0]] * (2 * per_cell))
    y = np.array([0, 1] * per_cell * 2, dtype=np.float32)
    groups = np.repeat([0, 1], 2 * per_cell)
    mass = np.full((2, 2), float(per_cell))
    compiled = compile_constraints(
        make_constraints("loss_gap", bound), mass, ["a", "b"]
    )
    data = TrainingData(X, y, groups, None, compiled, 8, torch.device("cpu"))
    module = Linear([t, 0.0])
    problem = FairProblem(module, data, torch.Generator().manual_seed(0))
    return problem, module
