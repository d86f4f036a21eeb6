"""The training engine: a skorch net whose epoch runs a constrained update rule.

:class:`FairNet` keeps skorch's machinery -- module/optimizer initialisation, device
placement, callbacks (``EarlyStopping``, ``Checkpoint``, ``LoadInitState``,
``LRScheduler``, ``ProgressBar``, ...), ``history``, ``save_params``/``load_params``
and CUDA-to-CPU unpickling -- and overrides the one hook whose default does not fit
constrained training, :meth:`FairNet.fit_loop`: instead of a per-sample DataLoader,
the training set lives on the device as tensors and each step draws its objective
minibatch (a slice of one ``randperm``) and its balanced group samples by index.
The update rule is the net's custom module ``algorithm_``
(:mod:`fairsk.algorithms`), so its state is saved and restored with
``f_algorithm``.

Per-batch callbacks and per-batch history are honoured when some callback reacts to
batches (``ProgressBar``) or ``record_batches=True``; otherwise the step loop makes
no host call at all and the history is written once per epoch.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import os
import signal
import threading
import warnings

import numpy as np
import scipy.stats
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PrintLog
from torch import nn

from .exceptions import FitInterruptedWarning
from .problem import BLOCK_STEPS, FairProblem
from .sampling import TrainingData

__all__ = ["FairNet", "resolve_device", "torch_threads", "violation_tolerance"]

#: Most elements (rows × features) of one gathered block of steps: with large
#: batches, :data:`fairsk.problem.BLOCK_STEPS` steps of rows (e.g. 64 steps of
#: 4096 objective rows and 2 × 4096 constraint rows: 786k rows) would add most of
#: a copy of the training set to an epoch's memory. 2²² float32 are 16 MiB.
BLOCK_ELEMENTS = 2**22

#: History keys whose values are lists (not shown by PrintLog).
LIST_KEYS = (
    "train_constraints",
    "constraints",
    "avg_constraints",
    "valid_constraints",
    "multipliers",
    "slack",
    "margins",
)


#: The end-of-fit feasibility check (:meth:`FairNet.check_bounds`) allows a returned
#: model to miss a bound on the training set by half its allowance, and by at
#: least this much (in the constraint's units: a rate, a loss in nats, a ratio).
#: The spread of a stochastic method's end point sets it: on the ACS income task
#: with the defaults, SSL-ALM's training loss gap at bound 0.005 ends between
#: 0.0025 and 0.017 across seeds.
VIOLATION_ATOL = 0.02


def violation_tolerance(kind: str, bound: float) -> float:
    r"""How far a trained model may miss a bound before fit warns.

    Half the constraint's allowance, at least :data:`VIOLATION_ATOL`: the
    allowance is the gap :math:`\delta` itself for ``"difference"``, the
    relative gap :math:`1 - r` that :math:`\min/\max \ge r` permits for
    ``"ratio"``, and a fifth of the level for ``"upper"``. A run that meets its
    bound up to the oscillation of a stochastic method stays well inside it; a
    bound that is infeasible for the data and model, too tight, or not reached in
    ``max_epochs`` does not.

    Examples
    --------
    >>> violation_tolerance("difference", 0.05), violation_tolerance("ratio", 0.8)
    (0.025, 0.1)
    >>> violation_tolerance("difference", 0.005)  # the absolute floor
    0.02
    """
    allowance = {"difference": bound, "ratio": 1.0 - bound, "upper": 0.2 * bound}
    return max(0.5 * allowance[kind], VIOLATION_ATOL)


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run torch's CPU kernels on ``n`` threads, restoring the caller's setting.

    A 64-32 network's operations are too small to gain from threads (they only
    add synchronisation), and a fixed count makes results independent of the
    machine and of how many fits run side by side (``GridSearchCV(n_jobs=...)``):
    reductions are summed in the same order. ``None`` leaves the setting alone.

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
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available here; "
            "use device='auto' or 'cpu'."
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available.")
    return dev


class _SigintWatch:
    """Tell Ctrl-C from a callback's ``raise KeyboardInterrupt`` during a fit.

    Both reach the engine as KeyboardInterrupt: skorch's ``EarlyStopping`` (and
    fairsk's benchmark time budget) stop training by raising it, which is a
    planned end, while SIGINT means the user stopped a fit that is not
    finished. While entered (main thread only, and only where SIGINT raises
    KeyboardInterrupt through a Python handler), a SIGINT sets :attr:`fired`
    and is passed on to the handler that was in place. Elsewhere SIGINT cannot
    reach the fit's thread, so a KeyboardInterrupt there is a callback's.
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


