"""Which algorithms a benchmark can run, by short name.

Ours are found in :mod:`fairsk`'s public names: every exported subclass of
:class:`~fairsk.estimators.BaseFairClassifier`. The paper's methods get the names
below; a classifier added to ``fairsk.__all__`` later joins under its class name,
lower case, without "Classifier" (``FooBarClassifier`` -> ``foobar``), with no edit
here. fairlearn's mitigations are listed in :mod:`fairsk.benchmark.baselines`.
"""

from __future__ import annotations

import inspect

from .baselines import FAIRLEARN_BASELINES

__all__ = [
    "DEFAULT_FAIRLEARN",
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
            if name is None:
                name = obj.__name__.removesuffix("Classifier").lower()
            found[name] = obj
    order = list(KNOWN_NAMES.values())
    return dict(
        sorted(
            found.items(),
            key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0]),
        )
    )


def family(name: str) -> str:
    """Return ``"fairlearn"`` for fairlearn's baselines, ``"fairsk"`` otherwise.

    Examples
    --------
    >>> family("eg-hgb"), family("sslalm")
    ('fairlearn', 'fairsk')
    """
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

    fairlearn's: ExponentiatedGradient and GridSearch on LogisticRegression and
    HistGradientBoosting, and ThresholdOptimizer on HistGradientBoosting.

    Examples
    --------
    >>> chosen = default_algorithms()
    >>> [name for name in chosen if family(name) == "fairlearn"]
    ['eg-logreg', 'eg-hgb', 'gs-logreg', 'gs-hgb', 'threshold-hgb']
    >>> "sslalm" in chosen, "logreg" in chosen
    (True, False)
    """
    return [*our_estimators(), *DEFAULT_FAIRLEARN]
