"""Device-resident training data and the minibatch samplers that read it by index.

Training keeps ``X``, ``y``, weights and each row's cell on the device as tensors.
An objective minibatch is a slice of one ``randperm`` per epoch; a constraint sample
draws ``k`` rows from every (group, label) cell at once with one ``rand`` and one
gather, so a step has no per-sample Python, no DataLoader and no host–device sync.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import torch

from .constraints import CompiledConstraints

__all__ = ["CellSampler", "TrainingData"]


class CellSampler:
    """Draw ``k`` rows uniformly with replacement from each cell, in cell order.

    A draw has layout ``(n_draws, n_cells, k)``, flattened: the mean of each cell is
    a reshape and a mean, and every cell is present in every draw (so no group is
    ever missing from a minibatch and no estimate is undefined).

    Parameters
    ----------
    cell : torch.Tensor of shape (n,)
        Cell of each training row, ``-1`` for rows in no sampled cell.
    n_cells : int
        Number of cells.
    k : int
        Rows drawn per cell.

    Examples
    --------
    >>> import torch
    >>> s = CellSampler(torch.tensor([0, 1, 0, 1, 1]), n_cells=2, k=3)
    >>> rows = s.sample(torch.Generator().manual_seed(0), n_draws=1)
    >>> [int(torch.tensor([0, 1, 0, 1, 1])[r]) for r in rows]
    [0, 0, 0, 1, 1, 1]
    """

    def __init__(self, cell: torch.Tensor, n_cells: int, k: int):
        device = cell.device
        order = torch.argsort(cell, stable=True)
        counts = torch.bincount(cell[cell >= 0], minlength=n_cells)
        if bool((counts == 0).any()):
            raise ValueError("Every sampled cell must hold at least one row.")
        n_skipped = int((cell < 0).sum())
        self.order = order[n_skipped:]
        start = torch.cumsum(counts, 0) - counts
        self.start = start[:, None].to(device)
        self.size = counts[:, None].to(device=device, dtype=torch.float32)
        self.last = (counts - 1)[:, None].to(device)
        self.n_cells = n_cells
        self.k = k
        #: Rows of one sample: ``k`` from each cell.
        self.rows = n_cells * k

    def sample(self, generator: torch.Generator, n_draws: int = 1) -> torch.Tensor:
        """Return ``n_draws * n_cells * k`` row indices (draw-major, then cell)."""
        return self.rows_of(self.uniforms(generator, n_draws))

    def uniforms(self, generator: torch.Generator, n_draws: int) -> torch.Tensor:
        """Draw the uniforms of ``n_draws`` samples: ``(n_draws, n_cells, k)``."""
        shape = (n_draws, self.n_cells, self.k)
        return torch.rand(shape, generator=generator, device=self.order.device)

    def rows_of(self, u: torch.Tensor) -> torch.Tensor:
        """Row ``floor(u * size)`` of each cell; flattened over the last 3 dims."""
        # floor(u * size) can round up to size in float32 for huge cells: clamp.
        pos = torch.minimum((u * self.size).long(), self.last)
        index = (pos + self.start).flatten(-3)
        return self.order.index_select(0, index.reshape(-1)).view(index.shape)

    @classmethod
    def stack(cls, samplers: list[CellSampler]) -> CellSampler:
        """Stack ``K`` samplers (same cells and ``k``) into one.

        Its :meth:`rows_of` maps uniforms of shape ``(K, n_draws, n_cells, k)``
        to rows ``(K, n_draws * n_cells * k)`` (indices into the shared ``X``).
        """
        out = copy.copy(samplers[0])
        # Models on the same rows (bounds, seeds) share one order: kept once, so
        # that the draws read a small, cache-resident table.
        orders, offsets, total = [], [], 0
        for s in samplers:
            same = next((o for t, o in orders if torch.equal(t, s.order)), None)
            if same is None:
                orders.append((s.order, total))
                same, total = total, total + len(s.order)
            offsets.append(same)
        out.order = torch.cat([t for t, _ in orders])
        out.start = torch.stack(
            [s.start + o for s, o in zip(samplers, offsets, strict=True)]
        )
        out.size = torch.stack([s.size for s in samplers])
        out.last = torch.stack([s.last for s in samplers])
        out.start, out.size, out.last = (
            t.unsqueeze(1) for t in (out.start, out.size, out.last)
        )
        return out


def _shared(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """``array`` as a tensor on ``device``, sharing its memory on the CPU.

    Read-only input (pandas, memory maps) is shared too, not copied: training
    never writes to its data, and a copy would double the memory a large fit
    needs (torch warns about read-only arrays; the warning does not apply).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.as_tensor(array, device=device)


