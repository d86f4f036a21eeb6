"""What a benchmark can run: algorithms by short name.

Ours are found in :mod:`fairsk`'s public names: every exported subclass of
:class:`~fairsk.estimators.BaseFairClassifier`, the paper's methods under the
names of :data:`KNOWN_NAMES`, a new one as its class name in lower case without
"Classifier". fairlearn's mitigations are in :mod:`fairsk.benchmark.baselines`.
"""

from __future__ import annotations

import inspect

from .baselines import FAIRLEARN_BASELINES

__all__ = ["algorithm_names", "default_algorithms", "our_estimators"]

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
        if inspect.isclass(obj) and issubclass(obj, BaseFairClassifier):
            if obj is not BaseFairClassifier:
                name = obj.__name__.removesuffix("Classifier").lower()
                found[KNOWN_NAMES.get(obj.__name__, name)] = obj
    rank = {name: i for i, name in enumerate(KNOWN_NAMES.values())}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], 99), kv[0])))


def family(name: str) -> str:
    """Return ``"fairlearn"`` for fairlearn's baselines, ``"fairsk"`` otherwise."""
    return "fairlearn" if name in FAIRLEARN_BASELINES else "fairsk"


def algorithm_names() -> list[str]:
    """Every name a benchmark accepts: ours, then fairlearn's.

    Examples
    --------
    >>> names = algorithm_names()
    >>> names[0], "eg-logreg" in names, "logreg" in names
    ('sslalm', True, True)
    """
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
