"""The interface every update rule implements.

An algorithm is a :class:`torch.nn.Module` so that its state (multipliers, slack
variables, anchors, counters, the random generator's state) lives in buffers and
round-trips through ``state_dict()`` -- skorch saves it with ``f_algorithm``,
moves it between devices and pickles it -- as :mod:`torch.optim` optimizers do with
theirs. It knows nothing of scikit-learn: the engine binds it to a
:class:`~fairsk.problem.FairProblem` and the primal optimizer, then calls
:meth:`Algorithm.step` once per minibatch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..problem import FairProblem

__all__ = ["Algorithm"]


class Algorithm(nn.Module):
    """Base class of the update rules.

    Parameters
    ----------
    n_constraints : int
        Number of inequality rows ``m`` of the compiled constraints.
    param_shapes : sequence of torch.Size
        Shapes of the model's parameters (for per-parameter state such as anchors).

    Notes
    -----
    Subclasses implement :meth:`step`, which must not synchronise with the host
    (no ``.item()``, no Python branching on tensor values) so that training on a
    GPU is not stalled; per-epoch summaries are accumulated on the device and read
    once in :meth:`end_epoch`.

    Examples
    --------
    A fitted classifier's update rule is the engine's ``algorithm_``; its state
    lives in buffers:

    >>> import numpy as np
    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.algorithms import Algorithm
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> A = rng.choice(["a", "b"], size=200)
    >>> y = (X[:, 0] + 0.5 * (A == "a") > 0).astype(int)
    >>> clf = SSLALMClassifier(bound=0.5, hidden_layer_sizes=(8,), max_epochs=2,
    ...                        random_state=0).fit(X, y, sensitive_features=A)
    >>> alg = clf.net_.algorithm_
    >>> isinstance(alg, Algorithm), alg.n_constraints, alg.multipliers.shape
    (True, 2, torch.Size([2]))
    >>> int(alg.n_steps)  # 2 epochs of 4 minibatches (200 rows, batch_size=64)
    8
    >>> alg.problem is None  # unbound after fit: no reference to the data
    True

    The state round-trips through ``state_dict``, as ``Checkpoint(f_algorithm=...)``
    saves it:

    >>> params = clf.net_.module_.parameters()
    >>> fresh = type(alg)(alg.n_constraints, [p.shape for p in params])
    >>> fresh.load_state_dict(alg.state_dict())
    <All keys matched successfully>
    >>> bool((fresh.multipliers == alg.multipliers).all())
    True
    """

    #: Whether the algorithm needs constraint samples (False for plain training).
    uses_constraints = True
    #: Balanced constraint samples each step needs, for rules that step on
    #: gathered :class:`~fairsk.problem.Batch` es (:meth:`step_batch`); ``None``
    #: for rules that draw their own samples in :meth:`step`.
    n_draws: int | None = None

    def __init__(self, n_constraints: int, param_shapes: Sequence[torch.Size] = ()):
        super().__init__()
        self.n_constraints = int(n_constraints)
        self.register_buffer("rng_state", torch.zeros(0, dtype=torch.uint8))
        self.register_buffer("n_steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("_loss_sum", torch.zeros(()), persistent=False)
        self.register_buffer("_epoch_steps", torch.zeros(()), persistent=False)
        # Running average of the network's weights over late epochs (SWA).
        self.register_buffer("n_averaged", torch.zeros((), dtype=torch.long))
        self._n_params = len(param_shapes)
        for i, shape in enumerate(param_shapes):
            self.register_buffer(f"average_{i}", torch.zeros(shape))
        self.problem: FairProblem | None = None
        self.optimizer: torch.optim.Optimizer | None = None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The generator's state has a device-dependent length (CPU and CUDA
        # generators differ), so resize the buffer before the in-place copy.
        key = prefix + "rng_state"
        if key in state_dict:
            self.rng_state = torch.zeros_like(
                state_dict[key], device=self.n_steps.device
            )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # -- binding ---------------------------------------------------------------
    def bind(self, problem: FairProblem, optimizer: torch.optim.Optimizer) -> None:
        """Attach the problem and the primal optimizer before an epoch loop."""
        self.problem = problem
        self.optimizer = optimizer
        self.params = [p for g in optimizer.param_groups for p in g["params"]]

    def unbind(self) -> None:
        """Drop references to the training data (before pickling or saving)."""
        self.problem = None
        self.optimizer = None
        self.params = None

    @property
    def lr(self) -> float:
        """Current primal step size (an LRScheduler may change it)."""
        return self.optimizer.param_groups[0]["lr"]

    # -- the step --------------------------------------------------------------
    def step(self, idx: torch.Tensor) -> torch.Tensor:
        """Run one update on the objective minibatch ``idx``; return its loss."""
        raise NotImplementedError

    def step_batch(self, batch) -> torch.Tensor:
        """Run one update on a gathered batch (when :attr:`n_draws` is set)."""
        raise NotImplementedError

    def _primal_step(self, loss: torch.Tensor) -> None:
        """Backpropagate ``loss`` and take the primal optimizer's step."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._optimizer_step()

    def _optimizer_step(self) -> None:
        """Take the primal optimizer's step (LeanSGD's without its hooks)."""
        update = getattr(self.optimizer, "update", None)
        if update is None:
            self.optimizer.step()
        else:
            with torch.no_grad():
                update()

    def _count(self, f: torch.Tensor) -> None:
        """Accumulate the minibatch objective for the epoch's mean train loss."""
        self._loss_sum.add_(f.detach())
        self._epoch_steps.add_(1)  # in place: no Module.__setattr__ per step

    # -- per-epoch summaries ---------------------------------------------------
    def start_epoch(self) -> None:
        """Reset the device-side accumulators."""
        self._loss_sum.zero_()
        self._epoch_steps.zero_()

    def end_epoch(self) -> dict:
        """Return this epoch's summary for the history (one host sync)."""
        self.n_steps += self._epoch_steps.long()
        steps = max(float(self._epoch_steps), 1.0)
        return {"train_loss": float(self._loss_sum) / steps}

    # -- weight averaging ------------------------------------------------------
    def averages(self) -> list[torch.Tensor]:
        """Return the averaged weights, one tensor per model parameter."""
        return [getattr(self, f"average_{i}") for i in range(self._n_params)]

    @torch.no_grad()
    def update_average(self, params: Sequence[torch.Tensor]) -> None:
        r"""Fold the current weights into the running mean.

        :math:`\bar\theta_n = \bar\theta_{n-1} + (\theta - \bar\theta_{n-1})/n`,
        the stochastic weight averaging of Izmailov et al. (2018), *Averaging
        Weights Leads to Wider Optima and Better Generalization*, UAI.
        """
        n = int(self.n_averaged) + 1
        torch._foreach_lerp_(self.averages(), list(params), 1.0 / n)
        self.n_averaged.fill_(n)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Tensors whose finiteness the engine checks after each epoch."""
        return {}