def device_rows(X, device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``X`` as a row-major tensor on ``device`` (a tensor is taken as it is).

    Row-major because a step gathers rows, and gathering a row of a
    column-major array (pandas' ``to_numpy`` gives one) touches a cache line per
    feature -- several times slower. Copied only if it is not row-major already.
    """
    if isinstance(X, torch.Tensor):  # already on the device: shared as it is
        return X
    np_dtype = torch.empty((), dtype=dtype).numpy().dtype
    return _shared(np.ascontiguousarray(X, dtype=np_dtype), torch.device(device))


def _relative(sample_weight) -> np.ndarray:
    """``sample_weight`` times the power of two that puts its maximum in [0.5, 1)."""
    w = np.asarray(sample_weight, dtype=np.float64)
    top = float(w.max()) if w.size else 0.0
    if not top > 0 or not np.isfinite(top):
        return w
    return np.ldexp(w, -np.frexp(top)[1])


class TrainingData(torch.utils.data.Dataset):
    """The training set as tensors on the training device.

    A :class:`torch.utils.data.Dataset` of ``(x, y)`` rows, so that skorch takes
    it as it is; fairsk's engine reads the tensors directly.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d)
        Features (converted to ``dtype``).
    y : numpy.ndarray of shape (n,)
        Labels in {0, 1}.
    groups : numpy.ndarray of shape (n,) or None
        Group code of each row; ``None`` when no sensitive features were given.
    sample_weight : numpy.ndarray of shape (n,) or None
        Non-negative weights; ``None`` for uniform.
    compiled : CompiledConstraints or None
        Constraints compiled on these groups; ``None`` trains without constraints.
    constraint_batch_size : int or None
        Rows per constraint sample, split evenly across the sampled cells and
        capped at the number of training rows (as the objective minibatch is):
        a larger sample draws the same rows again and would only cost memory
        and time. ``None`` for data that is only evaluated (no sampler).
    device : torch.device
        Where the tensors live.
    dtype : torch.dtype, default=torch.float32
        Of the features, labels and weights (float64 for exact arithmetic in
        tests of the update rules).
    rows : array-like of int or None, default=None
        The training rows among those of ``X`` (sorted): the other rows are never
        drawn, evaluated or counted. Models trained side by side on different
        rows (cross-validation folds) share one copy of ``X`` on the device
        this way; ``None`` takes every row.

    Attributes
    ----------
    X, y : torch.Tensor
        Features and float labels.
    weight : torch.Tensor or None
        Sample weights scaled to mean 1 (so a uniform minibatch mean of
        ``weight * loss`` is unbiased for the weighted mean loss).
    cell_weight : torch.Tensor or None
        Sample weights scaled to mean 1 within each cell, for constraint samples.
    cell : torch.Tensor or None
        Row of :attr:`compiled.cells` each sample belongs to, ``-1`` if none.
    sampler : CellSampler or None
        Constraint sampler.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from fairsk.constraints import compile_constraints, make_constraints
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> g = rng.integers(0, 2, size=200)  # group codes
    >>> y = (X[:, 0] + 0.5 * g > 0).astype(int)
    >>> w = rng.uniform(0.5, 2.0, size=200)
    >>> mass = np.zeros((2, 2))
    >>> np.add.at(mass, (g, y), w)  # weight of each (group, label) cell
    >>> cc = compile_constraints(make_constraints("loss_gap", 0.05), mass, ["a", "b"])
    >>> data = TrainingData(X, y, g, w, cc, constraint_batch_size=32, device="cpu")
    >>> len(data), data.X.dtype, data.y.dtype
    (200, torch.float32, torch.float32)
    >>> round(float(data.weight.mean()), 4)  # scaled to mean 1
    1.0
    >>> bool((data.cell == torch.as_tensor(2 * g + y)).all())  # cell (g, y)
    True

    A constraint sample draws ``32 / 4 = 8`` rows of each of the 4 cells:

    >>> rows = data.sampler.sample(torch.Generator().manual_seed(0), n_draws=1)
    >>> data.sampler.k, data.cell[rows].bincount().tolist()
    (8, [8, 8, 8, 8])

    Data that is only evaluated (e.g. validation rows) has no sampler:

    >>> TrainingData(X, y, g, None, cc, None, "cpu").sampler is None
    True
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray | None,
        sample_weight: np.ndarray | None,
        compiled: CompiledConstraints | None,
        constraint_batch_size: int | None,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        rows=None,
    ):
        self.device = torch.device(device)
        self.X = device_rows(X, self.device, dtype)
        self.y = torch.as_tensor(y, dtype=dtype, device=self.device)
        if rows is not None and len(rows) == len(y):  # every row: no indirection
            rows = None
        self.rows = None if rows is None else torch.as_tensor(rows, device=self.device)
        self.n = len(y) if rows is None else len(rows)
        inside = np.ones(len(y), dtype=bool)
        if rows is not None:
            inside[:] = False
            inside[np.asarray(rows)] = True
        self.compiled = compiled
        self.weight = None
        self.raw_weight = None
        if sample_weight is not None:
            # Weights are relative: scale them by a power of two (exact, so the
            # same weights at any scale give the same model bit for bit) to a
            # largest weight in [0.5, 1), so that float32 sums and squares of
            # weights of 1e36 (or 1e-36) neither overflow nor vanish.
            w = _relative(sample_weight)
            self.raw_weight = _shared(w, self.device).to(dtype)
            self.weight = torch.as_tensor(w / w[inside].mean(), dtype=dtype).to(
                self.device
            )
        #: Held-out rows whose constraint estimates drive the multipliers
        #: (``holdout_constraints``); set by the estimator.
        self.holdout: TrainingData | None = None
        self.groups = None
        self.cell = None
        self.cell_weight = None
        self.sampler = None
        if groups is not None:
            self.groups = _shared(np.asarray(groups, dtype=np.int64), self.device)
        if compiled is not None and groups is not None:
            lookup = np.full((len(compiled.group_names), 2), -1, dtype=np.int64)
            for i, (g, lab) in enumerate(compiled.cells):
                lookup[g, lab] = i
            cell = np.where(inside, lookup[groups, np.asarray(y, dtype=np.int64)], -1)
            self.cell = torch.as_tensor(cell, device=self.device)
            n_cells = len(compiled.cells)
            if constraint_batch_size is not None:  # None: evaluation data only
                rows = min(int(constraint_batch_size), self.n)
                k = max(1, math.ceil(rows / n_cells))
                self.sampler = CellSampler(self.cell, n_cells, k)
            if sample_weight is not None:
                w = _relative(sample_weight)
                mass = np.bincount(cell[cell >= 0], w[cell >= 0], minlength=n_cells)
                size = np.bincount(cell[cell >= 0], minlength=n_cells)
                scale = np.where(
                    cell >= 0, size[cell] / np.maximum(mass[cell], 1e-300), 0
                )
                self.cell_weight = torch.as_tensor(w * scale, dtype=dtype).to(
                    self.device
                )

    def __len__(self) -> int:
        """Return the number of training rows (skorch's ProgressBar asks)."""
        return self.n

    def __getitem__(self, i):
        """Row ``i`` as ``(x, y)``."""
        if self.rows is not None:
            i = self.rows[i]
        return self.X[i], self.y[i]
