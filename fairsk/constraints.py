r"""Fairness constraints: group statistics, how groups are compared, and their bounds.

Every constraint fairsk trains under is *linear in per-cell means*. A cell is a
(group, label) pair; a per-sample **quantity** :math:`q(\ell, y)` of the logit
:math:`\ell` and label :math:`y` (the BCE loss, a positive score, an error) is
averaged within each cell, giving the matrix :math:`M_{(g,y),q}`. A group
**statistic** is a fixed mixture of its cells,

.. math::

    S_g = \sum_{y\in\{0,1\}} \pi_{g,y} \, M_{(g,y),q}, \qquad
    \pi_{g,y} = \begin{cases} P(y \mid g) & \text{unconditional (loss, positive
    rate, error rate)} \\ [y = y^*] & \text{conditional on } y = y^*
    \text{ (TPR: } y^*=1\text{, FPR: } y^*=0) \end{cases}

and a constraint compares statistics across groups with linear inequalities
:math:`k_j^\top \operatorname{vec}(M) - b_j \le 0`, as its kind says
(:mod:`fairsk.kinds`: a difference, a ratio, an upper bound), for every pair of
groups (``pairing="one_vs_each"``) or each group against the population statistic
:math:`S_{\text{pop}} = \sum_g P(g\mid\text{cond}) S_g` (``"one_vs_mean"``, as
fairlearn's moments compare each group with the overall rate).

Because the map is linear, a minibatch that holds ``k`` samples of each cell gives
an unbiased estimate of every constraint at once (one matrix product), no batch can
miss a group, and the same matrix applied to exact full-data cell means gives the
reported values. Reports use hard predictions (``logit > 0``), as fairlearn's
metrics do; in training, rates are straight-through estimates -- the hard
decision's value with the sigmoid surrogate's gradient -- and the loss is the BCE.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from .kinds import KINDS, Kind

__all__ = [
    "CONSTRAINTS",
    "STATISTICS",
    "CompiledConstraints",
    "Constraint",
    "Quantity",
    "Statistic",
    "cell_mass",
    "compile_constraints",
    "make_constraints",
]

QuantityFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def bce_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-sample binary cross-entropy of ``logits`` against labels ``y``."""
    return F.binary_cross_entropy_with_logits(logits, y, reduction="none")


