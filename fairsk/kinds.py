r"""How a constraint compares a group statistic across groups: one class per kind.

A kind owns everything its constraints mean, so that nothing else switches on it:
the inequality rows it compiles to (:meth:`Kind.rows`, linear in the groups'
statistics, see :mod:`fairsk.constraints`), the valid range of its bound, its value
in a report and the violation of that value, the side of a confidence interval
that shows the bound holds, and how far a trained model may miss it.

- :class:`Difference` (fairlearn's ``difference_bound``):
  :math:`\pm(S_a - S_b) - \delta \le 0` for each pair of groups, or against the
  population's statistic; its value is the largest gap.
- :class:`Ratio` (fairlearn's ``ratio_bound``, :math:`\min/\max \ge r`):
  :math:`r S_b - S_a \le 0` for each ordered pair; its value is the smallest ratio.
- :class:`Upper` (bounded group loss): :math:`S_g - \delta \le 0`; its value is the
  largest group statistic.
"""

from __future__ import annotations

import itertools
from numbers import Real
from typing import ClassVar

import numpy as np

__all__ = ["KINDS", "Difference", "Kind", "Ratio", "Upper"]

#: A trained model may miss its bound by half the allowance, and by at least this
#: much (in the constraint's units: a rate, a loss in nats, a ratio), before fit
#: warns: the spread of a stochastic method's end point (SSL-ALM's training loss
#: gap at bound 0.005 ends between 0.0025 and 0.017 across seeds on the ACS task).
VIOLATION_ATOL = 0.02


class Kind:
    """Base class: what a constraint of this kind compiles to and reports.

    Examples
    --------
    >>> KINDS["ratio"].violation(0.7, 0.8), KINDS["difference"].violation(0.1, 0.05)
    (0.10000000000000009, 0.05)
    """

    name: ClassVar[str] = ""
    #: Whether the ``confidence`` margin tightens its rows (their bound then
    #: stays at or above 0).
    tightened: ClassVar[bool] = True
    #: Groups the constraint needs (a comparison needs two).
    min_groups: ClassVar[int] = 2
    #: Whether the value is the largest of the rows plus the bound (a gap, a
    #: largest group statistic), so that its confidence interval is taken row by
    #: row; and the least value it can take.
    rowwise: ClassVar[bool] = True
    floor: ClassVar[float | None] = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def check_bound(self, name: str, b, is_rate: bool) -> None:
        """Raise ValueError when ``b`` is outside the range this kind allows."""
        if not isinstance(b, Real) or isinstance(b, bool) or not np.isfinite(b):
            raise ValueError(f"bound for {name!r} must be a finite number, got {b!r}.")
        if b < 0:
            raise ValueError(f"bound for {name!r} must be >= 0, got {b}.")
        if is_rate and b >= 1:
            raise ValueError(
                f"bound for {name!r} compares rates, which differ by less than 1; "
                f"a bound >= 1 is vacuous (got {b}). Use a value in [0, 1)."
            )

    @staticmethod
    def pairs(groups: list, pairing: str) -> list[tuple]:
        """List the compared pairs: every pair, or each group with ``"pop"``."""
        if pairing == "one_vs_each":
            return list(itertools.combinations(groups, 2))
        return [(g, "pop") for g in groups]

    def rows(
        self, vecs: dict, stat: str, bound: float, pairing: str, names=None
    ) -> list[tuple]:
        """Rows ``(k, rhs, text)`` of ``k·vec(M) - rhs <= 0`` over ``vecs``.

        ``vecs`` maps each group code (and ``"pop"``) to the vector whose product
        with the cell means is its statistic; ``stat`` names the statistic and
        ``names`` the groups, for the row's text.
        """
        raise NotImplementedError

    def value(self, groups: np.ndarray, pop: float, pairing: str) -> float:
        """Return the reported value from the groups' and population's statistic."""
        raise NotImplementedError

    def worst(self, values: list[float]) -> float:
        """Return the value of a constraint on several statistics (the worst)."""
        return max(values)

    def violation(self, value: float, bound: float) -> float:
        """How far ``value`` is on the wrong side of ``bound`` (``<= 0``: feasible)."""
        return value - bound

    def holds(self, low: float, high: float, bound: float) -> bool:
        """Whether a confidence interval ``[low, high]`` is on the feasible side."""
        return high <= bound

    def allowance(self, bound: float) -> float:
        """Return what the bound allows (the end-of-fit tolerance is half of it)."""
        return bound

    def tolerance(self, bound: float) -> float:
        """How far a trained model may miss ``bound`` before fit warns.

        Half the allowance, at least :data:`VIOLATION_ATOL`: a run that meets
        its bound up to the oscillation of a stochastic method stays well inside
        it; a bound that is infeasible, too tight, or not reached in
        ``max_epochs`` does not.

        Examples
        --------
        >>> KINDS["difference"].tolerance(0.05), KINDS["ratio"].tolerance(0.8)
        (0.025, 0.1)
        >>> KINDS["difference"].tolerance(0.005)  # the absolute floor
        0.02
        """
        return max(0.5 * self.allowance(bound), VIOLATION_ATOL)


