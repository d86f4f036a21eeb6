"""Fairness scorers for ``GridSearchCV`` / ``cross_validate``, built on fairlearn.

Each scorer requests ``sensitive_features`` (so it needs
``sklearn.set_config(enable_metadata_routing=True)``, the only way scikit-learn can
hand a scorer anything beyond ``X`` and ``y``) and follows the scikit-learn sign
convention: larger is better, so a disparity ``d`` is reported as ``-d``.

Called without ``sensitive_features`` (routing off, or no groups passed to
``fit``), a scorer raises :class:`~fairsk.exceptions.MissingSensitiveFeaturesError`.
It is not an ``Exception``: ``GridSearchCV`` and ``cross_validate`` turn any
``Exception`` from a scorer into a NaN score and would then pick the first of
all-NaN candidates; this error stops them instead.

>>> from fairsk.scorers import SCORERS
>>> sorted(SCORERS)
['demographic_parity_difference', 'equalized_odds_difference', 'loss_gap']
"""

from __future__ import annotations

import numpy as np
import sklearn
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn import config_context
from sklearn.metrics import make_scorer

from .exceptions import MissingSensitiveFeaturesError
from .metrics import loss_gap

__all__ = [
    "SCORERS",
    "demographic_parity_difference_scorer",
    "equalized_odds_difference_scorer",
    "loss_gap_scorer",
    "make_fairness_scorer",
]


def _loss_gap(y_true, y_prob, *, sensitive_features, sample_weight=None) -> float:
    """:func:`fairsk.metrics.loss_gap` on ``predict_proba``'s output."""
    y_prob = np.asarray(y_prob)
    if y_prob.ndim == 2:
        y_prob = y_prob[:, -1]
    return loss_gap(
        y_true,
        y_prob,
        sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )


#: Disparity functions by name: ``(function, response_method)``.
_METRICS = {
    "demographic_parity_difference": (demographic_parity_difference, "predict"),
    "equalized_odds_difference": (equalized_odds_difference, "predict"),
    "loss_gap": (_loss_gap, "predict_proba"),
}


def _missing_groups(name: str):
    """Stop: a disparity without groups is no score (see the module docstring)."""
    if not sklearn.get_config()["enable_metadata_routing"]:
        how = (
            "scikit-learn hands sensitive_features to a scorer only with metadata "
            "routing on: call sklearn.set_config(enable_metadata_routing=True) "
            "(or use sklearn.config_context) and pass sensitive_features=A to fit"
        )
    else:
        how = "pass sensitive_features=A to the search's (or cross_validate's) fit"
    raise MissingSensitiveFeaturesError(
        f"fairsk's {name} scorer was called without sensitive_features; {how}. "
        "Without the groups every candidate would score NaN and a search would "
        "pick the first."
    )


def _positive_labels(metric, response: str, name: str):
    """Adapt a metric to estimators whose labels are not 0/1.

    fairlearn's parity metrics count ``y_pred == 1`` as a positive decision and
    ``loss_gap`` needs 0/1 targets, so labels are binarised against the positive
    class, the largest label (as scikit-learn orders ``classes_``).
    """

    def scored(y_true, y_pred, **kwargs):
        if kwargs.get("sensitive_features") is None:
            _missing_groups(name)
        y_true = np.asarray(y_true)
        positive = np.unique(y_true)[-1] if len(y_true) else 1
        if response == "predict":
            y_pred = (np.asarray(y_pred) == positive).astype(int)
        return metric((y_true == positive).astype(int), y_pred, **kwargs)

    scored.__name__ = getattr(metric, "__name__", "metric")
    return scored


def make_fairness_scorer(metric: str, **kwargs):
    """Return a scorer of ``-metric`` that requests ``sensitive_features``.

    Parameters
    ----------
    metric : {"demographic_parity_difference", "equalized_odds_difference", \
"loss_gap"}
        The disparity (fairlearn's metric, or :func:`fairsk.metrics.loss_gap`).
    **kwargs
        Passed to the metric (e.g. ``method="to_overall"``).

    Returns
    -------
    scorer : callable
        For ``scoring=`` of GridSearchCV; its value is the negated disparity.

    Examples
    --------
    >>> scorer = make_fairness_scorer("demographic_parity_difference",
    ...                               method="to_overall")
    >>> scorer._response_method
    'predict'
    """
    if metric not in _METRICS:
        raise ValueError(
            f"Unknown metric {metric!r}; expected one of {sorted(_METRICS)}."
        )
    func, response = _METRICS[metric]
    scorer = make_scorer(
        _positive_labels(func, response, metric),
        greater_is_better=False,
        response_method=response,
        **kwargs,
    )
    # Requests can only be set while routing is on; the request is stored on the
    # scorer and used whenever routing is enabled later.
    with config_context(enable_metadata_routing=True):
        scorer.set_score_request(sensitive_features=True)
    return scorer


#: The ready scorers, by metric name.
SCORERS = {name: make_fairness_scorer(name) for name in _METRICS}
#: Scorer of minus fairlearn's ``demographic_parity_difference`` of ``predict``'s
#: labels (the largest gap in positive rate between groups); requests
#: ``sensitive_features``.
demographic_parity_difference_scorer = SCORERS["demographic_parity_difference"]
#: Scorer of minus fairlearn's ``equalized_odds_difference`` of ``predict``'s labels
#: (the larger of the largest TPR and FPR gaps between groups); requests
#: ``sensitive_features``.
equalized_odds_difference_scorer = SCORERS["equalized_odds_difference"]
#: Scorer of minus :func:`fairsk.metrics.loss_gap` of ``predict_proba``'s positive
#: column (the largest gap in mean log-loss between groups); requests
#: ``sensitive_features``.
loss_gap_scorer = SCORERS["loss_gap"]