#: Serialises the sections that seed torch's global generator (modules that cannot
#: take a generator of their own; see :meth:`FairNet.initialize_module`).
_GLOBAL_RNG_LOCK = threading.Lock()


def _takes_generator(module_cls) -> bool:
    """Whether ``module_cls(..., generator=...)`` is accepted (fairsk's MLP)."""
    try:
        return "generator" in inspect.signature(module_cls).parameters
    except (TypeError, ValueError):  # no introspectable signature
        return False


def _reacts_to_batches(cb: Callback) -> bool:
    kind = type(cb)
    return (
        kind.on_batch_begin is not Callback.on_batch_begin
        or kind.on_batch_end is not Callback.on_batch_end
    )


class FairNet(NeuralNet):
    r"""skorch net that trains ``module_`` with the update rule ``algorithm_``.

    Parameters
    ----------
    module : type of torch.nn.Module
        The network (``module__*`` keyword arguments are passed to it).
    algorithm : type of Algorithm
        The update rule, built with ``algorithm_params`` and the constraint count.
    algorithm_params : dict or None
        Hyperparameters of the update rule.
    n_constraints : int
        Number of constraint rows the algorithm holds state for.
    seed : int
        Seeds the network's initialisation and every minibatch draw.
    record_batches : bool
        Record per-batch losses in ``history`` (one host sync per step).
    average : float or None
        Average the weights at the end of each epoch past this fraction of the
        run, and return the average (stochastic weight averaging); ``None``
        returns the last iterate.
    lr_schedule : {"constant", "cosine"}
        ``"cosine"`` sets the primal step of epoch :math:`e` of :math:`E` to
        :math:`\tau (1 + \cos(\pi e / E)) / 2` (Loshchilov & Hutter, 2017,
        *SGDR*, without restarts).
    confidence : float or None
        Train on bounds tightened by the one-sided normal quantile of this level
        times each constraint row's standard error on the training set
        (re-estimated every epoch); ``None`` trains on the bounds as given.
    select : {"last", "feasible"}
        What to return when a validation set is given to :meth:`fit_loop`:
        the last epoch's model (averaged when ``average`` is set), or the epoch's
        model with the lowest validation objective among those that meet every
        bound on the validation set (else the least violating, with a warning).
    **kwargs
        Passed to :class:`skorch.NeuralNet` (``optimizer``, ``lr``, ``max_epochs``,
        ``batch_size``, ``callbacks``, ``warm_start``, ``verbose``, ``device``...).

    Examples
    --------
    A fitted classifier's engine is its ``net_``: the network, the update rule,
    the history, and skorch's saving and loading (``f_algorithm`` holds the
    rule's state):

    >>> import numpy as np
    >>> from fairsk import SSLALMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> A = rng.choice(["a", "b"], size=200)
    >>> y = (X[:, 0] + 0.5 * (A == "a") > 0).astype(int)
    >>> clf = SSLALMClassifier(bound=0.5, hidden_layer_sizes=(8,), max_epochs=2,
    ...                        random_state=0).fit(X, y, sensitive_features=A)
    >>> net = clf.net_
    >>> type(net).__name__, type(net.module_).__name__, type(net.algorithm_).__name__
    ('FairNet', 'MLP', 'SSLALM')
    >>> net.history[:, "epoch"], net.history[-1, "loss_gap_violation"] <= 0
    ([1, 2], True)
    >>> import os
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     net.save_params(f_params=os.path.join(d, "params.pt"),
    ...                     f_algorithm=os.path.join(d, "algorithm.pt"))
    ...     sorted(os.listdir(d))
    ['algorithm.pt', 'params.pt']

    Without the scikit-learn front end, a net trains on a
    :class:`~fairsk.sampling.TrainingData`:

    >>> from fairsk.algorithms import SSLALM
    >>> from fairsk.constraints import compile_constraints, make_constraints
    >>> from fairsk.nets import MLP
    >>> from fairsk.optim import LeanSGD
    >>> from fairsk.sampling import TrainingData
    >>> g = (A == "b").astype(int)  # group codes 0, 1
    >>> mass = np.zeros((2, 2))
    >>> np.add.at(mass, (g, y), 1.0)  # samples per (group, label) cell
    >>> cc = compile_constraints(make_constraints("loss_gap", 0.5), mass, ["a", "b"])
    >>> data = TrainingData(X, y, g, None, cc, 64, "cpu")
    >>> net = FairNet(MLP, module__n_features=3, module__hidden_layer_sizes=(8,),
    ...               algorithm=SSLALM, n_constraints=cc.n_constraints,
    ...               optimizer=LeanSGD, lr=0.05, max_epochs=2, batch_size=64,
    ...               verbose=0)
    >>> net = net.initialize().partial_fit(data)
    >>> len(net.history), net.algorithm_.multipliers.shape
    (2, torch.Size([2]))
    >>> net = net.partial_fit(data)  # two more epochs, multipliers kept
    >>> len(net.history)
    4
    """

    def __init__(
        self,
        module,
        *,
        algorithm,
        algorithm_params=None,
        n_constraints=0,
        seed=0,
        record_batches=False,
        average=None,
        lr_schedule="constant",
        confidence=None,
        select="last",
        criterion=nn.BCEWithLogitsLoss,
        **kwargs,
    ):
        kwargs.setdefault("train_split", None)
        super().__init__(module, criterion, **kwargs)
        self.algorithm = algorithm
        self.algorithm_params = algorithm_params
        self.n_constraints = n_constraints
        self.seed = seed
        self.record_batches = record_batches
        self.average = average
        self.lr_schedule = lr_schedule
        self.confidence = confidence
        self.select = select

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("print_log", PrintLog(keys_ignored=list(LIST_KEYS))),
        ]

    def initialize_module(self):
        """Build the network (seeded) and the update rule's state module.

        A module class that takes a ``generator`` argument (fairsk's
        :class:`~fairsk.nets.MLP`) draws its initial weights from a
        ``torch.Generator`` of this fit, seeded with ``seed``: fits running side by
        side in threads (``GridSearchCV`` under joblib's threading backend) cannot
        take each other's draws, and torch's global generator is not touched. Any
        other module (a user's, or an instance) is built while torch's global
        generator is seeded with ``seed`` and restored afterwards; that section
        holds a process-wide lock, so that fairsk fits in threads never
        interleave there, but a user's own code drawing from the global generator
        in another thread at that moment would still change the initialisation.
        """
        if isinstance(self.module, type) and _takes_generator(self.module):
            generator = torch.Generator().manual_seed(self.seed)
            kwargs = {**self.get_params_for("module"), "generator": generator}
            self.module_ = self.initialized_instance(self.module, kwargs)
        else:
            with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                super().initialize_module()
        shapes = [p.shape for p in self.module_.parameters()]
        self.algorithm_ = self.algorithm(
            self.n_constraints, shapes, **(self.algorithm_params or {})
        )
        return self

    # -- checkpoints ---------------------------------------------------------------
    def load_params(self, *args, checkpoint=None, **kwargs):
        """Load as skorch does; a checkpoint that is only partly there fails.

        ``LoadInitState`` resumes from a checkpoint whose files exist and starts
        afresh when loading raises FileNotFoundError (nothing saved yet). A
        checkpoint with some files but not others (``params.pt`` deleted,
        ``algorithm.pt`` lost) used to resume from the files that were there,
        silently: another model than the one checkpointed. Such a checkpoint is
        now a ValueError naming the missing files; and a resume from a
        checkpoint that does not save the update rule (no ``f_algorithm``) warns
        that multipliers, averages and the random generator start afresh.
        """
        try:
            out = super().load_params(*args, checkpoint=checkpoint, **kwargs)
        except FileNotFoundError as exc:
            if checkpoint is None:
                raise
            found, missing = self._checkpoint_files(checkpoint)
            if not found:
                raise  # an empty checkpoint: LoadInitState starts afresh
            names = ", ".join(os.path.basename(p) for p in missing)
            raise ValueError(
                f"The checkpoint in {checkpoint.dirname!r} is incomplete: {names} "
                f"{'is' if len(missing) == 1 else 'are'} missing (found "
                f"{', '.join(os.path.basename(p) for p in found)}). Resuming from "
                "part of it would train another model than the one checkpointed: "
                "restore the missing files, or empty the folder to start afresh."
            ) from exc
        if checkpoint is not None and self._checkpoint_files(checkpoint, "f_algorithm"):
            warnings.warn(
                "Resumed from a checkpoint that does not save the update rule's "
                "state (no f_algorithm): multipliers, averages and the random "
                "generator start afresh, so the fit will differ from an "
                "uninterrupted one. Checkpoint with f_algorithm='algorithm.pt'.",
                UserWarning,
                stacklevel=2,
            )
        return out

    def _checkpoint_files(self, checkpoint, lacking: str | None = None):
        """Files of ``checkpoint`` that exist and that do not, as two lists.

        With ``lacking``, return instead whether the checkpoint saves no such
        file (its ``f_*`` argument is unset).
        """
        try:
            files = checkpoint.get_formatted_files(self)  # may read the history
        except (IndexError, KeyError):
            files = {}
        if lacking is not None:
            return files.get(lacking) is None
        paths = [checkpoint.f_history_, *files.values()]
        paths = [p for p in paths if isinstance(p, str | os.PathLike)]
        found = [p for p in paths if os.path.exists(p)]
        return found, [p for p in paths if not os.path.exists(p)]

    # -- the loop ----------------------------------------------------------------
    def _generator(self, device: torch.device) -> torch.Generator:
        gen = torch.Generator(device=device)
        state = self.algorithm_.rng_state
        if state.numel():
            try:
                gen.set_state(state.cpu())
                return gen
            except RuntimeError:  # state from another device type: start afresh
                pass
        gen.manual_seed(self.seed)
        return gen

    def fit_loop(
        self, X, y=None, epochs=None, *, epoch_mode="more", valid=None, **fit_params
    ):
        """Train on ``X``, a :class:`~fairsk.sampling.TrainingData`.

        ``epoch_mode="total"`` runs until the history holds ``max_epochs`` epochs
        (so a fit resumed by ``LoadInitState`` from a checkpoint ends where an
        uninterrupted one would); ``"more"`` runs ``max_epochs`` more (warm start).
        ``valid`` (a :class:`~fairsk.sampling.TrainingData` without sampler) is
        evaluated after every epoch, as ``valid_*`` history entries.
        """
        data: TrainingData = X
        self.check_training_readiness()
        self.interrupted_ = False
        if epochs is None:
            epochs = self.max_epochs
            if epoch_mode == "total":
                epochs = max(self.max_epochs - len(self.history), 0)
        if self.lr_schedule != "constant":
            # The schedule sets each epoch's step from ``lr``; a resumed fit
            # (LoadInitState) loads the last scheduled step into the optimizer,
            # and rules that read the base step when bound (switching) must see
            # ``lr`` as an uninterrupted fit does.
            for group in self.optimizer_.param_groups:
                group["lr"] = float(self.lr)
        gen = self._generator(data.device)
        problem = FairProblem(self.module_, data, gen)
        algo = self.algorithm_
        algo.bind(problem, self.optimizer_)
        cbs = [cb for _, cb in self.callbacks_]
        per_batch = self.record_batches or any(_reacts_to_batches(cb) for cb in cbs)
        self._per_batch = per_batch
        epoch_kwargs = {"dataset_train": data, "dataset_valid": valid}
        self._valid, self._best = valid, None
        self._last_good, self._finished = None, len(self.history)
        self._epochs_to = len(self.history) + epochs
        with _SigintWatch() as sigint:
            try:
                if epoch_mode == "more":  # a warm start averages its own epochs afresh
                    algo.n_averaged.zero_()
                self._average_after = (
                    np.inf
                    if self.average is None
                    else self.average * (len(self.history) + epochs)
                )
                if self.confidence is not None and data.compiled is not None:
                    self._update_margins(problem, problem.evaluate())
                self._last_good = self._snapshot()
                first, total = len(self.history), len(self.history) + epochs
                if epoch_mode == "more":  # a warm start schedules its own epochs
                    first, total = 0, epochs
                for e in range(epochs):
                    self._schedule_lr(first + e, total)
                    self.notify("on_epoch_begin", **epoch_kwargs)
                    self.run_training_epoch(problem, gen, per_batch)
                    algo.rng_state = gen.get_state().to(algo.n_steps.device)
                    if not self.record_epoch(problem):
                        break
                    self._finished = len(self.history)
                    self.notify("on_epoch_end", **epoch_kwargs)
                self._finish(algo)
            except KeyboardInterrupt:
                if sigint.fired:  # Ctrl-C (SIGINT): an interrupted fit
                    self._record_interrupt()
                    raise  # skorch's partial_fit stops training there and returns
                # A callback stopped training the way skorch documents, by raising
                # KeyboardInterrupt (EarlyStopping, a time budget): a planned end.
                # The model is finished as after the last epoch, from the last one
                # that finished.
                self._back_to_last_finished_epoch()
                self._finish(algo)
            finally:
                algo.unbind()
                self._last_good = self._valid = self._best = None
        return self

    def _back_to_last_finished_epoch(self) -> None:
        """Undo a half-run epoch: the state of the last epoch that finished.

        Nothing to undo when the stop came after the epoch was recorded (in
        ``on_epoch_end``): its state is the current one, averages included
        (the snapshot is taken before the epoch's averaging update).
        """
        if self._finished < len(self.history) and self._last_good is not None:
            self._restore(self._last_good)

    def _record_interrupt(self) -> None:
        """Mark a fit stopped by Ctrl-C; return the last finished epoch.

        skorch's ``partial_fit`` swallows the KeyboardInterrupt and returns, so
        the net would otherwise look fully trained. The weights, update-rule state and
        optimizer state of the last epoch that finished are put back (a
        half-run epoch's weights are described by no history row); weight
        averaging, ``select="feasible"`` and :meth:`check_bounds` belong to a
        finished fit and are skipped. The last history row (the epoch it
        stopped in) gets ``"interrupted": True``, ``interrupted_`` is set and a
        :class:`~fairsk.exceptions.FitInterruptedWarning` says what was returned.
        """
        self.interrupted_ = True
        self._back_to_last_finished_epoch()
        if not len(self.history):
            self.history.new_epoch()
        self.history.record("interrupted", True)
        finished = self._finished
        stopped = self.history[-1].get("epoch", len(self.history))
        returned = (
            f"the weights of epoch {finished}, the last that finished"
            if finished
            else "no epoch finished, so the initial, untrained weights"
        )
        warnings.warn(
            f"Training was interrupted (KeyboardInterrupt) in epoch {stopped} of "
            f"{self._epochs_to}: fit stopped and returns {returned} (weight "
            "averaging, select='feasible' and the bound check not applied). The "
            "model is not fully trained: interrupted_ is True and history_ ends "
            "with 'interrupted': True. Refit, or checkpoint every epoch and "
            "resume with LoadInitState (see the callbacks parameter).",
            FitInterruptedWarning,
            # _record_interrupt < fit_loop < partial_fit < the estimator's _fit
            # < fit < the caller.
            stacklevel=6,
        )

    def _finish(self, algo) -> None:
        """Put the returned weights in place: the selected, averaged or last ones."""
        params = list(self.module_.parameters())
        if self.select == "feasible" and self._best is not None:
            best = self._best
            if not best["feasible"]:
                warnings.warn(
                    "No epoch met every bound on the validation set; returning the "
                    f"least violating one (epoch {best['epoch']}, max violation "
                    f"{best['violation']:.4g}). Loosen the bound, train longer or "
                    "use a larger validation_fraction.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
            with torch.no_grad():
                torch._foreach_copy_(params, best["weights"])
            self.history[best["epoch"] - 1]["selected"] = True
        else:
            if int(algo.n_averaged):
                with torch.no_grad():
                    torch._foreach_copy_(params, algo.averages())
            self.check_bounds(algo, prefix="avg_" if int(algo.n_averaged) else "")

    def check_bounds(self, algo, prefix: str = "") -> None:
        """Warn when the returned model misses a bound on the training set.

        Reads the hard-prediction report of the returned model from the history
        (``<prefix><name>_violation`` of the last epoch that recorded it:
        ``avg_`` for averaged weights; after a divergence, the restored epoch)
        and warns with a ConvergenceWarning naming every constraint whose
        violation exceeds :func:`violation_tolerance`. Training without
        constraints (the unconstrained rule only monitors them) never warns.
        """
        compiled = algo.problem.data.compiled if algo.problem is not None else None
        if compiled is None or not algo.uses_constraints:
            return
        keys = [prefix + con.name + "_violation" for con in compiled.constraints]
        row = next(
            (h for h in reversed(self.history) if all(k in h for k in keys)), None
        )
        if row is None:
            return
        missed = []
        for con, key in zip(compiled.constraints, keys, strict=True):
            violation, tol = row[key], violation_tolerance(con.kind, con.bound)
            if violation > tol:
                missed.append(
                    f"{con.name} = {row[prefix + con.name]:.4g} (bound "
                    f"{con.bound:g}, violation {violation:.4g} > tolerance {tol:.2g})"
                )
        if missed:
            warnings.warn(
                f"The model returned after epoch {row['epoch']} misses its bound on "
                f"the training set: {'; '.join(missed)}. The bound may be "
                "infeasible or too tight for this data and model, or training too "
                "short: loosen the bound, raise max_epochs or the dual step. "
                f"history_ records each epoch's value ('{prefix}<name>_violation').",
                ConvergenceWarning,
                # check_bounds < _finish < fit_loop < partial_fit < the
                # estimator's _fit < fit < the caller.
                stacklevel=7,
            )

    def _update_margins(self, problem: FairProblem, ev: dict) -> np.ndarray | None:
        if self.confidence is None or "cell_var" not in ev:
            return None
        z = float(scipy.stats.norm.ppf(self.confidence))
        margins = problem.data.compiled.margins(ev["cell_var"], ev["cell_n"], z)
        problem.set_margins(margins)
        return margins

    def _schedule_lr(self, epoch: int, total: int) -> None:
        if self.lr_schedule == "constant":
            return
        # A Python float: a numpy scalar in the optimizer's state_dict makes
        # ``torch.load(weights_only=True)`` (LoadInitState, load_params) refuse it.
        factor = float(0.5 * (1.0 + np.cos(np.pi * epoch / max(total, 1))))
        for group in self.optimizer_.param_groups:
            group["lr"] = float(self.lr * factor)

    def run_training_epoch(self, problem: FairProblem, gen, per_batch: bool) -> None:
        """One pass of objective minibatches over a fresh permutation.

        Rules with a fixed number of constraint samples per step (``n_draws``)
        get gathered :class:`~fairsk.problem.Batch` es; the others get the
        minibatch's indices and sample for themselves.
        """
        data, algo = problem.data, self.algorithm_
        n = data.n
        bs = n if self.batch_size in (-1, None) else min(int(self.batch_size), n)
        perm = torch.randperm(n, generator=gen, device=data.device)
        self.module_.train()
        algo.start_epoch()
        if algo.n_draws is not None:
            n_draws = algo.n_draws if data.sampler is not None else 0
            batches, step = self._blocks(problem, perm, bs, n_draws), algo.step_batch
        else:
            batches = (perm[i : i + bs] for i in range(0, n, bs))
            step = algo.step
        if not per_batch:
            for batch in batches:
                step(batch)
            return
        for batch in batches:
            idx = batch if isinstance(batch, torch.Tensor) else batch.idx
            self.notify("on_batch_begin", batch=(idx,), training=True)
            loss = step(batch)
            self.history.record_batch("train_loss", float(loss.detach()))
            self.history.record_batch("train_batch_size", int(idx.shape[0]))
            self.notify("on_batch_end", batch=(idx,), training=True, loss=loss)

    @staticmethod
    def _blocks(problem: FairProblem, perm, bs: int, n_draws: int):
        """``problem.batches`` over pieces of ``perm`` of at most BLOCK_ELEMENTS."""
        data = problem.data
        sampled = data.sampler.n_cells * data.sampler.k if n_draws else 0
        step_elements = (bs + n_draws * sampled) * data.X.shape[1]
        steps = max(1, BLOCK_ELEMENTS // max(step_elements, 1))
        if steps >= BLOCK_STEPS:
            return problem.batches(perm, bs, n_draws)
        piece = steps * bs  # whole batches: only the last piece has a remainder
        return (
            batch
            for i in range(0, perm.shape[0], piece)
            for batch in problem.batches(perm[i : i + piece], bs, n_draws)
        )

    def _snapshot(self) -> dict:
        def tensors(sd):
            return {k: v.detach().clone() for k, v in sd.items()}

        return {
            "module": tensors(self.module_.state_dict()),
            "algorithm": tensors(self.algorithm_.state_dict()),
            "optimizer": copy.deepcopy(self.optimizer_.state_dict()),
        }

    def _restore(self, snap: dict) -> None:
        self.module_.load_state_dict(snap["module"])
        self.algorithm_.load_state_dict(snap["algorithm"])
        self.optimizer_.load_state_dict(snap["optimizer"])

    def record_epoch(self, problem: FairProblem) -> bool:
        """Write the epoch's summary to the history; False when training diverged.

        Records the mean minibatch ``train_loss``, the full-data ``objective``, the
        smooth constraint rows ``constraints`` and their maximum ``max_violation``,
        each constraint's value on hard predictions (under its name) and its
        ``<name>_violation``, and the algorithm's state (multipliers, slack, ...).
        A non-finite loss or state restores the last finite weights, warns and
        stops.
        """
        summary = self.algorithm_.end_epoch()
        ev = problem.evaluate()
        epoch = len(self.history)
        bad = [k for k, v in summary.items() if not np.all(np.isfinite(v))]
        if not np.isfinite(ev["objective"]):
            bad.append("objective")
        bad += [
            k
            for k, t in self.algorithm_.state_tensors().items()
            if not bool(torch.isfinite(t).all())
        ]
        if bad:
            self._restore(self._last_good)
            warnings.warn(
                f"Training diverged at epoch {epoch}: {', '.join(sorted(set(bad)))} "
                "became non-finite. Training stopped and the weights of the last "
                "finite epoch were restored; lower lr (or the dual step) and refit.",
                ConvergenceWarning,
                stacklevel=2,
            )
            self.history.record("diverged", True)
            return False
        self._last_good = self._snapshot()
        hist = self.history
        if not self._per_batch:
            # One summary row in ``batches``: skorch callbacks that read the last
            # batch (Checkpoint formats its file names with it, PassthroughScoring
            # averages it) work without a host sync per step.
            hist.new_batch()
            hist.record_batch("train_loss", summary["train_loss"])
            hist.record_batch("train_batch_size", problem.data.n)
        for key, value in summary.items():
            hist.record(key, value)
        margins = self._update_margins(problem, ev)
        if margins is not None:
            hist.record("margins", margins.tolist())
        losses = [h["train_loss"] for h in hist[:-1] if "train_loss" in h]
        hist.record(
            "train_loss_best", not losses or summary["train_loss"] < min(losses)
        )
        self._record_evaluation(ev)
        candidate, forward = list(self.module_.parameters()), None
        if len(hist) > self._average_after:
            self.algorithm_.update_average(candidate)
            candidate = self.algorithm_.averages()
            averaged = dict(zip(self._param_names(), candidate, strict=True))

            def forward(X):
                return torch.func.functional_call(self.module_, averaged, (X,))

            self._record_evaluation(problem.evaluate(forward=forward), prefix="avg_")
        if self._valid is not None:
            self._record_validation(problem, candidate, forward)
        return True

    def _record_validation(self, problem, candidate, forward) -> None:
        """Evaluate the model that would be returned now on the validation set."""
        ev = problem.evaluate(self._valid, forward=forward)
        hist = self.history
        self._record_evaluation(ev, prefix="valid_")
        losses = [h["valid_loss"] for h in hist[:-1] if "valid_loss" in h]
        hist.record("valid_loss", ev["objective"])
        hist.record("valid_loss_best", not losses or ev["objective"] < min(losses))
        if self.select != "feasible":
            return
        violation = ev.get("max_violation", 0.0)
        key = (violation > 0, violation if violation > 0 else ev["objective"])
        if self._best is None or key < self._best["key"]:
            self._best = {
                "key": key,
                "epoch": len(hist),
                "feasible": violation <= 0,
                "violation": violation,
                "weights": [t.detach().clone() for t in candidate],
            }

    def _param_names(self) -> list[str]:
        return [name for name, _ in self.module_.named_parameters()]

    def _record_evaluation(self, ev: dict, prefix: str = "") -> None:
        hist = self.history
        hist.record(prefix + "objective", ev["objective"])
        if "constraints" in ev:
            hist.record(prefix + "constraints", ev["constraints"].tolist())
            hist.record(prefix + "max_violation", ev["max_violation"])
            for rep in ev["report"]:
                hist.record(prefix + rep["name"], rep["value"])
                hist.record(prefix + rep["name"] + "_violation", rep["violation"])
