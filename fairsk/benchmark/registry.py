"""What a benchmark can run: algorithms by short name, and constraints' metadata.

Ours are found in :mod:`fairsk`'s public names: every exported subclass of
:class:`~fairsk.estimators.BaseFairClassifier`, the paper's methods under the
names of :data:`KNOWN_NAMES`, a new one as its class name in lower case without
"Classifier". fairlearn's mitigations are in :mod:`fairsk.benchmark.baselines`.
:data:`CONSTRAINT_CATALOG` is the benchmark's one table of what each constraint is
measured by, per group and overall, and what fairlearn runs instead.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

__all__ = [
    "CONSTRAINT_CATALOG",
    "algorithm_names",
    "default_algorithms",
    "family",
    "our_estimators",
]

#: Short names of the paper's methods (class names in ``fairsk``).
KNOWN_NAMES = {
    "SSLALMClassifier": "sslalm",
    "ALMClassifier": "alm",
    "SwitchingSubgradientClassifier": "ssg",
    "StochasticGhostClassifier": "ghost",
    "PenaltyClassifier": "penalty",
    "UnconstrainedClassifier": "sgd",
}

#: fairlearn baselines run by default (the unmitigated bases are opt-in).
DEFAULT_FAIRLEARN = ("eg-logreg", "eg-hgb", "gs-logreg", "gs-hgb", "threshold-hgb")


class ConstraintInfo(NamedTuple):
    """How the benchmark reports a constraint (one row of the catalog)."""

    metric: str  # key of fairsk.metrics.paper_metrics measuring it on a split
    group_stat: str  # per-group statistic of the groups figure
    moment: str | None  # fairlearn.reductions moment (None: no counterpart)
    threshold: str | None  # ThresholdOptimizer's constraints (None: none)
    relaxable: bool = True  # ThresholdOptimizer takes tol=bound


#: One entry per fairsk constraint (issue 14 moves this to fairsk.constraints).
# fmt: off
CONSTRAINT_CATALOG: dict[str, ConstraintInfo] = {
    "loss_gap": ConstraintInfo("loss_gap", "loss", None, None),
    "demographic_parity": ConstraintInfo(
        "ind", "selection_rate", "DemographicParity", "demographic_parity"),
    "demographic_parity_ratio": ConstraintInfo(
        "ind", "selection_rate", "DemographicParity", None),
    "equalized_odds": ConstraintInfo(
        "equalized_odds_difference", "tpr", "EqualizedOdds", "equalized_odds", False),
    "equalized_odds_ratio": ConstraintInfo(
        "equalized_odds_difference", "tpr", "EqualizedOdds", None),
    "equal_opportunity": ConstraintInfo("equal_opportunity_difference", "tpr",
                                        "TruePositiveRateParity",
                                        "true_positive_rate_parity"),
    "equal_opportunity_ratio": ConstraintInfo(
        "equal_opportunity_difference", "tpr", "TruePositiveRateParity", None),
    "error_rate_parity": ConstraintInfo(
        "error_rate_difference", "error_rate", "ErrorRateParity", None),
    "error_rate_ratio": ConstraintInfo(
        "error_rate_difference", "error_rate", "ErrorRateParity", None),
    "bounded_group_loss": ConstraintInfo(
        "max_group_loss", "loss", "BoundedGroupLoss", None),
}
# fmt: on


def our_estimators() -> dict[str, type]:
    """Short name -> class of every fairsk classifier exported by ``fairsk``.

    Examples
    --------
    >>> names = our_estimators()
    >>> names["sslalm"].__name__, names["sgd"].__name__
    ('SSLALMClassifier', 'UnconstrainedClassifier')
    """
    import fairsk
    from fairsk.estimators import BaseFairClassifier

    found = {}
    for public in getattr(fairsk, "__all__", []):
        obj = getattr(fairsk, public, None)
        if (
            inspect.isclass(obj)
            and issubclass(obj, BaseFairClassifier)
            and obj is not BaseFairClassifier
        ):
            name = KNOWN_NAMES.get(obj.__name__)
            found[name or obj.__name__.removesuffix("Classifier").lower()] = obj
    order = list(KNOWN_NAMES.values())
    rank = {name: i for i, name in enumerate(order)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], 99), kv[0])))


def family(name: str) -> str:
    """Return ``"fairlearn"`` for fairlearn's baselines, ``"fairsk"`` otherwise.

    Examples
    --------
    >>> family("eg-hgb"), family("sslalm")
    ('fairlearn', 'fairsk')
    """
    from .baselines import FAIRLEARN_BASELINES

    return "fairlearn" if name in FAIRLEARN_BASELINES else "fairsk"


def algorithm_names() -> list[str]:
    """Every name a benchmark accepts: ours, then fairlearn's.

    Examples
    --------
    >>> names = algorithm_names()
    >>> names[0], "eg-logreg" in names, "logreg" in names
    ('sslalm', True, True)
    """
    from .baselines import FAIRLEARN_BASELINES

    return [*our_estimators(), *FAIRLEARN_BASELINES]


def default_algorithms() -> list[str]:
    """Return the default selection: all of ours, and fairlearn's mitigations.

    Examples
    --------
    >>> chosen = default_algorithms()
    >>> [name for name in chosen if family(name) == "fairlearn"]
    ['eg-logreg', 'eg-hgb', 'gs-logreg', 'gs-hgb', 'threshold-hgb']
    """
    return [*our_estimators(), *DEFAULT_FAIRLEARN]
