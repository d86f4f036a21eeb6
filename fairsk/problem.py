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

__all__ = ["FairProblem"]


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

    # -- minibatch estimates (used inside steps; no host-device sync) -------------
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
    def evaluate(self, data: TrainingData | None = None, chunk: int = 65536) -> dict:
        """Objective, constraints and group statistics on all rows of ``data``.

        Returns a dict with ``objective`` (weighted mean BCE), ``constraints``
        (smooth rows ``c``), ``report`` (each constraint on hard predictions:
        value and violation) and ``logits``.
        """
        data = self.data if data is None else data
        was_training = self.module.training
        self.module.eval()
        logits = torch.cat(
            [self.module(data.X[i : i + chunk]) for i in range(0, data.n, chunk)]
        )
        self.module.train(was_training)
        loss = F.binary_cross_entropy_with_logits(logits, data.y, reduction="none")
        w = data.raw_weight
        objective = loss.mean() if w is None else (loss * w).sum() / w.sum()
        out = {"objective": float(objective), "logits": logits}
        compiled = data.compiled
        if compiled is None or data.cell is None:
            return out
        smooth = compiled.cell_means(
            compiled.quantity_matrix(logits, data.y), data.cell, w
        )
        hard = compiled.cell_means(
            compiled.quantity_matrix(logits, data.y, hard=True), data.cell, w
        )
        c, _ = compiled.values(smooth)
        _, S_hard = compiled.values(hard)
        out["constraints"] = c
        out["report"] = compiled.report(S_hard)
        out["max_violation"] = float(np.max(c)) if len(c) else 0.0
        return out
