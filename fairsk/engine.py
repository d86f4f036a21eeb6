"""The training engine: skorch's own loop, stepping a constrained update rule.

:class:`FairNet` is a :class:`skorch.NeuralNetBinaryClassifier` (one logit per row,
``BCEWithLogitsLoss``) that keeps skorch's ``fit_loop``, ``run_single_epoch``,
callbacks, history, saving and loading, and overrides only what a constrained step
needs: the iterator (the training set lives on the device and each step's rows --
the objective minibatch and its balanced group samples -- are gathered by index,
:meth:`~fairsk.problem.FairProblem.batches`) and ``train_step`` (the update rule
``algorithm_`` of :mod:`fairsk.algorithms` computes the gradients, skorch's
``on_grad_computed`` callbacks see them, the rule takes the primal step). Every
other feature -- the per-epoch fairness report, weight averaging, the bound
margins, the learning-rate schedule, selection of the best feasible epoch,
divergence rollback -- is a callback of :mod:`fairsk.callbacks`.

Examples
--------
Without the scikit-learn front end, a net trains on a
:class:`~fairsk.sampling.TrainingData` with the callbacks of your choice:

>>> import numpy as np
>>> from fairsk.algorithms import SSLALM
>>> from fairsk.callbacks import FairnessMonitor
>>> from fairsk.constraints import cell_mass, compile_constraints, make_constraints
>>> from fairsk.nets import MLP
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 3))
>>> A = rng.choice(["a", "b"], size=200)
>>> y = (X[:, 0] + 0.5 * (A == "a") > 0).astype(int)
>>> g = (A == "b").astype(int)  # group codes 0, 1
>>> cc = compile_constraints(make_constraints("loss_gap", 0.5),
...                          cell_mass(g, y, 2), ["a", "b"])
>>> data = TrainingData(X, y, g, None, cc, 64, "cpu")
>>> net = FairNet(MLP, module__n_features=3, module__hidden_layer_sizes=(8,),
...               algorithm=SSLALM, algorithm__n_constraints=cc.n_constraints,
...               callbacks=[("fairness", FairnessMonitor())],
...               lr=0.05, max_epochs=2, batch_size=64, verbose=0)
>>> net = net.fit(data, None)
>>> len(net.history), net.algorithm_.multipliers.shape
(2, torch.Size([2]))
>>> net = net.partial_fit(data, epochs=2)  # two more epochs, multipliers kept
>>> len(net.history)
4
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
import signal
import threading

import torch
import torch.nn.functional as F
from skorch import NeuralNetBinaryClassifier
from skorch.callbacks import Callback, EpochScoring, PrintLog
from skorch.history import History
from skorch.utils import TeeGenerator
from torch.optim.swa_utils import AveragedModel

from .batched import BatchedData, BatchedProblem
from .exceptions import FitInterruptedWarning, warn
from .optim import LeanSGD
from .problem import Batch, FairProblem
from .sampling import TrainingData

__all__ = ["FairNet", "resolve_device", "torch_threads"]

#: History keys whose values are lists (PrintLog leaves them out).
LIST_KEYS = [
    "train_constraints",
    "constraints",
    "avg_constraints",
    "valid_constraints",
    "multipliers",
    "slack",
    "margins",
]
#: Serialises the sections that seed torch's global generator (modules that
#: cannot take a generator of their own; see :func:`_seeded_module`).
_INIT_LOCK = threading.Lock()


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run torch's CPU kernels on ``n`` threads, restoring the caller's setting.

    A 64-32 network's operations are too small to gain from threads, and a fixed
    count makes results independent of the machine and of how many fits run side
    by side: reductions are summed in the same order. ``None`` changes nothing.

    Examples
    --------
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    """
    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_device(device) -> torch.device:
    """Turn ``"auto"`` into CUDA when available, else CPU; check others exist.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("gpu")
    Traceback (most recent call last):
    ...
    ValueError: device='gpu' is not a torch device; use 'auto' (CUDA when available, ...
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError) as exc:  # "gpu", "cuda:x", ...
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto' (CUDA when "
            "available, else the CPU), 'cpu', 'cuda', 'cuda:<index>' or 'mps'."
        ) from exc
    available = {
        "cuda": torch.cuda.is_available,
        "mps": torch.backends.mps.is_available,
    }
    if dev.type in available and not available[dev.type]():
        raise ValueError(
            f"device={device!r} was requested but {dev.type.upper()} is not "
            "available here; use device='auto' or 'cpu'."
        )
    return dev


class _SigintWatch:
    """Tell Ctrl-C from a callback's ``raise KeyboardInterrupt`` during a fit.

    Both reach the engine as KeyboardInterrupt: skorch's ``EarlyStopping`` (and
    fairsk's divergence guard, and the benchmark's time budget) stop training by
    raising it, which is a planned end, while SIGINT means the user stopped a fit
    that is not finished. While entered (main thread only, and only where SIGINT
    raises KeyboardInterrupt through a Python handler), a SIGINT sets
    :attr:`fired` and is passed on to the handler that was in place. Elsewhere
    SIGINT cannot reach the fit's thread, so a KeyboardInterrupt there is a
    callback's.
    """

    def __init__(self):
        self.fired = False
        self._previous = None

    def _handler(self, signum, frame):
        self.fired = True
        self._previous(signum, frame)

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if callable(previous):
            self._previous = previous
            signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def _generators(seed, device, state=None):
    """Return the generator of ``seed`` (one per seed of a list), from ``state``."""
    seeds = seed if isinstance(seed, list | tuple) else [seed]
    gens = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
    if state is not None and state.numel():
        states = state if isinstance(seed, list | tuple) else [state]
        with contextlib.suppress(RuntimeError):  # a state of another device type
            for g, st in zip(gens, states, strict=True):
                # A row of the stacked states is a view at an offset, which
                # Generator.set_state misreads (torch 2.13): give it its own copy.
                g.set_state(st.cpu().clone())  # the draws continue
    return gens if isinstance(seed, list | tuple) else gens[0]


def _takes_generator(module_cls) -> bool:
    """Whether ``module_cls(..., generator=...)`` is accepted (fairsk's MLP)."""
    try:
        return "generator" in inspect.signature(module_cls).parameters
    except (TypeError, ValueError):  # no introspectable signature
        return False


def _generator_state(gen) -> torch.Tensor:
    """Return the state of ``gen``, or the stacked states of a list of them."""
    if isinstance(gen, list):
        return torch.stack([g.get_state() for g in gen])
    return gen.get_state()


def _record_epoch(net) -> None:
    """Record the rule's epoch summary in the history; keep its generator's state."""
    for key, value in net.algorithm_.end_epoch().items():
        net.history.record(key, value)
    if net.algorithm_.n_models is not None:  # models trained as one
        each = (net.loss_each_ / net.rows_each_).tolist()
        net.history.record("train_loss_each", each)
    state = _generator_state(net.problem_.generator)
    net.algorithm_.rng_state = state.to(net.algorithm_.n_steps.device)


def _seeded_module(net) -> torch.nn.Module:
    """Build ``net.module`` with its arguments, its weights drawn from ``net.seed``."""
    kwargs = net.get_params_for("module")
    if isinstance(net.module, type) and _takes_generator(net.module):
        kwargs["generator"] = _generators(net.seed, "cpu")
        return net.initialized_instance(net.module, kwargs)
    # A module that draws its weights from torch's global generator: seed it
    # around the construction, one fit at a time.
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(net.seed)
        return net.initialized_instance(net.module, kwargs)


def _update_rule(net):
    """Build ``net.algorithm`` with its arguments, averaging ``net.module_``."""
    rule = net.initialized_instance(net.algorithm, net.get_params_for("algorithm"))
    rule.averaged = AveragedModel(net.module_, use_buffers=True).requires_grad_(False)
    return rule


def _problem(module, dataset, gen) -> FairProblem | BatchedProblem:
    """Return the problem of ``dataset``: one model's, or many trained as one."""
    if isinstance(dataset, BatchedData):
        return BatchedProblem(module, dataset.datas, gen)
    return FairProblem(module, dataset, gen, getattr(dataset, "holdout", None))


def _state_copy(obj) -> dict:
    """Return a detached copy of the tensors of ``obj.state_dict()``."""
    return {n: t.detach().clone() for n, t in obj.state_dict().items()}


def _checkpoint_files(net, checkpoint) -> tuple[list, list, dict]:
    """Files of ``checkpoint`` that exist, that do not, and its ``f_*`` names."""
    try:
        files = checkpoint.get_formatted_files(net)  # may read the history
    except (IndexError, KeyError):
        files = {}
    paths = [checkpoint.f_history_, *files.values()]
    paths = list(dict.fromkeys(p for p in paths if isinstance(p, str | os.PathLike)))
    found = [p for p in paths if os.path.exists(p)]
    return found, [p for p in paths if not os.path.exists(p)], files


@contextlib.contextmanager
def _whole_checkpoint(net, checkpoint):
    """Around a load: a partial checkpoint fails, one without ``f_algorithm`` warns.

    A FileNotFoundError from a checkpoint with no file saved yet passes on
    (``LoadInitState`` starts afresh); from one with some files and not others it
    becomes a ValueError naming the missing files.
    """
    try:
        yield
    except FileNotFoundError as exc:
        found, missing, _ = (
            _checkpoint_files(net, checkpoint) if checkpoint else ([], [], {})
        )
        if not found:
            raise  # nothing saved yet: LoadInitState starts afresh
        raise ValueError(
            f"The checkpoint in {checkpoint.dirname!r} is incomplete: "
            f"{', '.join(os.path.basename(p) for p in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing (found "
            f"{', '.join(os.path.basename(p) for p in found)}). Resuming from "
            "part of it would train another model than the one checkpointed: "
            "restore the missing files, or empty the folder to start afresh."
        ) from exc
    if checkpoint is not None and not _checkpoint_files(net, checkpoint)[2].get(
        "f_algorithm"
    ):
        warn(
            "Resumed from a checkpoint that does not save the update rule's "
            "state (no f_algorithm): multipliers, averages and the random "
            "generator start afresh, so the fit will differ from an "
            "uninterrupted one. Checkpoint with f_algorithm='algorithm.pt'.",
            UserWarning,
        )


def _stopped(net, by_user: bool) -> None:
    """After a KeyboardInterrupt: put back the last finished epoch's state.

    A stop mid-epoch restores the state of the epoch before. ``by_user`` (Ctrl-C)
    also marks the fit interrupted and warns.
    """
    if len(net.history) > net.finished_:  # stopped mid-epoch
        net.restore(net.last_finished_)
    if not by_user:
        return
    net.interrupted_ = True
    if not len(net.history):
        net.history.new_epoch()
    net.history.record("interrupted", True)
    returned = (
        f"the weights of epoch {net.finished_}, the last that finished"
        if net.finished_
        else "no epoch finished, so the initial, untrained weights"
    )
    warn(
        f"Training was interrupted (KeyboardInterrupt) in epoch "
        f"{len(net.history)} of {net.fit_span_[1]}: fit stopped and returns "
        f"{returned} (weight averaging, select='feasible' and the bound check "
        "not applied). The model is not fully trained: interrupted_ is True "
        "and history_ ends with 'interrupted': True. Refit, or checkpoint every "
        "epoch and resume with LoadInitState (see the callbacks parameter).",
        FitInterruptedWarning,
    )


def _check_validation_scores(net) -> None:
    """Fail when callbacks read validation scores and there are no validation rows."""
    needs = [
        f"{name} (monitor={cb.monitor!r})"
        for name, cb in net.callbacks_
        if str(getattr(cb, "monitor", "") or "").startswith("valid_")
    ]
    needs += [
        name
        for name, cb in net.callbacks_
        if isinstance(cb, EpochScoring) and not cb.on_train and name != "valid_acc"
    ]
    if needs and net.train_split is None:
        raise ValueError(
            f"Callback(s) {', '.join(needs)} read validation scores, but there "
            "are no validation rows: set validation_fraction (e.g. 0.2), or "
            "monitor a training score (e.g. monitor='train_loss', "
            "on_train=True)."
        )


def _listeners(net, method_name: str) -> list:
    """Return the callbacks of ``net`` that override ``method_name`` (cached)."""
    cache = net.__dict__.setdefault("_listener_cache", {})
    if cache.get(None) is not net.callbacks_:
        cache.clear()
        cache[None] = net.callbacks_
    if method_name not in cache:
        base = getattr(Callback, method_name, None)
        cache[method_name] = [
            cb
            for _, cb in net.callbacks_
            if getattr(type(cb), method_name, None) is not base
        ]
    return cache[method_name]


class FairNet(NeuralNetBinaryClassifier):
    r"""skorch net that trains ``module_`` with the update rule ``algorithm_``.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The network: one logit per row (``module__*`` are its arguments).
    algorithm : type of Algorithm
        The update rule (``algorithm__*`` are its arguments, e.g.
        ``algorithm__n_constraints``).
    seed : int, default=0
        Seeds the network's initialisation and every minibatch draw (a local
        :class:`torch.Generator`, never torch's global one).
    **kwargs
        As for :class:`skorch.NeuralNet` (``optimizer``, ``lr``, ``max_epochs``,
        ``batch_size``, ``callbacks``, ``train_split``, ``verbose``, ``device``...).
        ``fit``/``partial_fit`` take a :class:`~fairsk.sampling.TrainingData`;
        by default they train until the history holds ``max_epochs`` epochs (a
        fit resumed by ``LoadInitState`` ends where an uninterrupted one would);
        ``partial_fit(data, epochs=n)`` trains ``n`` more.

    Examples
    --------
    A fitted classifier's engine is its ``net_``:

    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(200, random_state=0)
    >>> clf = SSLALMClassifier(bound=0.5, hidden_layer_sizes=(8,), max_epochs=2,
    ...                        random_state=0).fit(X, y, sensitive_features=A)
    >>> net = clf.net_
    >>> type(net).__name__, type(net.module_).__name__, type(net.algorithm_).__name__
    ('FairNet', 'MLP', 'SSLALM')
    >>> net.history[:, "epoch"], net.history[-1, "loss_gap_violation"] <= 0
    ([1, 2], True)

    The example of :mod:`fairsk.engine` trains a net without the scikit-learn front end.
    """

    def __init__(self, module, *, algorithm, seed=0, **kwargs):
        kwargs.setdefault("optimizer", LeanSGD)
        kwargs.setdefault("train_split", None)
        super().__init__(module, **kwargs)
        self.algorithm = algorithm
        self.seed = seed

    @property
    def _default_callbacks(self):
        return [
            (name, PrintLog(keys_ignored=LIST_KEYS) if name == "print_log" else cb)
            for name, cb in super()._default_callbacks
        ]

    # -- components ------------------------------------------------------------
    def initialize_module(self):
        """Build the network from the seed, the update rule, and its average."""
        self.module_ = _seeded_module(self)
        self.algorithm_ = _update_rule(self)
        return self

    def get_all_learnable_params(self):
        """Yield the network's parameters (a rule adds its own, e.g. the slack)."""
        yield from self.module_.named_parameters()

    def initialize_optimizer(self, *args, **kwargs):
        """Skorch's optimizer, as the update rule steps with it."""
        super().initialize_optimizer(*args, **kwargs)
        self.optimizer_ = self.algorithm_.prepare_optimizer(self.optimizer_)
        return self

    def initialize_history(self):
        """Start a :class:`skorch.history.History` with a fast ``record_batch``."""
        self.history_ = _History()
        return self

    # -- the loop --------------------------------------------------------------
    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """Skorch's loop; ``epochs=None`` runs until ``max_epochs`` are recorded.

        A KeyboardInterrupt mid-epoch puts back the state of the last finished
        epoch. Ctrl-C (SIGINT) marks the fit interrupted (``interrupted_``, a
        :class:`~fairsk.exceptions.FitInterruptedWarning`, ``"interrupted"`` in
        the history, the returned model left as that epoch's last iterate); a
        callback's KeyboardInterrupt (``EarlyStopping``) is a planned end.
        """
        whole = epochs is None
        if whole:
            epochs = max(self.max_epochs - len(self.history), 0)
        #: The epochs this fit schedules and averages over (first, last).
        self.fit_span_ = (0 if whole else len(self.history), len(self.history) + epochs)
        self.interrupted_, self.finished_ = False, len(self.history)
        with _SigintWatch() as sigint:
            try:
                return super().fit_loop(X, y, epochs, **fit_params)
            except KeyboardInterrupt:
                _stopped(self, by_user=sigint.fired)
                raise  # skorch's partial_fit stops training there and returns

    def snapshot(self) -> dict:
        """Copy the network's, the rule's and the optimizer's state."""
        sd = {"module": self.module_, "algorithm": self.algorithm_}
        out = {k: _state_copy(m) for k, m in sd.items()}
        return {**out, "optimizer": copy.deepcopy(self.optimizer_.state_dict())}

    def restore(self, snap: dict) -> None:
        """Put back what :meth:`snapshot` copied."""
        self.module_.load_state_dict(snap["module"])
        self.algorithm_.load_state_dict(snap["algorithm"])
        self.optimizer_.load_state_dict(snap["optimizer"])

    def load_params(self, *args, checkpoint=None, **kwargs):
        """Load as skorch does; a checkpoint that is only partly there fails.

        ``LoadInitState`` starts afresh from an empty checkpoint folder, but a
        checkpoint with some files and not others would resume another model
        than the one checkpointed: a ValueError names the missing files. A
        checkpoint without ``f_algorithm`` resumes with a warning (multipliers,
        averages and the random generator start afresh).
        """
        with _whole_checkpoint(self, checkpoint):
            return super().load_params(*args, checkpoint=checkpoint, **kwargs)

    def get_iterator(self, dataset, training=False):
        """Training: an epoch of gathered batches; else chunks of rows."""
        if not isinstance(dataset, TrainingData | BatchedData):
            return super().get_iterator(dataset, training=training)
        if not training:
            return _Chunks(dataset)
        gen = _generators(self.seed, dataset.device, self.algorithm_.rng_state)
        self.problem_ = _problem(self.module_, dataset, gen)
        self.algorithm_.bind(self.problem_, self.optimizer_, self.lr)
        return _Epochs(self)

    def train_step(self, batch, **fit_params):
        """Run the rule's gradients, ``on_grad_computed``, the rule's primal step."""
        f, y_pred = self.algorithm_.gradients(batch)
        if _listeners(self, "on_grad_computed"):
            params = TeeGenerator(self.module_.named_parameters())
            self.notify(
                "on_grad_computed", named_parameters=params, batch=batch, training=True
            )
        self.algorithm_.apply()
        if f.dim():  # models trained as one: each one's mean loss of the epoch
            n = batch.n_obj if batch.n_each is None else f.new_tensor(batch.n_each)
            self.loss_each_ = self.loss_each_ + f * n
            self.rows_each_ = self.rows_each_ + n
            f = f.mean()
        return {"loss": f, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        """Weighted mean BCE of a chunk of validation rows."""
        self._set_training(False)
        with torch.no_grad():
            y_pred = self.infer(batch[0])
            loss = F.binary_cross_entropy_with_logits(y_pred, batch[1], batch.weight)
        return {"loss": loss, "y_pred": y_pred}

    # -- the net's own hooks (notified before every callback) --------------------
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Check that callbacks which read validation scores will have them."""
        _check_validation_scores(self)

    def on_epoch_begin(self, net, **kwargs):
        """Keep the last finished epoch's state; open a history row; train mode."""
        self.finished_, self.last_finished_ = len(self.history), self.snapshot()
        super().on_epoch_begin(net, **kwargs)
        self._set_training(True)
        self.algorithm_.start_epoch()
        self.loss_each_, self.rows_each_ = 0.0, 0

    def on_epoch_end(self, net, **kwargs):
        """Record the rule's epoch summary; keep the generator's state."""
        self.finished_ = len(self.history)  # its steps are done: a stop keeps them
        _record_epoch(self)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Let go of the training data (callbacks read the history and weights)."""
        self.algorithm_.unbind()
        for key in ("problem_", "last_finished_"):
            self.__dict__.pop(key, None)

    # -- callbacks, dispatched to those that react ---------------------------------
    def notify(self, method_name, **cb_kwargs):
        """Skorch's notification, skipping callbacks that do not override a hook.

        Same contract as :meth:`skorch.NeuralNet.notify`; calling hundreds of
        no-op methods per epoch costs a tenth of a small network's step.
        """
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in _listeners(self, method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def __getstate__(self):
        state = super().__getstate__()
        for key in ("problem_", "_listener_cache", "last_finished_"):
            state.pop(key, None)
        return state


class _History(History):
    def record_batch(self, attr, value):
        # skorch's ``self[-1]['batches'][-1][attr] = value`` goes through
        # History.__getitem__'s general indexing, twice per step.
        list.__getitem__(self, -1)["batches"][-1][attr] = value


class _Epochs:
    """Re-iterable: each pass is one epoch of the net's problem."""

    def __init__(self, net: FairNet):
        self.net = net

    def __iter__(self):
        net = self.net
        problem = net.problem_
        bs = problem.data.n if net.batch_size in (-1, None) else net.batch_size
        draws = net.algorithm_.draws(holdout=problem.holdout is not None)
        return problem.batches(int(bs), *draws)


class _Chunks:
    """Validation or prediction rows in chunks, as ``(X, y)`` batches."""

    def __init__(self, data: TrainingData, size: int = 4096):
        self.data, self.size = data, size

    def __iter__(self):
        data = self.data
        for i in range(0, data.n, self.size):
            rows = slice(i, i + self.size)
            w = None if data.weight is None else data.weight[rows]
            n = data.X[rows].shape[0]
            yield Batch(data.X[rows], data.y[rows], n, 0, None, w)