def positive_score(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Positive prediction: value :math:`[\ell > 0]`, gradient of :math:`\sigma(\ell)`.

    A straight-through estimator (Bengio, Léonard & Courville, 2013): the value is
    the hard decision, so a minibatch rate is an unbiased estimate of the rate the
    report measures, while the gradient is the sigmoid surrogate's. With the
    sigmoid's *value* instead, a constraint met on scores can miss the hard rates
    by a wide margin (scores near 0.5 count as half a decision).
    """
    s = torch.sigmoid(logits)
    return (logits > 0).to(logits.dtype) + (s - s.detach())


def hard_positive(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Hard positive prediction :math:`[\ell > 0]` (probability above 0.5)."""
    return (logits > 0).to(logits.dtype)


def smooth_error(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Error: value :math:`[[\ell > 0] \ne y]`, gradient of :math:`\sigma((1-2y)\ell)`.

    The straight-through estimator of :func:`positive_score`, with the wrong
    class's score as the surrogate.
    """
    s = torch.sigmoid((1 - 2 * y) * logits)
    return hard_error(logits, y) + (s - s.detach())


def hard_error(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Hard error :math:`[[\ell > 0] \ne y]`."""
    return ((logits > 0).to(logits.dtype) != y).to(logits.dtype)


@dataclass(frozen=True)
class Quantity:
    """A per-sample quantity averaged within cells.

    Parameters
    ----------
    name : str
        Unique name: each quantity is computed once per step, by name, so two
        different quantities may not share one (``"loss"`` is the BCE's).
    fn : callable ``(logits, y) -> tensor``
        Version used in training (it must carry a gradient).
    hard_fn : callable or None
        Version on hard predictions, used for reported violations; ``None`` reuses
        ``fn`` (as for the loss, which is reported as is).

    Examples
    --------
    >>> import torch
    >>> q = Quantity("score", positive_score, hard_positive)
    >>> q.hard_fn(torch.tensor([-1.0, 2.0]), torch.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    name: str
    fn: QuantityFn
    hard_fn: QuantityFn | None = None

    def evaluate(self, logits: torch.Tensor, y: torch.Tensor, hard: bool = False):
        """Return the quantity of each sample (hard or smooth)."""
        fn = self.hard_fn if hard and self.hard_fn is not None else self.fn
        return fn(logits, y)


LOSS = Quantity("loss", bce_loss)
SCORE = Quantity("score", positive_score, hard_positive)
ERROR = Quantity("error", smooth_error, hard_error)
_RATES = (SCORE, ERROR)


@dataclass(frozen=True)
class Statistic:
    """A group statistic: the mean of a quantity, optionally among one label.

    Parameters
    ----------
    name : str
        Name used in reports (``"true_positive_rate"``).
    quantity : Quantity
        What is averaged.
    label : {None, 0, 1}
        ``None`` averages over the whole group; ``1`` over its positives (TPR),
        ``0`` over its negatives (FPR).

    Examples
    --------
    >>> STATISTICS["true_positive_rate"].label
    1
    """

    name: str
    quantity: Quantity
    label: int | None = None


#: Built-in group statistics by name, for :class:`Constraint`'s ``statistics``: the
#: group's mean BCE ``"loss"``, its ``"positive_rate"``, its
#: ``"true_positive_rate"`` and ``"false_positive_rate"`` (among its positives and
#: negatives), and its ``"error_rate"``; rates on hard predictions in reports.
STATISTICS: dict[str, Statistic] = {
    "loss": Statistic("loss", LOSS),
    "positive_rate": Statistic("positive_rate", SCORE),
    "true_positive_rate": Statistic("true_positive_rate", SCORE, 1),
    "false_positive_rate": Statistic("false_positive_rate", SCORE, 0),
    "error_rate": Statistic("error_rate", ERROR),
}

_PAIRINGS = ("auto", "one_vs_mean", "one_vs_each")


class Constraint:
    r"""A fairness constraint on group statistics, with its bound.

    Parameters
    ----------
    statistics : str, Statistic or sequence of them
        What is compared across groups (names from :data:`STATISTICS`).
    bound : float or None, default=None
        :math:`\delta` for ``"difference"`` and ``"upper"``, :math:`r` for
        ``"ratio"``. ``None`` takes the estimator's ``bound``.
    kind : {"difference", "ratio", "upper"}, default="difference"
        How statistics are compared (see the module docstring).
    pairing : {"auto", "one_vs_mean", "one_vs_each"}, default="auto"
        Which groups are compared: every pair, or each group against the whole
        population. ``"auto"`` is ``"one_vs_each"`` for two groups (the paper's
        :math:`|L_a - L_b| \le \delta`) and ``"one_vs_mean"`` otherwise.
    name : str or None
        Name in reports; defaults to the statistics' names.

    Examples
    --------
    >>> c = Constraint("positive_rate", bound=0.05, pairing="one_vs_mean")
    >>> c.name, c.kind
    ('positive_rate_difference', 'difference')
    """

    def __init__(
        self,
        statistics: str | Statistic | Sequence[str | Statistic],
        bound: float | None = None,
        *,
        kind: str = "difference",
        pairing: str = "auto",
        name: str | None = None,
    ):
        if isinstance(statistics, str | Statistic):
            statistics = [statistics]
        stats = []
        for s in statistics:
            if isinstance(s, str):
                if s not in STATISTICS:
                    raise ValueError(
                        f"Unknown statistic {s!r}; expected one of "
                        f"{sorted(STATISTICS)} or a Statistic."
                    )
                s = STATISTICS[s]
            if not isinstance(s, Statistic):
                raise TypeError(f"Expected a statistic name or Statistic, got {s!r}.")
            stats.append(s)
        if not stats:
            raise ValueError("A Constraint needs at least one statistic.")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {tuple(KINDS)}, got {kind!r}.")
        if pairing not in _PAIRINGS:
            raise ValueError(f"pairing must be one of {_PAIRINGS}, got {pairing!r}.")
        self.statistics = tuple(stats)
        self.bound = bound
        self.kind = kind
        self.pairing = pairing
        self.name = name or "+".join(s.name for s in stats) + f"_{kind}"

    def __repr__(self) -> str:
        stats = [s.name for s in self.statistics]
        return (
            f"Constraint({stats}, bound={self.bound}, kind={self.kind!r}, "
            f"pairing={self.pairing!r}, name={self.name!r})"
        )

    def with_defaults(self, bound: float | None, pairing: str) -> Constraint:
        """Return a copy whose unset bound and ``"auto"`` pairing are filled in."""
        return Constraint(
            self.statistics,
            self.bound if self.bound is not None else bound,
            kind=self.kind,
            pairing=pairing if self.pairing == "auto" else self.pairing,
            name=self.name,
        )

    @property
    def form(self) -> Kind:
        """The kind's object (:mod:`fairsk.kinds`): rows, value, violation."""
        return KINDS[self.kind]

    def check_bound(self) -> None:
        """Raise ValueError when the bound is outside the range its kind allows."""
        # Only the built-in rates are known to lie in [0, 1]; a custom quantity
        # (a logit, a margin) may differ by more than 1 across groups.
        is_rate = all(s.quantity in _RATES for s in self.statistics)
        self.form.check_bound(self.name, self.bound, is_rate)


@dataclass(frozen=True)
class Named:
    """One named constraint: what it compares and how, and what others call it.

    The one home of a name: training reads ``statistics`` and ``kind``;
    reports the paper metric (``metric``, a key of
    :func:`fairsk.metrics.paper_metrics`) and the per-group statistic
    (``group_stat``) that measure it; the benchmark and ``constraint=`` the
    fairlearn counterpart (``moment``, a :mod:`fairlearn.reductions` class
    name, and ``threshold``, ThresholdOptimizer's ``constraints``).

    Examples
    --------
    >>> CONSTRAINTS["demographic_parity"].moment
    'DemographicParity'
    """

    statistics: tuple[str, ...]
    kind: str = "difference"
    metric: str = ""
    group_stat: str = ""
    moment: str | None = None
    threshold: str | None = None
    #: Whether ThresholdOptimizer takes the bound as its tolerance.
    relaxable: bool = True

    def constraint(self, name: str, bound=None, pairing: str = "auto") -> Constraint:
        """Return the :class:`Constraint` this entry names."""
        return Constraint(
            list(self.statistics), bound, kind=self.kind, pairing=pairing, name=name
        )


_TPR, _FPR = "true_positive_rate", "false_positive_rate"
_EO = "equalized_odds_difference"


def _and_ratio(name: str, ratio_name: str, statistics, **fields) -> dict[str, Named]:
    """Return the catalog entries of a difference constraint and its ratio form.

    Both have the same statistics, paper metric, group statistic and fairlearn
    moment; ThresholdOptimizer, which takes no ratio, gives the ratio form no
    ``threshold``.
    """
    entry = Named(statistics, **fields)
    ratio = replace(entry, kind="ratio", threshold=None, relaxable=True)
    return {name: entry, ratio_name: ratio}


#: The named constraints (``constraint="demographic_parity"``), named as in
#: fairlearn where it has one. An unknown name is an error wherever it is used.
CONSTRAINTS: dict[str, Named] = {
    "loss_gap": Named(("loss",), metric="loss_gap", group_stat="loss"),
    **_and_ratio(
        "demographic_parity",
        "demographic_parity_ratio",
        ("positive_rate",),
        metric="ind",
        group_stat="selection_rate",
        moment="DemographicParity",
        threshold="demographic_parity",
    ),
    **_and_ratio(
        "equalized_odds",
        "equalized_odds_ratio",
        (_TPR, _FPR),
        metric=_EO,
        group_stat="tpr",
        moment="EqualizedOdds",
        threshold="equalized_odds",
        relaxable=False,
    ),
    **_and_ratio(
        "equal_opportunity",
        "equal_opportunity_ratio",
        (_TPR,),
        metric="equal_opportunity_difference",
        group_stat="tpr",
        moment="TruePositiveRateParity",
        threshold="true_positive_rate_parity",
    ),
    **_and_ratio(
        "false_positive_rate_parity",
        "false_positive_rate_ratio",
        (_FPR,),
        metric="false_positive_rate_difference",
        group_stat="fpr",
        moment="FalsePositiveRateParity",
        threshold="false_positive_rate_parity",
    ),
    **_and_ratio(
        "error_rate_parity",
        "error_rate_ratio",
        ("error_rate",),
        metric="error_rate_difference",
        group_stat="error_rate",
        moment="ErrorRateParity",
    ),
    "bounded_group_loss": Named(("loss",), "upper", "max_group_loss", "loss"),
    "bounded_group_error": Named(
        ("error_rate",), "upper", "max_group_error", "error_rate", "BoundedGroupLoss"
    ),
}


def from_fairlearn(moment) -> Constraint:
    """Translate a :mod:`fairlearn.reductions` moment into a constraint and bound.

    fairlearn compares each group with the overall statistic, so the constraint
    pairs ``"one_vs_mean"``: ``DemographicParity(difference_bound=d)`` is
    ``"demographic_parity"`` with bound ``d``; ``ratio_bound=r`` (without
    ``ratio_bound_slack``) its ``_ratio`` form with bound ``r``;
    ``BoundedGroupLoss(ZeroOneLoss(), upper_bound=u)`` is
    ``"bounded_group_error"`` (each group's error rate at most ``u``).

    Examples
    --------
    >>> from fairlearn.reductions import EqualizedOdds
    >>> from_fairlearn(EqualizedOdds(difference_bound=0.02))
    Constraint(['true_positive_rate', 'false_positive_rate'], bound=0.02, \
kind='difference', pairing='one_vs_mean', name='equalized_odds')
    """
    cls = type(moment).__name__
    if cls == "BoundedGroupLoss":
        loss = type(moment.reduction_loss).__name__
        if loss != "ZeroOneLoss":
            raise ValueError(
                f"BoundedGroupLoss({loss}) has no fairsk counterpart: fairsk bounds a "
                "group's error rate (ZeroOneLoss) or its cross-entropy "
                "(constraint='bounded_group_loss')."
            )
        kind, bound = "upper", moment.upper_bound
    elif getattr(moment, "ratio", 1.0) != 1.0:
        if moment.eps:
            raise ValueError(
                f"{cls}(ratio_bound_slack={moment.eps}) has no fairsk counterpart: "
                "fairsk's ratio constraints take no slack."
            )
        kind, bound = "ratio", moment.ratio
    else:
        kind, bound = "difference", getattr(moment, "eps", None)
    for name, entry in CONSTRAINTS.items():
        if entry.moment == cls and entry.kind == kind:
            return entry.constraint(name, bound, pairing="one_vs_mean")
    raise ValueError(
        f"fairlearn's {cls} has no fairsk counterpart; fairsk takes "
        f"{sorted({e.moment for e in CONSTRAINTS.values() if e.moment})}."
    )


def named(name: str) -> Named:
    """Return the catalog entry of ``name`` (a ValueError lists the names).

    Examples
    --------
    >>> named("loss_gap").statistics
    ('loss',)
    """
    if name not in CONSTRAINTS:
        raise ValueError(
            f"Unknown constraint {name!r}; expected one of {sorted(CONSTRAINTS)}, "
            "a fairsk.Constraint or a fairlearn moment."
        )
    return CONSTRAINTS[name]


def _is_moment(obj) -> bool:
    """Whether ``obj`` is a fairlearn moment (fairlearn imported only when asked)."""
    moment = __import__("fairlearn.reductions").reductions.Moment
    return isinstance(obj, moment)


def make_constraints(
    constraint, bound: float | Sequence[float] | None, pairing: str = "auto"
) -> list[Constraint]:
    """Turn an estimator's ``constraint`` / ``bound`` / ``pairing`` into Constraints.

    Parameters
    ----------
    constraint : str, Constraint or list of them
        Names from :data:`CONSTRAINTS` or Constraint objects.
    bound : float or list of float
        Bound of each constraint whose own bound is unset (one per constraint
        when a list).
    pairing : str
        Pairing for constraints whose own pairing is ``"auto"``.

    Returns
    -------
    list of Constraint
        With bounds filled in and checked.

    Examples
    --------
    >>> [c.name for c in make_constraints("loss_gap", 0.005)]
    ['loss_gap']
    """
    items = constraint if isinstance(constraint, list | tuple) else [constraint]
    if not items:
        raise ValueError("constraint is empty; pass a name or a Constraint.")
    bounds = list(bound) if isinstance(bound, list | tuple) else [bound] * len(items)
    if len(bounds) != len(items):
        raise ValueError(
            f"bound has {len(bounds)} values for {len(items)} constraints; "
            "pass one bound per constraint or a single number."
        )
    if pairing not in _PAIRINGS:
        raise ValueError(f"pairing must be one of {_PAIRINGS}, got {pairing!r}.")
    out = []
    for item, b in zip(items, bounds, strict=True):
        if isinstance(item, str):
            item = named(item).constraint(item)
        elif _is_moment(item):
            item = from_fairlearn(item)
        elif not isinstance(item, Constraint):
            raise TypeError(
                "constraint must be a name, a fairsk.Constraint or a fairlearn "
                f"moment, got {item!r}."
            )
        c = item.with_defaults(b, pairing)
        if c.bound is None:
            raise ValueError(f"No bound given for constraint {c.name!r}.")
        c.check_bound()
        out.append(c)
    return out


@dataclass
class CompiledConstraints:
    """Constraints compiled against the groups of one training set.

    Attributes
    ----------
    quantities : list of Quantity
        The quantities averaged per cell, in column order.
    cells : numpy.ndarray of shape (n_cells, 2)
        ``(group code, label)`` of each sampled cell, in row order of ``M``.
    K : numpy.ndarray of shape (n_constraints, n_cells * n_quantities)
        Constraint rows: ``c = K @ vec(M) - b``.
    b : numpy.ndarray of shape (n_constraints,)
        Right-hand sides.
    A : numpy.ndarray of shape (n_group_stats, n_cells * n_quantities)
        Group statistics: ``S = A @ vec(M)``.
    row_names : list of str
        One readable name per constraint row.
    tightened : numpy.ndarray of bool
        Whether the ``confidence`` margin tightens each row (its kind says).
    stat_index : list of tuple
        ``(constraint index, statistic name, group code or "pop")`` of each row of A.
    constraints : list of Constraint
        The constraints, bounds filled in.
    group_names : list
        Group label of each code.

    Examples
    --------
    A fitted classifier keeps its constraints, compiled on its training groups:

    >>> import numpy as np
    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(200, random_state=0)
    >>> clf = SSLALMClassifier(bound=0.5, hidden_layer_sizes=(8,), max_epochs=2,
    ...                        random_state=0).fit(X, y, sensitive_features=A)
    >>> cc = clf.compiled_constraints_
    >>> cc.n_constraints, cc.row_names
    (2, ['loss_gap: loss[a] - loss[b] <= 0.5', 'loss_gap: loss[b] - loss[a] <= 0.5'])
    >>> cc.cells.tolist()  # (group code, label) of each column of K
    [[0, 0], [0, 1], [1, 0], [1, 1]]

    Applied to the per-cell means of the model's quantities on any rows, the same
    maps give the constraint rows ``c`` and the group statistics ``S``:

    >>> import torch
    >>> logits = torch.as_tensor(clf.decision_function(X), dtype=torch.float32)
    >>> labels = torch.as_tensor(y, dtype=torch.float32)
    >>> codes = clf.group_encoder_.transform(A, len(A))
    >>> cell = torch.as_tensor(2 * codes + y)  # row of ``cells`` of each sample
    >>> M = cc.cell_means(cc.quantity_matrix(logits, labels, hard=True), cell)
    >>> c, S = cc.values(M)
    >>> c.shape, S.shape  # S: the loss of group a, of group b, of the population
    ((2,), (3,))
    >>> bool(np.allclose(c, clf.history_[-1, "avg_constraints"], atol=1e-5))
    True
    >>> report = cc.report(S)[0]
    >>> report["name"], report["violation"] <= 0
    ('loss_gap', True)
    """

    quantities: list
    cells: np.ndarray
    K: np.ndarray
    b: np.ndarray
    A: np.ndarray
    row_names: list
    stat_index: list
    constraints: list
    group_names: list
    tightened: np.ndarray

    @property
    def n_constraints(self) -> int:
        """Number of inequality rows."""
        return len(self.b)

    def quantity_matrix(self, logits, y, hard: bool = False) -> torch.Tensor:
        """Stack every quantity of each sample into shape ``(n, n_quantities)``."""
        return torch.stack([q.evaluate(logits, y, hard) for q in self.quantities], -1)

    def cell_statistics(self, Q: torch.Tensor, cell: torch.Tensor, weight=None):
        r"""Per-cell weighted mean and variance of each quantity, and effective size.

        ``cell`` holds, per sample, its row in :attr:`cells` or ``-1`` when the
        cell is not used by any constraint. Returns ``(mean, var, n_eff)``: shapes
        ``(n_cells, n_quantities)`` twice and ``(n_cells,)``, ``n_eff`` being
        Kish's effective sample size :math:`(\sum w)^2 / \sum w^2` (the count
        when unweighted). One ``index_add`` over ``[w, wQ, wQ^2, w^2]`` computes
        every sum.
        """
        n_cells, nq = len(self.cells), Q.shape[1]
        keep = cell >= 0
        Q, cell = Q[keep], cell[keep]
        w = (
            torch.ones_like(Q[:, :1])
            if weight is None
            else weight[keep, None].to(Q.dtype)
        )
        wQ = w * Q
        cols = torch.cat([w, wQ, wQ * Q, w * w], 1)
        sums = Q.new_zeros(n_cells, cols.shape[1]).index_add_(0, cell, cols)
        tiny = torch.finfo(Q.dtype).tiny
        mass = sums[:, 0].clamp_min(tiny)
        mean = sums[:, 1 : 1 + nq] / mass[:, None]
        var = (sums[:, 1 + nq : 1 + 2 * nq] / mass[:, None] - mean**2).clamp_min(0)
        return mean, var, mass**2 / sums[:, -1].clamp_min(tiny)

    def cell_means(self, Q: torch.Tensor, cell: torch.Tensor, weight=None):
        """Exact weighted mean of each quantity within each cell (full data)."""
        return self.cell_statistics(Q, cell, weight)[0]

    def margins(self, var: torch.Tensor, n_eff: torch.Tensor, z: float) -> np.ndarray:
        r"""Margin of each row: ``z`` standard errors of its training estimate.

        Each row is linear in cell means, so (for a fixed model) its estimate from
        :math:`n_c` samples per cell has standard error
        :math:`\sqrt{\sum_{c,q} K_{j,(c,q)}^2 \sigma^2_{c,q} / n_c}`. For a model
        chosen *independently* of these rows, a row met with this margin would
        hold on new data from the same population with about the one-sided
        normal confidence that ``z`` stands for. A model trained on the same
        rows is optimistic on them (most for small groups), which this margin
        does not account for; :meth:`fairsk.problem.FairProblem.set_margins`
        also clips a gap's tightened bound at 0. Ratio rows get no margin
        (their scale depends on the rates themselves).
        """
        nq = var.shape[1]
        v = var.detach().cpu().double().numpy().reshape(-1)
        n = np.repeat(n_eff.detach().cpu().double().numpy(), nq)
        se = np.sqrt((self.K**2) @ (v / np.maximum(n, 1.0)))
        return np.where(self.tightened, z * se, 0.0)

    def recompiled(self, mass: np.ndarray) -> CompiledConstraints:
        """Return the same constraints compiled on other (group, label) masses.

        A group's statistic mixes its labels in the proportions of the rows it is
        measured on (fairlearn's definition): the rows of a validation split or
        of a report need their own masses. A label absent from a group there
        leaves its rows out, silently (:func:`compile_constraints` warns).
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return compile_constraints(
                self.constraints, np.asarray(mass).reshape(-1, 2), self.group_names
            )

    def values(self, M: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Return constraint rows ``c`` and group statistics ``S`` from cell means."""
        flat = M.reshape(-1).detach().cpu().double().numpy()
        return self.K @ flat - self.b, self.A @ flat

    def report(self, S: np.ndarray) -> list[dict]:
        """Summarise each constraint from group statistics ``S``.

        Returns one dict per constraint with ``name``, ``kind``, ``bound``, ``value``
        (its kind's value: the largest gap, the smallest ratio, the largest group
        statistic) and ``violation`` (how far ``value`` is on the wrong side of
        ``bound``; ``<= 0`` is feasible).
        """
        out = []
        for ci, con in enumerate(self.constraints):
            values = []
            for stat in con.statistics:
                rows = [
                    (g, S[i])
                    for i, (c_idx, name, g) in enumerate(self.stat_index)
                    if c_idx == ci and name == stat.name
                ]
                groups = np.array([v for g, v in rows if g != "pop"])
                if len(groups):
                    pop = next(v for g, v in rows if g == "pop")
                    values.append(con.form.value(groups, pop, con.pairing))
            value = con.form.worst(values)
            out.append(
                {
                    "name": con.name,
                    "kind": con.kind,
                    "bound": float(con.bound),
                    "value": float(value),
                    "violation": float(con.form.violation(value, con.bound)),
                }
            )
        return out


def cell_mass(groups, y01, n_groups: int, sample_weight=None) -> np.ndarray:
    """Total weight of each (group, label) cell: the masses constraints compile on.

    Parameters
    ----------
    groups : array-like of int of shape (n_samples,)
        Group code of each sample, in ``range(n_groups)``.
    y01 : array-like of shape (n_samples,)
        Labels as 0/1.
    n_groups : int
        Number of groups.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights; ``None`` counts rows.

    Returns
    -------
    numpy.ndarray of shape (n_groups, 2)
        ``mass[g, y]``, the weight of group ``g``'s samples labelled ``y``.

    Examples
    --------
    >>> cell_mass([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 2).tolist()
    [[1.0, 1.0], [1.0, 2.0]]
    """
    w = 1.0 if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    mass = np.zeros((n_groups, 2))
    np.add.at(mass, (np.asarray(groups), np.asarray(y01).astype(np.int64)), w)
    return mass


def _distinct_quantities(constraints: list[Constraint]) -> list[Quantity]:
    """Return each quantity the statistics average, once, in order of first use."""
    quantities: list[Quantity] = []
    for con in constraints:
        for stat in con.statistics:
            q = stat.quantity
            same = [p for p in quantities if p.name == q.name]
            # Quantities are keyed by name (computed once per step), and training
            # always computes "loss" as the BCE: a different quantity under a
            # taken name would silently be replaced by the other one.
            if (same and same[0] != q) or (q.name == LOSS.name and q != LOSS):
                raise ValueError(
                    f"Statistic {stat.name!r} uses a quantity named {q.name!r}, "
                    "a name already taken by a different quantity"
                    + (" (the BCE loss)" if q.name == LOSS.name else "")
                    + "; give the custom Quantity a unique name."
                )
            if not same:
                quantities.append(q)
    return quantities


def _group_vectors(
    con: Constraint,
    stat: Statistic,
    cell_mass: np.ndarray,
    group_names: Sequence,
    n_q: int,
    q_col: int,
) -> dict:
    """Return each group's statistic, and the population's, as a mix of cell means."""
    n_groups = cell_mass.shape[0]
    group_mass = cell_mass.sum(axis=1)
    vecs = {}
    for g in range(n_groups):
        v = np.zeros(2 * n_groups * n_q)
        if stat.label is None:
            for y in (0, 1):
                if cell_mass[g, y] > 0:
                    v[(2 * g + y) * n_q + q_col] = cell_mass[g, y] / group_mass[g]
        elif cell_mass[g, stat.label] > 0:
            v[(2 * g + stat.label) * n_q + q_col] = 1.0
        else:
            warnings.warn(
                f"Group {group_names[g]!r} has no samples with label "
                f"{stat.label}, so its {stat.name} is undefined; it is left "
                f"out of constraint {con.name!r}.",
                UserWarning,
                stacklevel=5,  # compile_constraints used 4: one frame deeper now
            )
            continue
        vecs[g] = v
    if len(vecs) < con.form.min_groups:
        raise ValueError(
            f"Constraint {con.name!r} needs {stat.name} in at least two "
            f"groups, but only {len(vecs)} group(s) have samples with "
            f"label {stat.label}."
        )
    cond = group_mass if stat.label is None else cell_mass[:, stat.label]
    vecs["pop"] = sum(cond[g] * vecs[g] for g in vecs) / sum(cond[g] for g in vecs)
    return vecs


def _used_cells(A: np.ndarray, n_cells: int, n_q: int) -> tuple[list, np.ndarray]:
    """Return the cells some constraint reads, and the columns of their quantities."""
    used = [i for i in range(n_cells) if np.any(A[:, i * n_q : (i + 1) * n_q] != 0)]
    cols = np.concatenate([np.arange(i * n_q, (i + 1) * n_q) for i in used])
    return used, cols


def compile_constraints(
    constraints: list[Constraint],
    cell_mass: np.ndarray,
    group_names: Sequence,
) -> CompiledConstraints:
    """Compile constraints into the linear maps ``K``, ``b`` and ``A``.

    Parameters
    ----------
    constraints : list of Constraint
        From :func:`make_constraints`.
    cell_mass : numpy.ndarray of shape (n_groups, 2)
        Total sample weight of each (group, label) cell in the training data.
    group_names : sequence
        Group label of each code (for row names and warnings).

    Returns
    -------
    CompiledConstraints

    Examples
    --------
    >>> import numpy as np
    >>> cc = compile_constraints(make_constraints("loss_gap", 0.01),
    ...                          np.array([[30., 10.], [20., 20.]]), ["a", "b"])
    >>> cc.row_names
    ['loss_gap: loss[a] - loss[b] <= 0.01', 'loss_gap: loss[b] - loss[a] <= 0.01']
    >>> cc.K.round(2)  # columns: cells (a,0), (a,1), (b,0), (b,1)
    array([[ 0.75,  0.25, -0.5 , -0.5 ],
           [-0.75, -0.25,  0.5 ,  0.5 ]])
    """
    cell_mass = np.asarray(cell_mass, dtype=float)
    n_groups = cell_mass.shape[0]
    if n_groups < 2:
        raise ValueError(
            f"sensitive_features has {n_groups} group; fairness constraints compare "
            "at least two groups."
        )
    auto = "one_vs_each" if n_groups == 2 else "one_vs_mean"
    constraints = [c.with_defaults(c.bound, auto) for c in constraints]
    quantities = _distinct_quantities(constraints)
    q_index = {q.name: i for i, q in enumerate(quantities)}
    n_q = len(quantities)
    all_cells = [(g, y) for g in range(n_groups) for y in (0, 1)]
    k_rows, b_rows, names, tightened = [], [], [], []
    a_rows, stat_index = [], []
    for ci, con in enumerate(constraints):
        for stat in con.statistics:
            q_col = q_index[stat.quantity.name]
            vecs = _group_vectors(con, stat, cell_mass, group_names, n_q, q_col)
            for g, v in vecs.items():
                a_rows.append(v)
                stat_index.append((ci, stat.name, g))
            for k, rhs, text in con.form.rows(
                vecs, stat.name, con.bound, con.pairing, group_names
            ):
                k_rows.append(k)
                b_rows.append(rhs)
                names.append(f"{con.name}: {text}")
                tightened.append(con.form.tightened)
    K = np.array(k_rows)
    A = np.array(a_rows)
    # Keep only the cells some constraint reads: they are what the sampler draws.
    used, cols = _used_cells(A, len(all_cells), n_q)
    return CompiledConstraints(
        quantities=quantities,
        cells=np.array([all_cells[i] for i in used], dtype=np.int64),
        K=K[:, cols],
        b=np.array(b_rows, dtype=float),
        A=A[:, cols],
        row_names=names,
        stat_index=stat_index,
        constraints=list(constraints),
        group_names=list(group_names),
        tightened=np.array(tightened, dtype=bool),
    )
