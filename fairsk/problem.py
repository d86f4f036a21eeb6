r"""The constrained problem an algorithm steps on: model, data and constraints.

.. math::

    \min_\theta f(\theta) = \mathbb{E}[\mathrm{BCE}(h_\theta(x), y)]
    \quad \text{s.t.} \quad c(\theta) = K\,\operatorname{vec}(M(\theta)) - b \le 0,

with :math:`M` the per-cell means of :mod:`fairsk.constraints`. One call of
:meth:`FairProblem.objective_and_constraints` runs **one** forward pass over the
objective minibatch and any number of independent constraint samples stacked
together, and returns the minibatch objective and one constraint vector per sample.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .sampling import TrainingData

__all__ = ["Batch", "FairProblem"]

#: Steps whose rows are gathered together (amortises indexing over many steps).
BLOCK_STEPS = 64


class Batch:
    """One step's rows: the objective minibatch, then ``n_draws`` constraint samples.

    Attributes
    ----------
    X, y : torch.Tensor
        Features and labels of all the step's rows (views into a gathered block).
    n_obj : int
        Number of objective rows (they come first).
    n_draws : int
        Number of balanced constraint samples that follow.
    idx : torch.Tensor
        Training-set indices of the objective rows.
    weight : torch.Tensor or None
        Weight of every row (``None``: uniform): the sample weight scaled to mean
        1 for objective rows, scaled to mean 1 within its cell for constraint rows.

    Examples
    --------
    :meth:`FairProblem.batches` yields one per step; a rule with
    ``n_draws`` set gets them in :meth:`~fairsk.algorithms.Algorithm.step_batch`:

    >>> import numpy as np
    >>> import torch
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
    >>> problem = FairProblem(MLP(3, (8,)), data, torch.Generator().manual_seed(0))
    >>> batches = list(problem.batches(torch.randperm(200), batch_size=64, n_draws=2))
    >>> len(batches)  # 3 full minibatches and the 8 rows left
    4
    >>> batch = batches[0]
    >>> batch.n_obj, batch.n_draws, batch.X.shape  # 64 objective rows, 2 x 32
    (64, 2, torch.Size([128, 3]))
    >>> f, c = problem.losses(problem.module(batch.X), batch)
    >>> f.shape, c.shape  # the objective, one constraint vector per sample
    (torch.Size([]), torch.Size([2, 2]))
    """

    __slots__ = ("X", "idx", "n_draws", "n_obj", "weight", "y")

    def __init__(self, X, y, n_obj, n_draws, idx, weight=None):
        self.X, self.y, self.n_obj, self.n_draws = X, y, n_obj, n_draws
        self.idx, self.weight = idx, weight


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

    Examples
    --------
    The problem an update rule steps on, here driven by hand: a penalty step on
    one objective minibatch and two constraint samples, then the exact full-data
    evaluation the engine records each epoch:

    >>> import numpy as np
    >>> import torch
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
    >>> f, c = problem.objective_and_constraints(torch.arange(64), n_draws=2)
    >>> f.shape, c.shape
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
        self, module: nn.Module, data: TrainingData, generator: torch.Generator
    ):
        self.module = module
        self.data = data
        self.generator = generator
        compiled = data.compiled
        self.n_constraints = 0 if compiled is None else compiled.n_constraints
        if compiled is not None and data.sampler is not None:
            dev = data.device
            self.K_T = torch.as_tensor(compiled.K.T, dtype=torch.float32, device=dev)
            self.b = torch.as_tensor(compiled.b, dtype=torch.float32, device=dev)
            self.n_q = len(compiled.quantities)
            self._quantity_fns = [q.fn for q in compiled.quantities]
            self._k = data.sampler.k
            self._n_cells = data.sampler.n_cells
            cell_labels = torch.as_tensor(
                compiled.cells[:, 1], dtype=torch.float32, device=dev
            )
            self._cell_y = cell_labels.repeat_interleave(self._k)
            self._neg_b = -self.b
            # Columns of a step's quantity matrix: the BCE (the objective, and the
            # "loss" quantity) first, then the constraints' other quantities.
            self._extra_fns = [q.fn for q in compiled.quantities if q.name != "loss"]
            names = ["loss"] + [q.name for q in compiled.quantities if q.name != "loss"]
            self._q_col = [names.index(q.name) for q in compiled.quantities]
        self._step_maps: dict = {}
        self._step_biases: dict = {}

    # -- the fast path: gathered batches ------------------------------------------
    def batches(self, perm: torch.Tensor, batch_size: int, n_draws: int):
        """Yield one :class:`Batch` per step of an epoch over ``perm``.

        Rows are gathered ``BLOCK_STEPS`` steps at a time -- one ``index_select``
        of the objective minibatches and their constraint samples together --
        so a step costs only views: indexing a device tensor row by row is as
        expensive as the small network's forward pass. Drawing the constraint
        samples ahead is exact: which rows are drawn never depends on the model.
        """
        n = perm.shape[0]
        full = n // batch_size
        R = self._n_cells * self._k if n_draws else 0
        for first in range(0, full, BLOCK_STEPS):
            S = min(BLOCK_STEPS, full - first)
            obj = perm[first * batch_size : (first + S) * batch_size].view(
                S, batch_size
            )
            yield from self._gathered(obj, S, n_draws, R)
        if n % batch_size:
            obj = perm[full * batch_size :].view(1, -1)
            yield from self._gathered(obj, 1, n_draws, R)

    def _gathered(self, obj, S, n_draws, R):
        data = self.data
        if n_draws:
            con = data.sampler.sample(self.generator, S * n_draws).view(S, n_draws * R)
            rows = torch.cat([obj, con], 1)
        else:
            con, rows = None, obj
        width = rows.shape[1]
        Xb = data.X.index_select(0, rows.reshape(-1)).view(S, width, -1)
        yb = data.y.index_select(0, rows.reshape(-1)).view(S, width)
        rw = None
        if data.weight is not None:
            parts = [data.weight[obj]]
            if n_draws:
                parts.append(data.cell_weight[con])
            rw = torch.cat(parts, 1)
        b = obj.shape[1]
        for i in range(S):
            yield Batch(Xb[i], yb[i], b, n_draws, obj[i], None if rw is None else rw[i])

    def _step_map(self, b: int, n_draws: int):
        """Return the linear map from a step's quantities to ``[f, c_1, ...]``.

        Both the minibatch objective (a mean over the first ``b`` rows) and each
        sample's constraint vector (``K`` applied to cell means) are linear in the
        per-row quantities, so one matrix-vector product computes them all.
        """
        key = (b, n_draws)
        if key not in self._step_maps:
            nq = 1 + (len(self._extra_fns) if n_draws else 0)
            R = self._n_cells * self._k if n_draws else 0
            m = self.n_constraints if n_draws else 0
            W = torch.zeros(
                1 + n_draws * m, (b + n_draws * R) * nq, dtype=torch.float64
            )
            W[0, 0 : b * nq : nq] = 1.0 / b
            if n_draws:
                K = torch.as_tensor(self.data.compiled.K, dtype=torch.float64)
                cols = torch.arange(self._n_cells * self.n_q)
                cell, quantity = cols // self.n_q, cols % self.n_q
                q_col = torch.as_tensor(self._q_col)[quantity]
                # Row j of each cell's k draws reads K[:, col] / k: all k rows at
                # once (no Python loop over k, which may be thousands).
                j = torch.arange(self._k)
                for d in range(n_draws):
                    rows = b + d * R + cell[:, None] * self._k + j
                    idx = (rows * nq + q_col[:, None]).reshape(-1)
                    vals = (K / self._k).repeat_interleave(self._k, dim=1)
                    W[1 + d * m : 1 + (d + 1) * m].index_add_(1, idx, vals)
            dev, dt = self.data.device, self.data.X.dtype
            self._step_maps[key] = (W.to(dev, dt), m, nq)
        W, m, nq = self._step_maps[key]
        # The bias follows the (margin-tightened) bounds; kept apart from W so
        # that a new margin each epoch does not rebuild the maps.
        if n_draws not in self._step_biases:
            zero = W.new_zeros(1)
            self._step_biases[n_draws] = (
                torch.cat([zero, -self.b.repeat(n_draws)]) if n_draws else zero
            )
        return W, self._step_biases[n_draws], m, nq

    def terms(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Minibatch objective and constraint estimates as one vector.

        Returns
        -------
        torch.Tensor of shape (1 + n_draws * m,)
            ``[f, c(ζ¹), c(ζ²), ...]``: the weighted mean BCE of the objective rows,
            then one constraint vector per constraint sample. Combining it with a
            coefficient vector (``dot``) keeps the backward pass free of
            per-element selections.
        """
        W, neg_bias, _, nq = self._step_map(batch.n_obj, batch.n_draws)
        Q = F.binary_cross_entropy_with_logits(logits, batch.y, reduction="none")
        if nq > 1:
            Q = torch.stack([Q] + [fn(logits, batch.y) for fn in self._extra_fns], -1)
            if batch.weight is not None:
                Q = Q * batch.weight[:, None]
        elif batch.weight is not None:
            Q = Q * batch.weight
        return torch.addmv(neg_bias, W, Q.reshape(-1))

    def losses(self, logits: torch.Tensor, batch: Batch):
        """Minibatch objective and constraint estimates of one step's logits.

        Returns
        -------
        f : torch.Tensor
            Scalar weighted mean BCE of the objective rows.
        c : torch.Tensor of shape (n_draws, m) or None
            One constraint vector per constraint sample.
        """
        if not batch.n_draws:
            loss = F.binary_cross_entropy_with_logits(
                logits, batch.y, weight=batch.weight
            )
            return loss, None
        out = self.terms(logits, batch)
        return out[0], out[1:].view(batch.n_draws, self.n_constraints)

    # -- minibatch estimates by index (flexible; used by sampling-heavy rules) ---
    def objective(self, logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Weighted mean BCE of a uniform minibatch ``idx`` given its logits."""
        loss = F.binary_cross_entropy_with_logits(
            logits, self.data.y[idx], reduction="none"
        )
        if self.data.weight is not None:
            loss = loss * self.data.weight[idx]
        return loss.mean()

    def constraint_estimates(self, logits: torch.Tensor, rows: torch.Tensor):
        """Constraint vectors from stacked cell samples: shape ``(n_draws, m)``.

        ``logits`` and ``rows`` cover ``n_draws`` samples laid out as
        :meth:`CellSampler.sample` returns them.
        """
        n_draws = logits.shape[0] // (self._n_cells * self._k)
        y = self._cell_y.repeat(n_draws) if n_draws > 1 else self._cell_y
        if self.n_q == 1:
            Q = self._quantity_fns[0](logits, y)[:, None]
        else:
            Q = torch.stack([fn(logits, y) for fn in self._quantity_fns], -1)
        if self.data.cell_weight is not None:
            Q = Q * self.data.cell_weight[rows][:, None]
        M = Q.view(n_draws, self._n_cells, self._k, self.n_q).mean(2)
        return M.reshape(n_draws, -1) @ self.K_T - self.b

    def sample_constraint_rows(self, n_draws: int) -> torch.Tensor:
        """Row indices of ``n_draws`` independent balanced constraint samples."""
        return self.data.sampler.sample(self.generator, n_draws)

    def objective_and_constraints(self, idx: torch.Tensor, n_draws: int):
        """One forward pass: minibatch objective and ``n_draws`` constraint vectors.

        Returns
        -------
        f : torch.Tensor
            Scalar minibatch objective.
        c : torch.Tensor of shape (n_draws, m)
            One constraint estimate per independent sample (all differentiable).
        """
        rows = self.sample_constraint_rows(n_draws)
        logits = self.module(self.data.X[torch.cat([idx, rows])])
        b = idx.shape[0]
        f = self.objective(logits[:b], idx)
        return f, self.constraint_estimates(logits[b:], rows)

    def constraints(self, n_draws: int = 1) -> torch.Tensor:
        """Constraint estimates alone, shape ``(n_draws, m)``."""
        rows = self.sample_constraint_rows(n_draws)
        return self.constraint_estimates(self.module(self.data.X[rows]), rows)

    # -- exact full-data evaluation (once per epoch) -----------------------------
    @torch.no_grad()
    def evaluate(
        self, data: TrainingData | None = None, chunk: int = 4096, forward=None
    ) -> dict:
        """Objective, constraints and group statistics on all rows of ``data``.

        ``forward`` replaces the module's forward (e.g. with averaged weights).
        Returns a dict with ``objective`` (weighted mean BCE), ``constraints``
        (the rows ``c`` on hard predictions, the loss as is), ``report`` (each
        constraint's value and violation), ``logits``, and each cell's quantity
        variance and effective size (``cell_var``, ``cell_n``).
        """
        data = self.data if data is None else data
        forward = self.module if forward is None else forward
        was_training = self.module.training
        self.module.eval()
        logits = torch.cat(
            [forward(data.X[i : i + chunk]) for i in range(0, data.n, chunk)]
        )
        self.module.train(was_training)
        loss = F.binary_cross_entropy_with_logits(logits, data.y, reduction="none")
        w = data.raw_weight
        objective = loss.mean() if w is None else (loss * w).sum() / w.sum()
        out = {"objective": float(objective), "logits": logits}
        compiled = data.compiled
        if compiled is None or data.cell is None:
            return out
        Q = compiled.quantity_matrix(logits, data.y, hard=True)
        mean, out["cell_var"], out["cell_n"] = compiled.cell_statistics(Q, data.cell, w)
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
        b = compiled.b - margins
        b = np.where(compiled.row_kinds == "ratio", b, np.maximum(b, 0.0))
        self.b = torch.as_tensor(b, dtype=self.b.dtype, device=self.b.device)
        self._neg_b = -self.b
        self._step_biases.clear()
