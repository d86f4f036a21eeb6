r"""Many models trained as one: a sweep over bounds, seeds and folds in one pass.

A fit of fairsk's small network is dominated by per-step overhead, not arithmetic
(one SSL-ALM step at batch 64 on the 64-32 MLP is about 1 MFLOP). :func:`fit_together`
trains ``K`` classifiers that differ in ``bound``, ``random_state`` and the rows
they train on (cross-validation folds) as one network whose weights are stacked
along a first dimension (:class:`StackedMLP`): each step gathers every model's
rows from one device-resident copy of the data, runs one batched forward and
backward pass (``torch.baddbmm``), and applies the same update rule -- written
once, its state stacked (multipliers of shape ``(K, m)``) -- to all models at once.
Each model draws from its own generator exactly the minibatches and constraint
samples a separate fit with its ``random_state`` draws, so the models equal the
separate fits' up to float rounding (the batched products sum in another order).

What runs together: SSL-ALM, ALM, the penalty baseline and the unconstrained
network, with fairsk's default MLP and callbacks, without validation rows.
Anything else (a switching or ghost classifier, ``callbacks``, ``module``,
``validation_fraction``, ...) falls back to separate fits, with the same results.
A model whose training diverges is fitted again on its own, so that it stops and
rolls back as a separate fit does.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from skorch.history import History
from torch import nn

from .nets import _FUNCTIONS, MLP
from .problem import BLOCK_ELEMENTS, BLOCK_STEPS, Batch, FairProblem
from .sampling import CellSampler, TrainingData, device_rows

__all__ = ["BatchedData", "BatchedProblem", "StackedMLP", "batchable", "fit_together"]


class StackedMLP(nn.Module):
    """``K`` MLPs of one shape as one module: weights ``(K, out, in)``.

    Parameters
    ----------
    n_features, hidden_layer_sizes, activation
        As for :class:`~fairsk.nets.MLP`.
    generator : list of torch.Generator
        One per model: model ``k`` starts from the weights ``MLP(...,
        generator=generator[k])`` starts from.

    Examples
    --------
    >>> gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    >>> net = StackedMLP(3, (4,), generator=gens)
    >>> net(torch.zeros(2, 5, 3)).shape  # (models, rows) logits
    torch.Size([2, 5])
    >>> one = MLP(3, (4,), generator=torch.Generator().manual_seed(1))
    >>> torch.equal(net.unstack(1).layers[0].weight, one.layers[0].weight)
    True
    """

    def __init__(
        self,
        n_features,
        hidden_layer_sizes=(64, 32),
        activation="relu",
        *,
        generator: Sequence[torch.Generator],
    ):
        super().__init__()
        mlps = [
            MLP(n_features, hidden_layer_sizes, activation, generator=g)
            for g in generator
        ]
        self.n_features, self.activation = n_features, activation
        self.hidden_layer_sizes = tuple(hidden_layer_sizes)
        # One layer's stacked weight and bias after the other: the parameters
        # come in the order of one MLP's (a model's state is a slice of each).
        self.layers = nn.ModuleList(
            _StackedLinear(
                torch.stack([lin.weight for lin in ls]),
                torch.stack([lin.bias for lin in ls]),
            )
            for ls in zip(*(m._linear for m in mlps), strict=True)
        )
        self._act = _FUNCTIONS[activation]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Logits ``(K, n)`` of the rows ``X`` ``(K, n, d)`` (model k on ``X[k]``)."""
        *hidden, last = self.layers
        for lin in hidden:
            X = self._act(torch.baddbmm(lin.bias.unsqueeze(1), X, lin.weight.mT))
        return torch.baddbmm(last.bias.unsqueeze(1), X, last.weight.mT).squeeze(-1)

    def model(self, k: int) -> nn.Module:
        """Model ``k`` as a module (its weights are views: it trains with the stack)."""
        return _Slice(self, k)

    def unstack(self, k: int) -> MLP:
        """Return a fresh :class:`~fairsk.nets.MLP` with model ``k``'s weights."""
        mlp = MLP(self.n_features, self.hidden_layer_sizes, self.activation)
        with torch.no_grad():
            for one, stacked in zip(mlp._linear, self.layers, strict=True):
                one.weight.copy_(stacked.weight[k])
                one.bias.copy_(stacked.bias[k])
        return mlp.to(self.layers[0].weight.device)


