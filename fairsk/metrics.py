r"""The fairness metrics of the paper's benchmark, on fairlearn's MetricFrame.

Kliachkin et al. (2025) report, at threshold 0.5, for groups :math:`a, b`:

=========  ======================================================  ================
name       definition                                              computed with
=========  ======================================================  ================
AUC_M      mean over groups of the per-group ROC AUC               MetricFrame,
                                                                   ``roc_auc_score``
Ind        :math:`|PR_a - PR_b|` (demographic parity)              MetricFrame,
                                                                   ``selection_rate``
Sp         :math:`|TPR_a - TPR_b| + |FPR_a - FPR_b|` (separation)  MetricFrame,
                                                                   fairlearn rates
Ina        error rate                                              ``zero_one_loss``
Sf         :math:`|PPV_a-PPV_b| + |NPV_a-NPV_b|` (sufficiency)     MetricFrame,
                                                                   ``precision_score``
Wd         Wasserstein-2 distance between the groups' scores       quantile functions
                                                                   (see below)
``|ΔL|``   :math:`|L_a - L_b|`, :math:`L_g` the group's mean BCE   MetricFrame,
                                                                   ``log_loss``
=========  ======================================================  ================

**More than two groups.** Every difference is fairlearn's ``between_groups``
difference, the largest group value minus the smallest (so Sp and Sf add the spread
of each rate); AUC_M averages every group's AUC; Wd is the largest distance over all
pairs of groups. With two groups these are exactly the paper's definitions.

**Undefined rates.** A rate a group cannot define (PPV of a group with no predicted
positive, the AUC of a group with one class) is NaN, and so is any metric that
needs it: a silent 0 would look perfectly fair.

**Wd.** The paper calls it the Wasserstein-2 distance between the groups' score
histograms. :func:`scipy.stats.wasserstein_distance` is the Wasserstein-1 distance
only, so :func:`wasserstein` computes

.. math::

    W_p(u, v) = \Bigl(\int_0^1 |F_u^{-1}(q) - F_v^{-1}(q)|^p\,dq\Bigr)^{1/p},

with :math:`F^{-1}` the empirical quantile function (the generalised inverse of the
empirical CDF, numpy's ``inverted_cdf``), *exactly*: both quantile functions are
constant between consecutive levels of :math:`\{i/n\} \cup \{j/m\}`, so the
integral is a finite sum. That is the distance between the two empirical score
distributions, i.e. between histograms with one bin per distinct score (no binning
error). ``p=1`` calls scipy, which computes the same quantity.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np
import scipy.stats
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import log_loss, precision_score, roc_auc_score, zero_one_loss

__all__ = [
    "PAPER_METRICS",
    "auc_m",
    "inaccuracy",
    "independence",
    "loss_gap",
    "paper_metrics",
    "separation",
    "sufficiency",
    "t_half_width",
    "wasserstein",
]

#: Keys of :func:`paper_metrics`, with their names in the paper.
PAPER_METRICS: dict[str, str] = {
    "auc_m": "AUC_M",
    "ind": "Ind",
    "sp": "Sp",
    "ina": "Ina",
    "sf": "Sf",
    "wd": "Wd",
    "loss_gap": "|ΔL|",
}

# Per-group rates on hard predictions. PPV is the precision of the positive class,
# NPV the precision of the negative class; zero_division=nan keeps undefined rates
# visible instead of sklearn's default 0.
_RATES = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "ppv": partial(precision_score, zero_division=np.nan),
    "npv": partial(precision_score, pos_label=0, zero_division=np.nan),
    "error": zero_one_loss,
}


def _group_auc(y_true, y_score, sample_weight=None) -> float:
    # roc_auc_score raises on a group holding one class; the AUC is undefined there.
    if np.unique(y_true).size < 2:
        return np.nan
    return roc_auc_score(y_true, y_score, sample_weight=sample_weight)


_SCORES = {
    "auc": _group_auc,
    # labels=[0, 1]: a group holding one class still has a defined log loss.
    "log_loss": partial(log_loss, labels=[0, 1]),
}
_GROUP_METRICS = {**_RATES, **_SCORES}


def _check(y_true, y, sensitive_features=None):
    y_true = np.asarray(y_true)
    y = np.asarray(y, dtype=np.float64)
    if y_true.ndim != 1 or y.ndim != 1 or y_true.shape != y.shape:
        raise ValueError(
            f"y_true and predictions must be 1-D of the same length, got shapes "
            f"{y_true.shape} and {y.shape}."
        )
    labels = np.unique(y_true)
    if not np.isin(labels, [0, 1]).all():
        raise ValueError(
            f"y_true must hold 0/1 (or boolean) labels, got {labels.tolist()[:5]}."
        )
    if sensitive_features is not None:
        sf = np.asarray(sensitive_features)
        if sf.shape[0] != y.shape[0]:
            raise ValueError(
                f"sensitive_features has {sf.shape[0]} rows for {y.shape[0]} samples."
            )
    return y_true.astype(np.int64), y


def _frame(metrics, y_true, y, sensitive_features, sample_weight) -> MetricFrame:
    params = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        params = {name: {"sample_weight": w} for name in metrics}
    return MetricFrame(
        metrics=metrics,
        y_true=y_true,
        y_pred=y,
        sensitive_features=sensitive_features,
        sample_params=params,
    )


def _spread(frame: MetricFrame, *names: str) -> float:
    """Return the sum of the between-groups differences of ``names``.

    A difference is NaN when some group's value is undefined.
    """
    total = 0.0
    for name in names:
        if frame.by_group[name].isna().any():
            total += float("nan")
        else:
            total += float(frame.difference(method="between_groups")[name])
    return total


def _group_frame(metrics, y_true, y, sensitive_features, sample_weight):
    """Check the inputs; return the MetricFrame of the named group metrics."""
    y_true, y = _check(y_true, y, sensitive_features)
    table = {name: _GROUP_METRICS[name] for name in metrics}
    return _frame(table, y_true, y, sensitive_features, sample_weight)


def _disparity(metrics, y_true, y, sensitive_features, sample_weight) -> float:
    """Return the sum of the between-groups differences of ``metrics``."""
    frame = _group_frame(metrics, y_true, y, sensitive_features, sample_weight)
    return _spread(frame, *metrics)


def independence(y_true, y_pred, *, sensitive_features, sample_weight=None) -> float:
    r"""Ind: the spread of positive-prediction rates, :math:`|PR_a - PR_b|`.

    Equal to fairlearn's ``demographic_parity_difference``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels (unused by the rate, kept for a uniform signature).
    y_pred : array-like of shape (n_samples,)
        0/1 predictions.
    sensitive_features : array-like of shape (n_samples,)
        Group of each sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    float
        Largest minus smallest group selection rate.

    Examples
    --------
    >>> independence([0, 1, 0, 1], [1, 1, 0, 1], sensitive_features=list("aabb"))
    0.5
    """
    metrics = ["selection_rate"]
    return _disparity(metrics, y_true, y_pred, sensitive_features, sample_weight)


def separation(y_true, y_pred, *, sensitive_features, sample_weight=None) -> float:
    r"""Sp: :math:`|TPR_a - TPR_b| + |FPR_a - FPR_b|`.

    The sum, where fairlearn's ``equalized_odds_difference`` takes the larger of
    the two terms.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels.
    y_pred : array-like of shape (n_samples,)
        0/1 predictions.
    sensitive_features : array-like of shape (n_samples,)
        Group of each sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    float
        Spread of the true-positive rates plus spread of the false-positive rates.

    Examples
    --------
    >>> y = [1, 1, 0, 0, 1, 1, 0, 0]
    >>> p = [1, 1, 1, 0, 1, 0, 0, 0]
    >>> separation(y, p, sensitive_features=list("aaaabbbb"))
    1.0
    """
    metrics = ["tpr", "fpr"]
    return _disparity(metrics, y_true, y_pred, sensitive_features, sample_weight)


def sufficiency(y_true, y_pred, *, sensitive_features, sample_weight=None) -> float:
    r"""Sf: :math:`|PPV_a - PPV_b| + |NPV_a - NPV_b|`.

    PPV is the precision of positive predictions, NPV that of negative ones; a group
    without positive (negative) predictions has no PPV (NPV) and the result is NaN.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels.
    y_pred : array-like of shape (n_samples,)
        0/1 predictions.
    sensitive_features : array-like of shape (n_samples,)
        Group of each sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    float
        Spread of the PPVs plus spread of the NPVs.

    Examples
    --------
    >>> y = [1, 0, 0, 0, 1, 1, 0, 1]
    >>> p = [1, 1, 0, 0, 1, 0, 0, 1]
    >>> sufficiency(y, p, sensitive_features=list("aaaabbbb"))
    1.0
    """
    metrics = ["ppv", "npv"]
    return _disparity(metrics, y_true, y_pred, sensitive_features, sample_weight)


def inaccuracy(y_true, y_pred, *, sample_weight=None) -> float:
    """Ina: the error rate, ``1 - accuracy`` (sklearn's ``zero_one_loss``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels.
    y_pred : array-like of shape (n_samples,)
        0/1 predictions.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    float
        Fraction of wrong predictions.

    Examples
    --------
    >>> inaccuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.25
    """
    y_true, y_pred = _check(y_true, y_pred)
    return float(zero_one_loss(y_true, y_pred, sample_weight=sample_weight))


def auc_m(y_true, y_score, *, sensitive_features, sample_weight=None) -> float:
    """AUC_M: the mean of the per-group ROC AUCs.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels.
    y_score : array-like of shape (n_samples,)
        Score of the positive class (probability or logit).
    sensitive_features : array-like of shape (n_samples,)
        Group of each sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    float
        Mean AUC over groups; NaN when some group holds a single class.

    Examples
    --------
    >>> y = [0, 1, 0, 1, 0, 1, 0, 1]
    >>> s = [0.1, 0.9, 0.2, 0.8, 0.7, 0.6, 0.3, 0.4]
    >>> auc_m(y, s, sensitive_features=list("aaaabbbb"))
    0.75
    """
    frame = _group_frame(["auc"], y_true, y_score, sensitive_features, sample_weight)
    return float(frame.by_group["auc"].mean(skipna=False))


def loss_gap(y_true, y_score, *, sensitive_features, sample_weight=None) -> float:
    r"""``|ΔL|``: the spread of the groups' mean binary cross-entropy.

    :math:`L_g` is sklearn's ``log_loss`` of the probabilities on group :math:`g`
    (probabilities are clipped to the float epsilon, as sklearn does).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels.
    y_score : array-like of shape (n_samples,)
        Probability of the positive class.
    sensitive_features : array-like of shape (n_samples,)
        Group of each sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    float
        Largest minus smallest group loss.

    Examples
    --------
    >>> import numpy as np
    >>> y = [1, 0, 1, 0]
    >>> p = [0.5, 0.5, np.exp(-1), 1 - np.exp(-1)]
    >>> gap = loss_gap(y, p, sensitive_features=list("aabb"))
    >>> bool(np.isclose(gap, 1 - np.log(2)))
    True
    """
    metrics = ["log_loss"]
    return _disparity(metrics, y_true, y_score, sensitive_features, sample_weight)


def _quantile_distance(u, v, p: float, u_weights=None, v_weights=None) -> float:
    """Exact W_p between two weighted empirical distributions on the real line."""
    u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if u.size == 0 or v.size == 0:
        return np.nan
    levels, values = [], []
    for x, w in ((u, u_weights), (v, v_weights)):
        order = np.argsort(x, kind="stable")
        w = np.ones_like(x) if w is None else np.asarray(w, dtype=np.float64)
        cum = np.cumsum(w[order])
        cum = cum / cum[-1]
        cum[-1] = 1.0  # exactly: the last level of both must coincide
        levels.append(cum)
        values.append(x[order])
    grid = np.union1d(levels[0], levels[1])
    width = np.diff(grid, prepend=0.0)
    mid = grid - width / 2
    # Both quantile functions are constant on each (grid[k-1], grid[k]]: evaluate
    # them at the midpoint. searchsorted(..., "left") on the cumulative levels is
    # the generalised inverse inf{x: F(x) >= q} (numpy's "inverted_cdf"), written
    # out because np.quantile takes weights only from numpy 2.0 on.
    qu = values[0][np.searchsorted(levels[0], mid, side="left")]
    qv = values[1][np.searchsorted(levels[1], mid, side="left")]
    return float(np.sum(width * np.abs(qu - qv) ** p) ** (1.0 / p))


def wasserstein(
    y_true, y_score, *, sensitive_features, p: float = 2, sample_weight=None
) -> float:
    r"""Wd: the Wasserstein-:math:`p` distance between the groups' score distributions.

    With two groups, :math:`W_p` between the empirical distributions of their
    scores; with more, the largest distance over pairs of groups. ``p=2`` (the
    default, the paper's Wd) integrates the squared gap between the groups'
    quantile functions exactly (see the module notes); ``p=1`` is
    :func:`scipy.stats.wasserstein_distance`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Unused, present for the signature fairlearn's metrics share.
    y_score : array-like of shape (n_samples,)
        Scores (e.g. probabilities of the positive class).
    sensitive_features : array-like of shape (n_samples,)
        Group of each sample.
    p : float, default=2
        Order of the distance, at least 1.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (each group's distribution is weighted by them).

    Returns
    -------
    float
        The distance, in the units of the scores.

    Examples
    --------
    Equal group sizes: the root mean squared gap between sorted scores.

    >>> s = [0.1, 0.4, 0.6, 0.9, 0.2, 0.3, 0.5, 0.8]
    >>> round(wasserstein(None, s, sensitive_features=list("aaaabbbb")), 12)
    0.1
    """
    if p < 1:
        raise ValueError(f"p must be at least 1, got {p}.")
    score = np.asarray(y_score, dtype=np.float64)
    groups = np.asarray(sensitive_features)
    if groups.shape[0] != score.shape[0]:
        raise ValueError(
            f"sensitive_features has {groups.shape[0]} rows for {score.shape[0]} "
            "scores."
        )
    w = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    labels = list(dict.fromkeys(groups.tolist()))
    worst = 0.0 if len(labels) > 1 else np.nan
    for a, b in itertools.combinations(labels, 2):
        ia, ib = groups == a, groups == b
        wa = None if w is None else w[ia]
        wb = None if w is None else w[ib]
        if p == 1:
            d = scipy.stats.wasserstein_distance(score[ia], score[ib], wa, wb)
        else:
            d = _quantile_distance(score[ia], score[ib], p, wa, wb)
        worst = max(worst, float(d))
    return worst


def paper_metrics(
    y_true,
    y_score,
    sensitive_features,
    threshold: float = 0.5,
    *,
    y_pred=None,
    sample_weight=None,
) -> dict[str, float]:
    """Every metric of the paper's benchmark, plus fairlearn's usual ones.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 labels.
    y_score : array-like of shape (n_samples,)
        Probability of the positive class.
    sensitive_features : array-like of shape (n_samples,)
        Group of each sample.
    threshold : float, default=0.5
        Hard predictions are ``y_score > threshold`` (a logit above 0, as the
        classifiers' ``predict``).
    y_pred : array-like of shape (n_samples,), default=None
        Hard 0/1 predictions to use instead of thresholding ``y_score`` (e.g. a
        randomised classifier's own predictions).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    dict
        ``auc_m``, ``ind``, ``sp``, ``ina``, ``sf``, ``wd`` (W2), ``loss_gap``
        (the paper's metrics, see :data:`PAPER_METRICS`), ``accuracy``,
        ``demographic_parity_difference``, ``equalized_odds_difference``
        (fairlearn's functions), ``equal_opportunity_difference`` (spread of the
        TPRs), ``error_rate_difference`` and ``false_positive_rate_difference``
        (spreads of the error and false-positive rates), ``max_group_loss`` and
        ``max_group_error`` (the largest group BCE and error rate).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> s = np.clip(0.3 * y + 0.7 * rng.random(200), 0, 1)
    >>> A = rng.choice(["a", "b"], 200)
    >>> m = paper_metrics(y, s, A)
    >>> m["ind"] == m["demographic_parity_difference"], round(m["accuracy"], 3)
    (True, 0.725)
    """
    y_true, score = _check(y_true, y_score, sensitive_features)
    if y_pred is None:
        y_pred = (score > threshold).astype(np.int64)
    else:
        _, y_pred = _check(y_true, y_pred)
        y_pred = y_pred.astype(np.int64)
    sf = np.asarray(sensitive_features)
    rates = _frame(_RATES, y_true, y_pred, sf, sample_weight)
    scores = _frame(_SCORES, y_true, score, sf, sample_weight)
    ina = float(rates.overall["error"])
    kw = {"sensitive_features": sf, "sample_weight": sample_weight}
    max_loss = scores.by_group["log_loss"].max(skipna=False)
    return {
        "auc_m": float(scores.by_group["auc"].mean(skipna=False)),
        "ind": _spread(rates, "selection_rate"),
        "sp": _spread(rates, "tpr", "fpr"),
        "ina": ina,
        "sf": _spread(rates, "ppv", "npv"),
        "wd": wasserstein(y_true, score, p=2, **kw),
        "loss_gap": _spread(scores, "log_loss"),
        "accuracy": 1.0 - ina,
        "demographic_parity_difference": float(
            demographic_parity_difference(y_true, y_pred, **kw)
        ),
        "equalized_odds_difference": float(
            equalized_odds_difference(y_true, y_pred, **kw)
        ),
        # fairlearn's equal_opportunity_difference, from the frame at hand.
        "equal_opportunity_difference": _spread(rates, "tpr"),
        "error_rate_difference": _spread(rates, "error"),
        "false_positive_rate_difference": _spread(rates, "fpr"),
        "max_group_loss": float(max_loss),
        "max_group_error": float(rates.by_group["error"].max(skipna=False)),
    }


def t_half_width(std, n, confidence: float = 0.95) -> np.ndarray:
    r"""Half-width of the Student-t interval of a mean of ``n`` values.

    :math:`t_{(1+c)/2,\,n-1}\; s / \sqrt{n}` with ``s`` the values' sample standard
    deviation (``ddof=1``) and ``c`` the confidence; NaN where ``n < 2``.
    Element-wise over arrays of ``std`` and ``n``.

    Examples
    --------
    >>> round(float(t_half_width(1.0, 3)), 4)  # t(0.975, 2) = 4.303
    2.4841
    >>> t_half_width([1.0, 1.0], [1, 4]).round(4).tolist()
    [nan, 1.5912]
    """
    std, n = np.asarray(std, float), np.asarray(n, float)
    t = scipy.stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
    return np.where(n >= 2, t * std / np.sqrt(np.maximum(n, 1)), np.nan)