def _label(g, names) -> str:
    return "pop" if g == "pop" else str(names[g])


class Difference(Kind):
    r""":math:`|S_a - S_b| \le \delta` as two rows per compared pair.

    Examples
    --------
    >>> Difference().value(np.array([0.2, 0.5]), 0.3, "one_vs_each")
    0.3
    """

    name = "difference"
    floor = 0.0  # a gap

    def rows(self, vecs, stat, bound, pairing, names=None):  # noqa: D102
        out = []
        for a, b in self.pairs([g for g in vecs if g != "pop"], pairing):
            la, lb = _label(a, names), _label(b, names)
            out.append((vecs[a] - vecs[b], bound, f"{stat}[{la}] - {stat}[{lb}]"))
            out.append((vecs[b] - vecs[a], bound, f"{stat}[{lb}] - {stat}[{la}]"))
        return [(k, rhs, f"{text} <= {bound}") for k, rhs, text in out]

    def value(self, groups, pop, pairing):  # noqa: D102
        if pairing == "one_vs_each":
            return float(groups.max() - groups.min())
        return float(np.abs(groups - pop).max())


class Ratio(Kind):
    r""":math:`\min/\max \ge r` as :math:`r S_b - S_a \le 0` for each ordered pair.

    Examples
    --------
    >>> Ratio().value(np.array([0.2, 0.5]), 0.3, "one_vs_each")
    0.4
    """

    name = "ratio"
    tightened = False  # its scale depends on the rates themselves
    rowwise = False

    def check_bound(self, name, b, is_rate):  # noqa: D102
        super().check_bound(name, b, False)
        if not 0 < b <= 1:
            raise ValueError(
                f"bound for the ratio constraint {name!r} is min/max >= r and must "
                f"be in (0, 1], got {b}."
            )

    def rows(self, vecs, stat, bound, pairing, names=None):  # noqa: D102
        out = []
        for a, b in self.pairs([g for g in vecs if g != "pop"], pairing):
            la, lb = _label(a, names), _label(b, names)
            va, vb = vecs[a], vecs[b]
            out.append((bound * vb - va, 0.0, f"{bound} * {stat}[{lb}] - {stat}[{la}]"))
            out.append((bound * va - vb, 0.0, f"{bound} * {stat}[{la}] - {stat}[{lb}]"))
        return [(k, rhs, f"{text} <= 0") for k, rhs, text in out]

    def value(self, groups, pop, pairing):  # noqa: D102
        if pairing == "one_vs_each":
            return _safe_ratio(groups.min(), groups.max())
        return min(min(_safe_ratio(v, pop), _safe_ratio(pop, v)) for v in groups)

    def worst(self, values):  # noqa: D102
        return min(values)

    def violation(self, value, bound):  # noqa: D102
        return bound - value

    def holds(self, low, high, bound):  # noqa: D102
        return low >= bound

    def allowance(self, bound):  # noqa: D102
        return 1.0 - bound


class Upper(Kind):
    r""":math:`S_g \le \delta` for every group (bounded group loss).

    Examples
    --------
    >>> Upper().value(np.array([0.2, 0.5]), 0.3, "one_vs_each")
    0.5
    """

    name = "upper"
    min_groups = 1

    def check_bound(self, name, b, is_rate):  # noqa: D102
        super().check_bound(name, b, is_rate)
        if b == 0:
            raise ValueError(
                f"bound for {name!r} is an upper bound on a loss and must be > 0."
            )

    def rows(self, vecs, stat, bound, pairing, names=None):  # noqa: D102
        return [
            (v, bound, f"{stat}[{_label(g, names)}] <= {bound}")
            for g, v in vecs.items()
            if g != "pop"
        ]

    def value(self, groups, pop, pairing):  # noqa: D102
        return float(groups.max())

    def allowance(self, bound):  # noqa: D102
        return 0.2 * bound


def _safe_ratio(a: float, b: float) -> float:
    if b == 0:
        return 1.0 if a == 0 else 0.0
    return float(a / b)


#: The kinds by name.
KINDS: dict[str, Kind] = {k.name: k for k in (Difference(), Ratio(), Upper())}
