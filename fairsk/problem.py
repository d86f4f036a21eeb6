r"""The constrained problem an algorithm steps on: model, data and constraints.

.. math::

    \min_\theta f(\theta) = \mathbb{E}[\mathrm{BCE}(h_\theta(x), y)]
    \quad \text{s.t.} \quad c(\theta) = K\,\operatorname{vec}(M(\theta)) - b \le 0,

with :math:`M` the per-cell means of :mod:`fairsk.constraints`. A step's rows -- its
objective minibatch and any number of independent balanced constraint samples --
are gathered into one :class:`Batch`, so that **one** forward pass and one
matrix-vector product give the minibatch objective and every constraint estimate
(:meth:`FairProblem.terms`). This is the only way rows reach an update rule.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .sampling import TrainingData

__all__ = ["Batch", "FairProblem", "logits_of"]

#: Steps whose rows are gathered together (amortises indexing over many steps).
BLOCK_STEPS = 64
#: Constraint samples up to which :meth:`FairProblem.terms` computes a step's
#: estimates with one block matrix (training steps draw one or two); beyond, the
#: block matrix would grow with the square of the samples.
FUSED_DRAWS = 4
#: Most elements (rows × features) of one gathered block: with large batches, 64
#: steps of rows would add most of a copy of the training set to an epoch's
#: memory; and a fresh allocation above a few MiB costs page faults that a
#: smaller one, reused by the allocator, does not. 2²⁰ float32 are 4 MiB.
BLOCK_ELEMENTS = 2**20


def logits_of(module: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """One logit per row from ``module``: its output of shape (n,) or (n, 1).

    Examples
    --------
    >>> logits_of(torch.nn.Linear(3, 1), torch.zeros(4, 3)).shape
    torch.Size([4])
    """
    out = module(X)
    if out.dim() == 2 and out.shape[1] == 1:
        return out[:, 0]
    if out.dim() != 1:
        raise ValueError(
            f"The module must return one logit per row, shape (n,) or (n, 1); "
            f"{type(module).__name__} returned shape {tuple(out.shape)}."
        )
    return out


class Batch(tuple):
    """One step's rows, as skorch sees a batch: ``(X, y)`` of the objective rows.

    Attributes
    ----------
    rows_X, rows_y : torch.Tensor
        Features and labels of all the step's rows: the objective minibatch,
        then ``n_draws`` constraint samples (views into a gathered block).
    n_obj, n_draws : int
        Objective rows (they come first) and balanced constraint samples.
    n_holdout : int
        How many of the last samples come from held-out rows.
    idx : torch.Tensor
        Training-set indices of the objective rows.
    weight : torch.Tensor or None
        Weight of every row (``None``: uniform): the sample weight scaled to mean
        1 for objective rows, scaled to mean 1 within its cell for constraint rows.
    n_each : list of int or None
        Models trained as one (:mod:`fairsk.batched`): each model's objective rows
        when their last minibatches differ in size (the rest is padding).

    Examples
    --------
    :meth:`FairProblem.batches` yields one per step, and :meth:`FairProblem.gather`
    builds one (see :class:`FairProblem`'s example). By hand: 2 objective rows, then
    2 constraint samples of 2 rows each:

    >>> rows_X, rows_y = torch.zeros(6, 3), torch.ones(6)
    >>> batch = Batch(rows_X, rows_y, n_obj=2, n_draws=2, idx=torch.arange(2))
    >>> batch.n_obj, batch.n_draws, batch.rows_X.shape
    (2, 2, torch.Size([6, 3]))
    >>> X_obj, y_obj = batch  # what skorch's loop and callbacks see
    >>> X_obj.shape, y_obj.shape
    (torch.Size([2, 3]), torch.Size([2]))
    """

    def __new__(  # noqa: D102
        cls, X, y, n_obj, n_draws, idx, weight=None, n_holdout=0, objective=None
    ):
        # ``objective``: the views (X[:n_obj], y[:n_obj]) when already taken.
        objective = (X[:n_obj], y[:n_obj]) if objective is None else objective
        self = super().__new__(cls, objective)
        self.rows_X, self.rows_y, self.n_obj, self.n_draws = X, y, n_obj, n_draws
        self.idx, self.weight, self.n_holdout = idx, weight, n_holdout
        self.n_each = None
        return self


class FairProblem:
    """A model, its device-resident training data and its compiled constraints.

    Parameters
    ----------
    module : torch.nn.Module
        Maps a batch of rows to one logit per row.
    data : TrainingData
        The training set (its ``compiled`` constraints may be ``None``).
    generator : torch.Generator
        Source of every random draw (minibatches and constraint samples).
    holdout : TrainingData or None
        Rows the network never fits, with a constraint sampler over the same
        cells (Cotter et al. 2019's "two-dataset" Lagrangian): a step's last
        ``n_holdout`` constraint samples come from them.

    Examples
    --------
    The problem an update rule steps on, driven by hand: a penalty step on one
    objective minibatch and two constraint samples, then the exact full-data
    evaluation recorded each epoch:

    >>> import numpy as np
    >>> from fairsk.constraints import compile_constraints, make_constraints
    >>> from fairsk.nets import MLP
    >>> from fairsk.sampling import TrainingData
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> g = rng.integers(0, 2, size=200)
    >>> y = (X[:, 0] + 0.5 * g > 0).astype(int)
    >>> mass = np.zeros((2, 2))
    >>> np.add.at(mass, (g, y), 1.0)
    >>> cc = compile_constraints(make_constraints("loss_gap", 0.05), mass, ["a", "b"])
    >>> data = TrainingData(X, y, g, None, cc, 32, "cpu")
    >>> module = MLP(3, (8,))
    >>> problem = FairProblem(module, data, torch.Generator().manual_seed(0))
    >>> problem.n_constraints
    2
    >>> len(list(problem.batches(batch_size=64, n_draws=2)))  # 3 x 64 rows, then 8
    4
    >>> batch = problem.gather(torch.arange(64), n_draws=2)
    >>> f, c = problem.losses(problem.forward(batch.rows_X), batch)
    >>> f.shape, c.shape  # the objective, one constraint vector per sample
    (torch.Size([]), torch.Size([2, 2]))
    >>> opt = torch.optim.SGD(module.parameters(), lr=0.05)
    >>> (f + c.clamp(min=0).mean(0).sum()).backward()  # hinge penalty
    >>> opt.step()
    >>> ev = problem.evaluate()
    >>> sorted(ev)
    ['cell_n', 'cell_var', 'constraints', 'logits', 'max_violation', 'objective',
     'report']
    >>> ev["constraints"].shape, ev["report"][0]["name"]
    ((2,), 'loss_gap')
    """

    def __init__(
        self,
        module: nn.Module,
        data: TrainingData,
        generator: torch.Generator,
        holdout: TrainingData | None = None,
    ):
        self.module, self.data, self.generator = module, data, generator
        self.holdout = holdout
        compiled = data.compiled
        self.n_constraints = 0 if compiled is None else compiled.n_constraints
        #: The margins the bounds are tightened by (``None``: none set).
        self.margins: np.ndarray | None = None
        self._maps: dict = {}
        if compiled is not None:
            self.b = torch.as_tensor(compiled.b, dtype=data.X.dtype, device=data.device)
            # Columns of a step's quantity matrix: the BCE (the objective, and the
            # "loss" quantity) first, then the constraints' other quantities.
            others = [q for q in compiled.quantities if q.name != "loss"]
            self._extra_fns = [q.fn for q in others]
            names = ["loss"] + [q.name for q in others]
            self._q_col = [names.index(q.name) for q in compiled.quantities]

    #: Whether :meth:`forward` runs the rows that need no gradient without
    #: autograd (a second forward pass: worth it only when arithmetic dominates).
    split_no_grad = False

    def forward(self, X: torch.Tensor, grad_rows: int | None = None) -> torch.Tensor:
        """Return the module's logits for the rows ``X``.

        Only the first ``grad_rows`` rows (``None``: all) need a gradient. Where
        arithmetic dominates (:attr:`split_no_grad`: models trained as one), the
        others run without autograd, which spares the backward pass their
        arithmetic (the multiplier step's constraint sample is a third of an
        SSL-ALM step's rows); one model's step is dominated by per-call
        overhead, which a second forward pass would raise. The logits are the
        same.
        """
        if not self.split_no_grad or grad_rows is None or grad_rows >= X.shape[-2]:
            return self._logits(X)
        with torch.no_grad():
            rest = self._logits(X[..., grad_rows:, :])
        return torch.cat([self._logits(X[..., :grad_rows, :]), rest], -1)

    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        return logits_of(self.module, X)

    @property
    def sample_rows(self) -> int:
        """Rows of one constraint sample (0 without a sampler)."""
        sampler = self.data.sampler
        return 0 if sampler is None else sampler.rows

    # -- gathering a step's rows ---------------------------------------------------
    def batches(self, batch_size: int, n_draws: int, n_holdout: int = 0):
        """Yield one :class:`Batch` per step of an epoch over a fresh permutation.

        Rows are gathered up to :data:`BLOCK_STEPS` steps at a time -- one
        ``index_select`` of the objective minibatches and their constraint
        samples together -- so a step costs only views: indexing a device tensor
        row by row is as expensive as the small network's forward pass. Drawing
        the constraint samples ahead is exact: which rows are drawn never depends
        on the model. The last ``n_holdout`` of the ``n_draws`` samples come
        from the held-out rows.
        """
        data = self.data
        n, bs = data.n, min(batch_size, data.n)
        n_draws = n_draws if data.sampler is not None else 0
        perm = torch.randperm(n, generator=self.generator, device=data.device)
        if data.rows is not None:
            perm = data.rows[perm]
        width = bs + n_draws * (data.sampler.rows if n_draws else 0)
        steps = max(1, min(BLOCK_STEPS, BLOCK_ELEMENTS // (width * data.X.shape[1])))
        full = n // bs
        for first in range(0, full, steps):
            s = min(steps, full - first)
            obj = perm[first * bs : (first + s) * bs].view(s, bs)
            yield from self._gathered(obj, n_draws, n_holdout)
        if n % bs:
            tail = perm[full * bs :].view(1, -1)
            yield from self._gathered(tail, n_draws, n_holdout)

    def gather(self, obj_rows: torch.Tensor, n_draws: int = 0) -> Batch:
        """One :class:`Batch`: the rows ``obj_rows`` and ``n_draws`` fresh samples."""
        return next(self._gathered(obj_rows.view(1, -1), n_draws))

    def _gathered(self, obj: torch.Tensor, n_draws: int, n_holdout: int = 0):
        (S, b), parts = obj.shape, []
        sources = [(self.data, obj, n_draws - n_holdout)]
        if n_holdout:
            sources.append((self.holdout, obj[:, :0], n_holdout))
        for data, own, draws in sources:
            rows, con = own, None
            if draws:
                con = data.sampler.sample(self.generator, S * draws).view(S, -1)
                rows = torch.cat([own, con], 1)
            flat = rows.reshape(-1)
            w = None
            if data.weight is not None:
                w = torch.cat(
                    [data.weight[own]] + ([data.cell_weight[con]] if draws else []), 1
                )
            parts.append(
                (
                    data.X.index_select(0, flat).view(*rows.shape, -1),
                    data.y.index_select(0, flat).view(rows.shape),
                    w,
                )
            )
        Xb, yb, rw = (
            p[0] if len(p) == 1 or p[0] is None else torch.cat(p, 1)
            for p in zip(*parts, strict=True)
        )
        # Each step's views split off in one call per block rather than a few
        # indexing operations per step (they cost as much as a layer's forward).
        X_obj, y_obj = Xb[:, :b].unbind(0), yb[:, :b].unbind(0)
        rows = zip(Xb.unbind(0), yb.unbind(0), obj.unbind(0), strict=True)
        weights = (None,) * S if rw is None else rw.unbind(0)
        for i, (X, y, idx) in enumerate(rows):
            objective = (X_obj[i], y_obj[i])
            yield Batch(X, y, b, n_draws, idx, weights[i], n_holdout, objective)

    # -- minibatch estimates ------------------------------------------------------
    def _sample_map(self, holdout: bool = False) -> torch.Tensor:
        """``K_k``: one constraint sample's per-row quantities to its vector ``c + b``.

        A sample holds ``k`` rows of each cell; each row's quantity enters its
        cell's mean with weight ``1/k``, and the cell means enter the rows of
        ``K``: shape ``(m, rows * nq)``, columns in the sample's row order.
        """
        data = self.holdout if holdout else self.data
        if ("sample", holdout) not in self._maps:
            cc, k = data.compiled, data.sampler.k
            n_q, nq = len(cc.quantities), 1 + len(self._extra_fns)
            K = torch.as_tensor(cc.K, dtype=torch.float64)
            Kk = torch.zeros(self.n_constraints, data.sampler.rows * nq)
            Kk = Kk.double()
            cols = torch.arange(len(cc.cells) * n_q)
            cell, q_col = cols // n_q, torch.as_tensor(self._q_col)[cols % n_q]
            # Row j of each cell's k draws reads K[:, col] / k: all k rows at once
            # (no Python loop over k, which may be thousands).
            j = torch.arange(k)
            idx = ((cell[:, None] * k + j) * nq + q_col[:, None]).reshape(-1)
            Kk.index_add_(1, idx, (K / k).repeat_interleave(k, dim=1))
            self._maps["sample", holdout] = Kk.to(self.data.device, self.data.X.dtype)
        return self._maps["sample", holdout]

    def _step_map(self, b: int, n_draws: int, n_holdout: int = 0) -> torch.Tensor:
        """Return the linear map from a step's per-row quantities to ``[f, c¹, ...]``.

        The objective (a mean over the first ``b`` rows) and every sample's
        :meth:`_sample_map` as one block matrix, so that a training step computes
        them all in one matrix-vector product (a step's overhead, not its
        arithmetic, dominates at these sizes). Cached per shape.
        """
        key = (b, n_draws, n_holdout)
        if key not in self._maps:
            nq = 1 + (len(self._extra_fns) if n_draws else 0)
            m = self.n_constraints if n_draws else 0
            maps = [self._sample_map(d >= n_draws - n_holdout) for d in range(n_draws)]
            width = b * nq + sum(Kk.shape[1] for Kk in maps)
            W = self.data.X.new_zeros(1 + n_draws * m, width)
            if b:
                W[0, 0 : b * nq : nq] = 1.0 / b
            col = b * nq
            for d, Kk in enumerate(maps):  # one block per sample
                W[1 + d * m : 1 + (d + 1) * m, col : col + Kk.shape[1]] = Kk
                col += Kk.shape[1]
            self._maps[key] = W
        return self._maps[key]

    def _bias(self, n_draws: int) -> torch.Tensor:
        """``[0, -b, -b, ...]``: kept apart so that new margins rebuild no map."""
        if ("bias", n_draws) not in self._maps:
            zero = self.b.new_zeros(1)
            self._maps["bias", n_draws] = torch.cat([zero, -self.b.repeat(n_draws)])
        return self._maps["bias", n_draws]

    def terms(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        r"""Minibatch objective and constraint estimates as one vector.

        Returns
        -------
        torch.Tensor of shape (1 + n_draws * m,)
            ``[f, c(ζ¹), c(ζ²), ...]``: the weighted mean BCE of the objective rows,
            then one constraint vector per constraint sample,
            :math:`c(\zeta) = K_k\,q(\zeta) - b`. Combining it with a
            coefficient vector (``dot``) keeps the backward pass free of
            per-element selections.
        """
        b, n_draws, y = batch.n_obj, batch.n_draws, batch.rows_y
        Q = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        if n_draws and self._extra_fns:
            Q = torch.stack([Q] + [fn(logits, y) for fn in self._extra_fns], -1)
        if batch.weight is not None:
            Q = Q * (batch.weight if Q.dim() == 1 else batch.weight[:, None])
        if n_draws <= FUSED_DRAWS:  # a training step: one product
            W = self._step_map(b, n_draws, batch.n_holdout)
            return torch.addmv(self._bias(n_draws), W, Q.reshape(-1))
        f = Q[:b].reshape(b, -1)[:, 0].mean() if b else Q.new_zeros(())
        c = Q[b:].reshape(n_draws, -1) @ self._sample_map().T - self.b
        return torch.cat([f.view(1), c.reshape(-1)])

    def losses(self, logits: torch.Tensor, batch: Batch):
        """Minibatch objective ``f`` and constraints ``c`` of shape (n_draws, m)."""
        if not batch.n_draws:
            w = batch.weight
            return F.binary_cross_entropy_with_logits(logits, batch.rows_y, w), None
        out = self.terms(logits, batch)
        c = out[..., 1:].unflatten(-1, (batch.n_draws, self.n_constraints))
        return out[..., 0], c

    # -- exact full-data evaluation (once per epoch) -----------------------------
    @torch.no_grad()
    def evaluate(
        self,
        data: TrainingData | None = None,
        chunk: int = 4096,
        forward=None,
    ) -> dict:
        """Objective, constraints and group statistics on all rows of ``data``.

        ``forward`` replaces the module's forward (e.g. with averaged weights).
        Returns a dict with ``objective`` (weighted mean BCE), ``constraints``
        (the rows ``c`` on hard predictions, the loss as is), ``report`` (each
        constraint's value and violation), ``logits``, and each cell's quantity
        variance and effective size (``cell_var``, ``cell_n``).
        """
        data = self.data if data is None else data
        module = self.module if forward is None else forward
        rows, y, w, cell = data.rows, data.y, data.raw_weight, data.cell
        if rows is not None:  # the model's rows among the shared ones
            y, cell = y[rows], None if cell is None else cell[rows]
            w = None if w is None else w[rows]
        was_training = self.module.training
        self.module.eval()
        logits = torch.cat(
            [
                logits_of(
                    module,
                    data.X[i : i + chunk]
                    if rows is None
                    else data.X.index_select(0, rows[i : i + chunk]),
                )
                for i in range(0, data.n, chunk)
            ]
        )
        self.module.train(was_training)
        loss = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
        objective = loss.mean() if w is None else (loss * w).sum() / w.sum()
        out = {"objective": float(objective), "logits": logits}
        compiled = data.compiled
        if compiled is None or cell is None:
            return out
        Q = compiled.quantity_matrix(logits, y, hard=True)
        mean, out["cell_var"], out["cell_n"] = compiled.cell_statistics(Q, cell, w)
        c, S = compiled.values(mean)
        out["constraints"] = c
        out["report"] = compiled.report(S)
        out["max_violation"] = float(np.max(c)) if len(c) else 0.0
        return out

    def set_margins(self, margins: np.ndarray) -> None:
        """Train on tightened bounds ``b - margins`` (gaps never below zero).

        Difference and upper-bound rows keep a non-negative right-hand side: a
        margin larger than the bound asks for the gap to vanish, not to reverse.
        """
        compiled = self.data.compiled
        self.margins = margins
        b = compiled.b - margins
        b = np.where(compiled.tightened, np.maximum(b, 0.0), b)
        self.b = torch.as_tensor(b, dtype=self.b.dtype, device=self.b.device)
        for key in [k for k in self._maps if k[0] == "bias"]:
            del self._maps[key]
