"""The interface every update rule implements.

An algorithm is a :class:`torch.nn.Module` so that its state (multipliers, slack
variables, counters, the random generator's state, the averaged weights) lives in
buffers and round-trips through ``state_dict()`` -- skorch saves it with
``f_algorithm``, moves it between devices and pickles it -- as :mod:`torch.optim`
optimizers do with theirs. It knows nothing of scikit-learn. The engine binds it to
a :class:`~fairsk.problem.FairProblem` and the primal optimizer, then, for each
step, calls :meth:`Algorithm.gradients` (the minibatch estimates, the state
updates that come before the primal step, and the gradients in ``.grad``),
notifies skorch's ``on_grad_computed`` callbacks, and calls
:meth:`Algorithm.apply` (the primal step and what follows it).
"""

from __future__ import annotations

import torch
from torch import nn

from ..optim import take_step
from ..problem import Batch, FairProblem
from ..settings import Setting, check_settings

__all__ = ["Algorithm"]


class Algorithm(nn.Module):
    """Base class of the update rules.

    Parameters
    ----------
    n_constraints : int
        Number of inequality rows ``m`` of the compiled constraints.
    n_models : int or None, default=None
        Models trained as one (their state stacked along a first dimension).
    **settings
        The rule's hyperparameters, declared (default, validation, doc) in its
        :attr:`settings` table.

    Notes
    -----
    :meth:`gradients` and :meth:`apply` must not synchronise with the host (no
    ``.item()``, no Python branching on tensor values) so that training on a GPU
    is not stalled; per-epoch summaries are accumulated on the device and read
    once in :meth:`end_epoch`.

    Examples
    --------
    A fitted classifier's update rule is the engine's ``algorithm_``; its state
    lives in buffers:

    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.algorithms import Algorithm
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(200, random_state=0)
    >>> clf = SSLALMClassifier(bound=0.5, hidden_layer_sizes=(8,), max_epochs=2,
    ...                        random_state=0).fit(X, y, sensitive_features=A)
    >>> alg = clf.net_.algorithm_
    >>> isinstance(alg, Algorithm), alg.n_constraints, alg.multipliers.shape
    (True, 2, torch.Size([2]))
    >>> int(alg.n_steps)  # 2 epochs of 4 minibatches (200 rows, batch_size=64)
    8
    >>> alg.problem is None  # unbound after fit: no reference to the data
    True
    """

    #: Whether the algorithm needs constraint samples (False for plain training).
    uses_constraints = True
    #: Balanced constraint samples gathered with each step's minibatch.
    n_draws = 0
    #: With held-out rows (``holdout_constraints``): the samples from the
    #: training rows and from the held-out rows; ``None``: the rule has no
    #: estimate to move to held-out rows.
    holdout_draws: tuple[int, int] | None = None
    #: Whether models of this rule can train as one (:mod:`fairsk.batched`):
    #: its step is written for state with a leading model dimension.
    batched = False
    #: Whether the primal step may be any torch optimizer (``optimizer=``); the
    #: others fold their step sizes into the gradient, which only SGD applies as
    #: they mean it.
    any_optimizer = True
    #: The rule's hyperparameters: the one place of their defaults, validation
    #: and documentation (the estimators and the docs read it).
    settings: dict[str, Setting] = {}
    #: Defaults this rule prefers for the estimators' shared settings (e.g. a
    #: larger constraint sample), declared here with the reason in the docs.
    shared_defaults: dict = {}

    def __init__(self, n_constraints: int = 0, n_models: int | None = None, **settings):
        super().__init__()
        self.n_constraints = int(n_constraints)
        #: Models trained as one (issue 16): every state tensor then has a
        #: leading dimension of this size; ``None`` for one model.
        self.n_models = n_models
        self.lead = () if n_models is None else (int(n_models),)
        self.configure(**settings)
        self.register_buffer("rng_state", torch.zeros(0, dtype=torch.uint8))
        self.register_buffer("n_steps", torch.zeros((), dtype=torch.long))
        # Sum over the epoch's steps of the sampled constraints c(ζ¹).
        self.register_buffer(
            "_c_sum", torch.zeros(*self.lead, self.n_constraints), False
        )
        self.register_buffer("_epoch_steps", torch.zeros(()), persistent=False)
        self.problem: FairProblem | None = None
        self.optimizer: torch.optim.Optimizer | None = None

    def configure(self, **settings) -> None:
        """Set hyperparameters (validated against :attr:`settings`)."""
        values = check_settings(
            self.settings, {**self.hyperparameters(), **settings}, type(self).__name__
        )
        # Plain attributes, never registered: a rule object (``dual_update``) is
        # a template here, not a submodule of the state.
        self.__dict__.update(values)

    def hyperparameters(self) -> dict:
        """Return the current value of every declared hyperparameter."""
        return {n: getattr(self, n, s.default) for n, s in self.settings.items()}

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
    def prepare_optimizer(self, optimizer: torch.optim.Optimizer):
        """Return the primal optimizer this rule steps with (the given one)."""
        return optimizer

    @classmethod
    def draws(cls, holdout: bool = False) -> tuple[int, int]:
        """Return the constraint samples per step, and how many are held out."""
        if not holdout:
            return cls.n_draws, 0
        if cls.holdout_draws is None:
            raise ValueError(
                f"{cls.__name__} has no constraint estimate to take from held-out "
                "rows (holdout_constraints needs multipliers or a switch)."
            )
        return sum(cls.holdout_draws), cls.holdout_draws[1]

    def bind(self, problem: FairProblem, optimizer, lr: float) -> None:
        """Attach the problem and the primal optimizer (base step ``lr``)."""
        self.problem, self.optimizer, self.base_lr = problem, optimizer, float(lr)
        self.params = [p for g in optimizer.param_groups for p in g["params"]]
        #: Which constraint samples the step reads for what (held out or not).
        self.held_out = problem.holdout is not None

    def unbind(self) -> None:
        """Drop references to the training data (before pickling or saving)."""
        self.problem = self.optimizer = self.params = None

    @property
    def lr(self) -> float:
        """Current primal step size (a learning-rate schedule may change it)."""
        return self.optimizer.param_groups[0]["lr"]

    # -- the step --------------------------------------------------------------
    def gradients(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Estimate, update what precedes the primal step, fill ``.grad``.

        Returns the minibatch objective (detached) and the objective rows'
        logits (what skorch's scoring callbacks receive as ``y_pred``).
        """
        raise NotImplementedError

    def apply(self) -> None:
        """Take the primal step with the gradients in ``.grad``."""
        take_step(self.optimizer)
        self._epoch_steps.add_(1)  # in place: no Module.__setattr__ per step

    def step(self, batch: Batch) -> torch.Tensor:
        """One whole step (what the engine does, without callbacks); return ``f``.

        Examples
        --------
        Driving a rule by hand on a :class:`~fairsk.problem.FairProblem`:

        >>> import numpy as np
        >>> from fairsk.algorithms import GradientDescent
        >>> from fairsk.nets import MLP
        >>> from fairsk.problem import FairProblem
        >>> from fairsk.sampling import TrainingData
        >>> X, y = np.random.default_rng(0).normal(size=(8, 2)), np.arange(8) % 2
        >>> data = TrainingData(X, y, None, None, None, None, "cpu")
        >>> module = MLP(2, (4,))
        >>> problem = FairProblem(module, data, torch.Generator().manual_seed(0))
        >>> rule = GradientDescent()
        >>> rule.bind(problem, torch.optim.SGD(module.parameters(), lr=0.1), 0.1)
        >>> f = rule.step(next(problem.batches(batch_size=8, n_draws=0)))
        >>> f.shape
        torch.Size([])
        """
        f, _ = self.gradients(batch)
        self.apply()
        return f

    def _backward(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()

    # -- per-epoch summaries ---------------------------------------------------
    def start_epoch(self) -> None:
        """Reset the device-side accumulators."""
        self._c_sum.zero_()
        self._epoch_steps.zero_()

    def end_epoch(self) -> dict:
        """Return this epoch's summary for the history (one host sync)."""
        self.n_steps += self._epoch_steps.long()
        if not self.uses_constraints or not self.n_constraints:
            return {}
        steps = max(float(self._epoch_steps), 1.0)
        return {"train_constraints": (self._c_sum / steps).tolist()}

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Tensors whose finiteness the engine checks after each epoch."""
        return {}