class _StackedLinear(nn.Module):
    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone())


class _Slice(nn.Module):
    def __init__(self, stack: StackedMLP, k: int):
        super().__init__()
        self.__dict__["stack"], self.k = stack, k  # not a submodule: no copy

    def forward(self, X):
        *hidden, last = self.stack.layers
        k, act = self.k, self.stack._act
        for lin in hidden:
            X = act(F.linear(X, lin.weight[k], lin.bias[k]))
        return F.linear(X, last.weight[k], last.bias[k]).squeeze(-1)


class BatchedData(torch.utils.data.Dataset):
    """The training sets of ``K`` models, sharing one ``X``.

    Each is a :class:`~fairsk.sampling.TrainingData` with its own ``rows``.

    Examples
    --------
    >>> X = torch.zeros(10, 2)
    >>> parts = [TrainingData(X, np.arange(10) % 2, None, None, None, None, "cpu",
    ...                       rows=r) for r in (np.arange(5), np.arange(5, 10))]
    >>> len(BatchedData(parts))
    5
    """

    def __init__(self, datas: list[TrainingData]):
        self.datas = datas
        self.device = datas[0].device

    def __len__(self) -> int:
        """Rows per model (the largest)."""
        return max(d.n for d in self.datas)


class BatchedProblem(FairProblem):
    """``K`` models' problems as one: the rows of each gathered in one block.

    Model ``k`` reads ``datas[k]`` (its rows of the shared ``X``, its compiled
    constraints and bounds) and draws from ``generators[k]`` the permutation and
    constraint samples a separate :class:`~fairsk.problem.FairProblem` would;
    :meth:`terms` gives each model's ``[f, c¹, c², ...]`` with one batched
    matrix product, and :meth:`evaluate` each model's full-data evaluation.

    Examples
    --------
    Two models on two halves of one ``X``, a step of each:

    >>> from fairsk.constraints import compile_constraints, make_constraints
    >>> rng = np.random.default_rng(0)
    >>> X = torch.as_tensor(rng.normal(size=(200, 3)), dtype=torch.float32)
    >>> g, y = np.arange(200) % 2, (rng.random(200) < 0.5).astype(int)
    >>> mass = np.zeros((2, 2))
    >>> np.add.at(mass, (g, y), 1.0)
    >>> cc = compile_constraints(make_constraints("loss_gap", 0.05), mass, ["a", "b"])
    >>> datas = [TrainingData(X, y, g, None, cc, 16, "cpu", rows=r)
    ...          for r in (np.arange(100), np.arange(100, 200))]
    >>> gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    >>> problem = BatchedProblem(StackedMLP(3, (8,), generator=gens), datas, gens)
    >>> batch = next(problem.batches(batch_size=32, n_draws=2))
    >>> batch.rows_X.shape  # (models, 32 objective + 2 x 16 constraint rows, d)
    torch.Size([2, 64, 3])
    >>> # per model [f, c(ζ¹), c(ζ²)]: loss_gap has one row per group
    >>> problem.terms(problem.forward(batch.rows_X), batch).shape
    torch.Size([2, 5])
    """

    def __init__(self, module: StackedMLP, datas: list[TrainingData], generators):
        self.module, self.datas, self.generators = module, datas, list(generators)
        self.problems = [
            FairProblem(module.model(k), d, g)
            for k, (d, g) in enumerate(zip(datas, self.generators, strict=True))
        ]
        first = self.problems[0]
        self.data, self.holdout, self.n_constraints = (
            datas[0],
            None,
            first.n_constraints,
        )
        self._extra_fns = getattr(first, "_extra_fns", [])
        self.margins = None
        self._maps: dict = {}
        # Gathered for all models at once: one sampler over their cells; the
        # labels once when they agree (one y for all), else stacked.
        self._own = list(zip(datas, self.generators, strict=True))
        samplers = [d.sampler for d in datas]
        self._sampler = None if None in samplers else CellSampler.stack(samplers)
        ys = [d.y for d in datas]
        same = all(y is ys[0] or torch.equal(y, ys[0]) for y in ys)
        self._y = ys[0] if same else torch.stack(ys)
        self._weight = self._cell_weight = None
        if datas[0].weight is not None:
            self._weight = torch.stack([d.weight for d in datas])
            if datas[0].cell_weight is not None:
                self._cell_weight = torch.stack([d.cell_weight for d in datas])

    @property
    def generator(self):
        """The models' generators (their states are saved per model)."""
        return self.generators

    split_no_grad = True  # K models' steps are arithmetic-bound

    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        """Logits ``(K, rows)`` of each model's rows ``X`` ``(K, rows, d)``."""
        return self.module(X)

    def batches(self, batch_size: int, n_draws: int, n_holdout: int = 0):
        """Each model's steps of an epoch, gathered together (see the base class).

        The models have as many full minibatches (:func:`fit_together` groups
        them so); their last, partial minibatches may differ in size by a few
        rows (folds): each is padded to the largest with rows that
        :meth:`terms` weighs by zero.
        """
        datas, gens = self.datas, self.generators
        bs = min(batch_size, datas[0].n)
        perms = []
        for d, g in zip(datas, gens, strict=True):
            perm = torch.randperm(d.n, generator=g, device=d.device)
            perms.append(perm if d.rows is None else d.rows[perm])
        width = len(datas) * (bs + n_draws * (datas[0].sampler.rows if n_draws else 0))
        steps = max(
            1, min(BLOCK_STEPS, BLOCK_ELEMENTS // (width * datas[0].X.shape[1]))
        )
        full = datas[0].n // bs
        for first in range(0, full, steps):
            s = min(steps, full - first)
            obj = [p[first * bs : (first + s) * bs].view(s, bs) for p in perms]
            yield from self._gathered_all(obj, n_draws)
        tails = [p[full * bs :] for p in perms]
        if len(tails[0]):
            b = max(len(t) for t in tails)
            padded = [
                torch.cat([t, t[:1].expand(b - len(t))]).view(1, b) for t in tails
            ]
            yield from self._gathered_all(padded, n_draws, [len(t) for t in tails])

    def _gathered_all(self, obj: list[torch.Tensor], n_draws: int, n_each=None):
        """One index_select for every model's rows of ``S`` steps."""
        S, b = obj[0].shape
        rows = torch.stack(obj)  # (K, S, b), then each model's constraint samples
        if n_draws:
            u = torch.stack([d.sampler.uniforms(g, S * n_draws) for d, g in self._own])
            con = self._sampler.rows_of(u).view(len(obj), S, -1)
            rows = torch.cat([rows, con], 2)
        Xb = self.data.X.index_select(0, rows.view(-1)).view(*rows.shape, -1)
        flat = rows.view(len(obj), -1)
        yb = (self._y[flat] if self._y.dim() == 1 else self._y.gather(1, flat)).view(
            rows.shape
        )
        rw = None
        if self._weight is not None:
            rw = torch.cat(
                [
                    self._weight.gather(1, rows[..., :b].reshape(len(obj), -1)).view(
                        len(obj), S, b
                    )
                ]
                + (
                    [
                        self._cell_weight.gather(1, con.reshape(len(obj), -1)).view(
                            con.shape
                        )
                    ]
                    if n_draws
                    else []
                ),
                2,
            )
        for i in range(S):
            batch = Batch(
                Xb[:, i],
                yb[:, i],
                b,
                n_draws,
                rows[:, i, :b],
                None if rw is None else rw[:, i],
            )
            batch.n_each = n_each
            yield batch

    def _step_map(self, b: int, n_draws: int, n_each=None) -> torch.Tensor:
        """Every model's map, stacked: ``(K, 1 + n_draws m, width)``.

        ``n_each``: model ``k`` has ``n_each[k]`` of the ``b`` objective rows (its
        map has zero columns for the padding).
        """
        key = (b, n_draws, None if n_each is None else tuple(n_each))
        if key not in self._maps:
            maps = []
            for k, p in enumerate(self.problems):
                W = p._step_map(b, n_draws)
                if n_each is not None and n_each[k] < b:  # columns as for b rows
                    own = p._step_map(n_each[k], n_draws)
                    nq = 1 + (len(p._extra_fns) if n_draws else 0)
                    obj = n_each[k] * nq
                    W = torch.zeros_like(W)
                    W[:, :obj], W[:, b * nq :] = own[:, :obj], own[:, obj:]
                maps.append(W)
            self._maps[key] = torch.stack(maps)
        return self._maps[key]

    def _bias(self, n_draws: int) -> torch.Tensor:
        if ("bias", n_draws) not in self._maps:
            self._maps["bias", n_draws] = torch.stack(
                [p._bias(n_draws) for p in self.problems]
            )
        return self._maps["bias", n_draws]

    def terms(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Each model's ``[f, c(ζ¹), ...]``: shape ``(K, 1 + n_draws m)``."""
        b, n_draws, y = batch.n_obj, batch.n_draws, batch.rows_y
        Q = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        if n_draws and self._extra_fns:
            Q = torch.stack([Q] + [fn(logits, y) for fn in self._extra_fns], -1)
        if batch.weight is not None:
            Q = Q * (batch.weight if Q.dim() == 2 else batch.weight.unsqueeze(-1))
        W = self._step_map(b, n_draws, batch.n_each)
        out = torch.baddbmm(
            self._bias(n_draws).unsqueeze(-1), W, Q.reshape(len(W), -1, 1)
        )
        return out.squeeze(-1)

    def losses(self, logits: torch.Tensor, batch: Batch):
        """Each model's minibatch objective ``(K,)`` and constraints."""
        out = self.terms(logits, batch)
        c = out[..., 1:].unflatten(-1, (batch.n_draws, self.n_constraints))
        return out[..., 0], c if batch.n_draws else None

    def evaluate(self, data=None, chunk: int = 4096, forward=None) -> list[dict]:
        """Each model's :meth:`~fairsk.problem.FairProblem.evaluate`, in order.

        Model by model: one model's forward pass on thousands of rows is a large
        matrix product, faster than the batched one on these shapes.
        """
        return [
            p.evaluate(None, chunk, None if forward is None else forward.model(k))
            for k, p in enumerate(self.problems)
        ]

    def set_margins(self, margins: list) -> None:
        """Each model's tightened bounds (see the base class)."""
        for p, m in zip(self.problems, margins, strict=True):
            p.set_margins(m)
        self.margins = margins
        for key in [k for k in self._maps if k[0] == "bias"]:
            del self._maps[key]


#: Multiplier rules whose step is elementwise with no per-constraint state, so
#: they act on ``(K, m)`` multipliers as on ``(m,)`` ones; the others keep state
#: of shape ``(m,)`` (momentum's velocity, nuPI's average, PBM's scale).
_STATELESS_RULES = ("ascent", "augmented", "ialm")

#: Settings that must be equal for models to train as one (the others, bound and
#: random_state, differ per model).
_SAME = "bound", "random_state"


def batchable(estimators) -> str | None:
    """Why ``estimators`` cannot train as one (``None``: they can).

    Examples
    --------
    >>> from fairsk import SSLALMClassifier, SwitchingSubgradientClassifier
    >>> batchable([SSLALMClassifier(bound=b) for b in (0.01, 0.02)]) is None
    True
    >>> batchable([SwitchingSubgradientClassifier()])
    'SwitchingSubgradientClassifier trains alone (its step is not batched)'
    """
    first = estimators[0]
    cls = type(first)
    if not getattr(cls._algorithm, "batched", False):
        return f"{cls.__name__} trains alone (its step is not batched)"
    rule = first._algorithm_params().get("dual_update", "ascent")
    if rule not in _STATELESS_RULES:
        return f"dual_update={rule!r} trains alone (its state is per model)"
    params = first.get_params(deep=False)
    for est in estimators[1:]:
        if type(est) is not cls:
            return "the estimators are of different classes"
        other = est.get_params(deep=False)
        if any(k not in _SAME and not _equal(params[k], other[k]) for k in params):
            return "the estimators differ in more than bound and random_state"
    reasons = {
        "callbacks": first.callbacks,
        "module": first.module,
        "optimizer": first.optimizer,
        "validation_fraction": first.validation_fraction,
        "warm_start": first.warm_start,
        "holdout_constraints": first.holdout_constraints,
    }
    for name, value in reasons.items():
        if value:
            return f"{name}={value!r} trains alone"
    return None


def _equal(a, b) -> bool:
    try:
        return bool(a == b) if not isinstance(a, np.ndarray) else np.array_equal(a, b)
    except (TypeError, ValueError):
        return a is b


def fit_together(
    estimators, X, y, sensitive_features=None, rows=None, sample_weight=None
):
    """Fit ``estimators`` as one batched network; each as its separate fit would.

    Parameters
    ----------
    estimators : list of fairsk classifiers
        Of one class, with settings that differ only in ``bound`` and
        ``random_state`` (else, or when :func:`batchable` says so, they are
        fitted one after the other).
    X, y, sensitive_features, sample_weight
        One data set.
    rows : list of array-like of int or None
        The rows each estimator trains on (``None``: every row for each).

    Returns
    -------
    list
        The fitted estimators.

    Examples
    --------
    >>> import numpy as np
    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(300, random_state=0)
    >>> models = [SSLALMClassifier(bound=b, hidden_layer_sizes=(8,), max_epochs=3,
    ...                            random_state=0) for b in (0.1, 0.2)]
    >>> fitted = fit_together(models, X, y, sensitive_features=A)
    >>> alone = SSLALMClassifier(bound=0.2, hidden_layer_sizes=(8,), max_epochs=3,
    ...                          random_state=0).fit(X, y, sensitive_features=A)
    >>> bool(np.abs(fitted[1].predict_proba(X) - alone.predict_proba(X)).max() < 1e-4)
    True
    """
    n = len(y)
    rows = [
        np.arange(n) if r is None else np.sort(np.asarray(r))
        for r in (rows or [None] * len(estimators))
    ]
    reason = batchable(estimators)
    if reason is not None or len(estimators) == 1:
        return [
            _alone(e, X, y, sensitive_features, sample_weight, r)
            for e, r in zip(estimators, rows, strict=True)
        ]
    groups: dict = {}
    bs = estimators[0].batch_size
    for i, r in enumerate(rows):  # as many steps of as many rows: trained together
        b = min(bs, len(r))
        groups.setdefault((b, len(r) // b, len(r) % b > 0), []).append(i)
    for members in groups.values():
        _train(
            [estimators[i] for i in members],
            X,
            y,
            sensitive_features,
            sample_weight,
            [rows[i] for i in members],
        )
    return estimators


def _alone(est, X, y, A, w, r):
    """Fit ``est`` on its rows ``r`` on its own (the separate fit)."""

    def sub(a):
        if a is None:
            return None
        return a.iloc[r] if hasattr(a, "iloc") else np.asarray(a)[r]

    return est.fit(sub(X), sub(y), sensitive_features=sub(A), sample_weight=sub(w))


def _train(estimators, X, y, A, w, rows) -> None:
    """Train one group of batchable estimators (as many steps each) as one."""
    from .engine import resolve_device, torch_threads
    from .estimators.inputs import validate_X

    first = estimators[0]
    device = resolve_device(first.device)
    Xv = validate_X(first, X, reset=True, fitting=True)
    shared = device_rows(Xv, device)
    with torch_threads(first._n_threads):
        preps = [
            est._prepare(X, y, A, w, rows=r, shared=shared)
            for est, r in zip(estimators, rows, strict=True)
        ]
        datas = [p.data for p in preps]
        shapes = {
            (d.compiled.n_constraints, len(d.compiled.cells))
            if d.compiled is not None
            else (0, 0)
            for d in datas
        }
        if len(shapes) > 1:  # folds whose groups differ: constraints of other shapes
            for est, r in zip(estimators, rows, strict=True):
                _alone(est, X, y, A, w, r)
            return
        seeds = [p.seed for p in preps]
        net = first._build_net(shared.shape[1], datas[0].compiled, device, seeds)
        net.partial_fit(BatchedData(datas))
        diverged = _split(net, estimators, preps)
    for k in diverged:  # it stops and rolls back as a separate fit does
        _alone(estimators[k], X, y, A, w, rows[k])


def _split(net, estimators, preps) -> list[int]:
    """Give each estimator its model: weights, state, history; list the diverged."""
    from .callbacks import warn_missed_bounds

    K = len(estimators)
    algo, opt = net.algorithm_, net.optimizer_
    diverged = [
        k
        for k in range(K)
        if any(h.get("diverged_each", [False] * K)[k] for h in net.history)
    ]
    for k, (est, prep) in enumerate(zip(estimators, preps, strict=True)):
        own = est._build_net(
            net.module_.n_features, prep.data.compiled, prep.data.device, prep.seed
        )
        own.module_.load_state_dict(net.module_.unstack(k).state_dict())
        _load_slice(own.algorithm_, algo.state_dict(), k, K, skip="averaged.")
        own.algorithm_.averaged.module.load_state_dict(
            algo.averaged.module.unstack(k).state_dict()
        )
        own.algorithm_.averaged.n_averaged.copy_(algo.averaged.n_averaged)
        _load_optimizer_slice(own.optimizer_, opt, k, K)
        own.history_ = _history_of(net.history, k, K)
        own.interrupted_ = net.interrupted_
        est.net_ = own
        est._finish(prep)
        if k not in diverged and not own.interrupted_:
            warn_missed_bounds(own.history, prep.data.compiled, own.algorithm_)
    return diverged


def _load_slice(module: nn.Module, state: dict, k: int, K: int, skip: str) -> None:
    """Load model ``k``'s slice of a stacked state into ``module``."""
    own = module.state_dict()
    for key, value in state.items():
        if key.startswith(skip) or key not in own:
            continue
        per_model = key.endswith("rng_state") or value.shape[1:] == own[key].shape
        if value.dim() and value.shape[0] == K and per_model:
            value = value[k]
        own[key] = value.clone()
    module.load_state_dict(own)


def _load_optimizer_slice(own, stacked, k: int, K: int) -> None:
    """Model ``k``'s slice of the stacked optimizer's state (momentum, anchors)."""
    state = copy.deepcopy(stacked.state_dict())

    def cut(obj):
        if isinstance(obj, torch.Tensor):
            return obj[k].clone() if obj.dim() and obj.shape[0] == K else obj
        if isinstance(obj, dict):
            return {key: cut(v) for key, v in obj.items()}
        if isinstance(obj, list):
            return [cut(v) for v in obj]
        return obj

    own.load_state_dict(cut(state))


#: History keys of a batched net that hold one value per model.
_EACH = ("train_loss_each", "diverged_each")


def _history_of(history: History, k: int, K: int) -> History:
    """Model ``k``'s history: each per-model value (a list of ``K``) its own."""
    own, best = History(), float("inf")
    for row in history:
        mine = {}
        for key, value in row.items():
            if key == "batches":  # a step's loss is the models' mean: not kept
                value = [{"train_batch_size": b["train_batch_size"]} for b in value]
            elif isinstance(value, list) and len(value) == K:
                value = value[k]
            mine[key] = value
        for key in _EACH:  # this model's own, under the separate fit's name
            if key in mine:
                mine[key.removesuffix("_each")] = mine.pop(key)
        if "train_loss" in mine:
            mine["train_loss_best"] = bool(mine["train_loss"] < best)
            best = min(best, mine["train_loss"])
        own.append(mine)
    return own
