r"""fairlearn's mitigations as benchmark baselines, at bounds matching ours.

Names: ``eg-<base>`` (:class:`~fairlearn.reductions.ExponentiatedGradient`),
``gs-<base>`` (:class:`~fairlearn.reductions.GridSearch`),
``threshold-<base>`` (:class:`~fairlearn.postprocessing.ThresholdOptimizer`) and the
unmitigated ``<base>``, where ``<base>`` is ``logreg``
(:class:`~sklearn.linear_model.LogisticRegression`) or ``hgb``
(:class:`~sklearn.ensemble.HistGradientBoostingClassifier`, 50 trees, no early
stopping).

**Matching constraints.** fairsk's ``demographic_parity``, ``equalized_odds``,
``equal_opportunity``, ``error_rate_parity`` and ``bounded_group_loss`` become
fairlearn's ``DemographicParity``, ``EqualizedOdds``, ``TruePositiveRateParity``,
``ErrorRateParity`` (``difference_bound=bound``) and ``BoundedGroupLoss`` (with
``ZeroOneLoss``: fairlearn's reductions have no log-loss moment); the ``_ratio``
variants pass ``ratio_bound=bound``. fairlearn's moments compare each group with
the whole population (fairsk's ``pairing="one_vs_mean"``); with two groups that is
looser than the pairwise bound by the other group's share of the data.
``ThresholdOptimizer`` takes ``tol=bound`` for demographic parity and TPR parity,
enforces equalized odds exactly (fairlearn cannot relax it), and has no equivalent
for the other constraints (those runs are skipped, with the reason recorded).

**loss_gap** (the paper's :math:`|L_a - L_b| \le \delta`) has no fairlearn
equivalent. The mitigations then run under a *proxy*, by default
``DemographicParity(difference_bound=bound)`` (``proxy=None`` skips them); the
constraint each run used is recorded and shown in the report.

**GridSearch** sweeps a grid of Lagrange multipliers and, by its own rule, keeps the
model minimising ``error + 0.5 * max constraint value``, which ignores the bound.
Here the bound is honoured instead: among the grid's models, the one with the lowest
training error whose constraint values on the training data are within the bound;
when none is, the one with the smallest violation. The grid is 21 points over
[-1, 1] (fairlearn's default: 10 over [-2, 2]): the disparity changes steeply for
small multipliers and is at its extremes beyond about 1, so the default grid has no
model near tight bounds. ``--param gs-logreg.grid_size=...`` changes it.

**Predictions.** ExponentiatedGradient and ThresholdOptimizer are randomised
classifiers: their hard predictions are their own ``predict`` with
``random_state=seed``, and their score is the probability with which they predict
the positive class (fairlearn's ``_pmf_predict``, which has no public name).
Inputs are passed as float64 (fairlearn 0.15's ThresholdOptimizer fails on float32
with pandas 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FAIRLEARN_BASELINES",
    "Baseline",
    "FairlearnConstraint",
    "FittedBaseline",
    "build_baseline",
    "fairlearn_constraint",
    "fit_baseline",
]


@dataclass(frozen=True)
class Baseline:
    """A fairlearn baseline: a mitigation around a base learner.

    Parameters
    ----------
    name : str
        Its benchmark name, e.g. ``"eg-hgb"``.
    mitigation : {"eg", "gs", "threshold", "none"}
        ExponentiatedGradient, GridSearch, ThresholdOptimizer, or the base alone.
    base : {"logreg", "hgb"}
        LogisticRegression or HistGradientBoostingClassifier.

    Examples
    --------
    >>> baseline = FAIRLEARN_BASELINES["eg-hgb"]
    >>> baseline.describe(), baseline.constrained
    ('ExponentiatedGradient(HistGradientBoostingClassifier)', True)
    >>> FAIRLEARN_BASELINES["logreg"].constrained
    False
    """

    name: str
    mitigation: str  # "eg", "gs", "threshold" or "none"
    base: str  # "logreg" or "hgb"

    @property
    def constrained(self) -> bool:
        """Whether the bound changes the model."""
        return self.mitigation != "none"

    def describe(self) -> str:
        """Readable name, e.g. ``ExponentiatedGradient(LogisticRegression)``."""
        bases = {
            "logreg": "LogisticRegression",
            "hgb": "HistGradientBoostingClassifier",
        }
        wrap = {
            "eg": "ExponentiatedGradient",
            "gs": "GridSearch",
            "threshold": "ThresholdOptimizer",
        }
        if self.mitigation == "none":
            return bases[self.base]
        return f"{wrap[self.mitigation]}({bases[self.base]})"


#: Every fairlearn baseline by name: ``eg-``, ``gs-`` and ``threshold-`` on
#: ``logreg`` and ``hgb``, and the unmitigated ``logreg`` and ``hgb``.
FAIRLEARN_BASELINES: dict[str, Baseline] = {
    f"{mitigation}-{base}": Baseline(f"{mitigation}-{base}", mitigation, base)
    for mitigation in ("eg", "gs", "threshold")
    for base in ("logreg", "hgb")
}
FAIRLEARN_BASELINES |= {
    base: Baseline(base, "none", base) for base in ("logreg", "hgb")
}


@dataclass(frozen=True)
class FairlearnConstraint:
    """fairlearn's counterpart of a fairsk constraint at a bound.

    Made by :func:`fairlearn_constraint`.

    Parameters
    ----------
    moment : str or None
        Class name in :mod:`fairlearn.reductions`, or None (no reduction).
    kwargs : tuple
        Its keyword arguments, as ``(name, value)`` pairs.
    threshold : str or None
        ThresholdOptimizer's ``constraints``, or None (no counterpart).
    tol : float or None
        ThresholdOptimizer's ``tol`` (None: the constraint is enforced exactly).
    note : str
        How it relates to the fairsk constraint (shown in the report).

    Examples
    --------
    >>> fl = fairlearn_constraint("equal_opportunity", 0.05)
    >>> fl.moment, dict(fl.kwargs), fl.threshold, fl.tol
    ('TruePositiveRateParity', {'difference_bound': 0.05}, \
'true_positive_rate_parity', 0.05)
    >>> type(fl.make_moment()).__name__
    'TruePositiveRateParity'
    """

    moment: str | None  # class in fairlearn.reductions, or None: no reduction
    kwargs: tuple  # its keyword arguments, as (name, value) pairs
    threshold: str | None  # ThresholdOptimizer's constraints, or None
    tol: float | None  # ThresholdOptimizer's tol
    note: str  # how it relates to the fairsk constraint

    def make_moment(self):
        """Build the fairlearn moment."""
        from fairlearn import reductions

        kwargs = dict(self.kwargs)
        if self.moment == "BoundedGroupLoss":
            return reductions.BoundedGroupLoss(reductions.ZeroOneLoss(), **kwargs)
        return getattr(reductions, self.moment)(**kwargs)


_DIFFERENCE = {
    # fairsk name: (fairlearn moment, ThresholdOptimizer constraints, tol allowed)
    "demographic_parity": ("DemographicParity", "demographic_parity", True),
    "equalized_odds": ("EqualizedOdds", "equalized_odds", False),
    "equal_opportunity": (
        "TruePositiveRateParity",
        "true_positive_rate_parity",
        True,
    ),
    "error_rate_parity": ("ErrorRateParity", None, False),
}
_RATIO = {
    "demographic_parity_ratio": "DemographicParity",
    "equalized_odds_ratio": "EqualizedOdds",
    "equal_opportunity_ratio": "TruePositiveRateParity",
    "error_rate_ratio": "ErrorRateParity",
}
#: Constraints fairlearn can stand in for when fairsk's has no equivalent.
PROXIES = tuple(_DIFFERENCE)


def fairlearn_constraint(
    constraint: str, bound: float, proxy: str | None = "demographic_parity"
) -> FairlearnConstraint | None:
    """Return fairlearn's counterpart of ``constraint`` at ``bound``, or None.

    Parameters
    ----------
    constraint : str
        A name from :data:`fairsk.constraints.CONSTRAINTS`.
    bound : float
        Its bound.
    proxy : str or None, default="demographic_parity"
        What fairlearn runs under for ``loss_gap``, which it lacks; None: nothing.

    Returns
    -------
    FairlearnConstraint or None

    Examples
    --------
    >>> type(fairlearn_constraint("equalized_odds", 0.05).make_moment()).__name__
    'EqualizedOdds'
    >>> print(fairlearn_constraint("loss_gap", 0.005).note)
    proxy: DemographicParity(difference_bound=0.005) (fairlearn has no loss-gap ...
    """
    if constraint in _DIFFERENCE:
        moment, threshold, relaxable = _DIFFERENCE[constraint]
        note = f"{moment}(difference_bound={bound:g})"
        if threshold is not None and not relaxable:
            note += "; ThresholdOptimizer exact (no tol)"
        return FairlearnConstraint(
            moment,
            (("difference_bound", bound),),
            threshold,
            bound if relaxable else None,
            note,
        )
    if constraint in _RATIO:
        moment = _RATIO[constraint]
        return FairlearnConstraint(
            moment,
            (("ratio_bound", bound),),
            None,
            None,
            f"{moment}(ratio_bound={bound:g})",
        )
    if constraint == "bounded_group_loss":
        return FairlearnConstraint(
            "BoundedGroupLoss",
            (("upper_bound", bound),),
            None,
            None,
            f"BoundedGroupLoss(ZeroOneLoss(), upper_bound={bound:g}) (0-1 loss, "
            "not BCE)",
        )
    if constraint == "loss_gap" and proxy is not None:
        inner = fairlearn_constraint(proxy, bound, None)
        return FairlearnConstraint(
            inner.moment,
            inner.kwargs,
            inner.threshold,
            inner.tol,
            f"proxy: {inner.note} (fairlearn has no loss-gap constraint)",
        )
    return None


#: GridSearch's grid (see the module notes).
GRID_SIZE = 21
GRID_LIMIT = 1.0


def _base(base: str, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    if base == "logreg":
        return LogisticRegression(max_iter=500)
    # No early stopping: deterministic given the data, and no validation split
    # taken from the training rows the other methods see in full.
    return HistGradientBoostingClassifier(
        max_iter=50, early_stopping=False, random_state=seed
    )


class SkipRun(Exception):
    """The baseline has no counterpart of the constraint; the message says why."""


def build_baseline(
    name: str,
    constraint: str,
    bound: float | None,
    seed: int,
    params: dict | None = None,
    proxy: str | None = "demographic_parity",
):
    """Build the unfitted fairlearn (or sklearn) estimator of baseline ``name``.

    Returns
    -------
    estimator : object
        With ``params`` applied through ``set_params``.
    fl : FairlearnConstraint or None
        The constraint it enforces.

    Raises
    ------
    SkipRun
        When fairlearn has no counterpart of ``constraint`` for this mitigation.

    Examples
    --------
    >>> est, fl = build_baseline("gs-logreg", "demographic_parity", 0.02, seed=0)
    >>> type(est).__name__, fl.moment
    ('GridSearch', 'DemographicParity')
    """
    from fairlearn.postprocessing import ThresholdOptimizer
    from fairlearn.reductions import ExponentiatedGradient, GridSearch

    spec = FAIRLEARN_BASELINES[name]
    base = _base(spec.base, seed)
    fl = None
    if spec.mitigation == "none":
        est = base
    else:
        fl = fairlearn_constraint(constraint, bound, proxy)
        if fl is None:
            raise SkipRun(
                f"fairlearn has no counterpart of {constraint!r} (and no proxy was "
                "chosen)"
            )
        if spec.mitigation == "threshold":
            if fl.threshold is None:
                raise SkipRun(
                    f"ThresholdOptimizer has no counterpart of {constraint!r} "
                    f"({fl.note})"
                )
            est = ThresholdOptimizer(
                estimator=base,
                constraints=fl.threshold,
                tol=fl.tol,
                predict_method="predict_proba",
            )
        elif spec.mitigation == "eg":
            est = ExponentiatedGradient(base, fl.make_moment())
        else:
            est = GridSearch(
                base,
                fl.make_moment(),
                grid_size=GRID_SIZE,
                grid_limit=GRID_LIMIT,
            )
    if params:
        est.set_params(**params)
    return est, fl


def _positive_proba(est, X) -> np.ndarray:
    proba = est.predict_proba(X)
    classes = list(est.classes_)
    # GridSearch fits a constant DummyClassifier when a relabelling has one class.
    if 1 not in classes:
        return np.zeros(X.shape[0])
    return np.asarray(proba[:, classes.index(1)], dtype=np.float64)


def _grid_search_choice(gs) -> tuple[int, bool]:
    """Index of the lowest-error model within the bound on train (see module)."""
    bound = gs.constraints_.bound()
    violation = gs.gammas_.sub(bound, axis=0).max(axis=0).to_numpy()
    error = np.asarray(gs.objectives_, dtype=np.float64)
    feasible = violation <= 0
    if feasible.any():
        return int(np.flatnonzero(feasible)[np.argmin(error[feasible])]), True
    return int(np.argmin(violation)), False


class FittedBaseline:
    """A fitted baseline with one interface: scores and hard predictions.

    Made by :func:`fit_baseline`. For GridSearch it keeps the grid's model chosen
    by the bound (see the module notes) and records the choice in ``info``.

    Parameters
    ----------
    name : str
        A key of :data:`FAIRLEARN_BASELINES`.
    estimator : object
        The fitted estimator.
    seed : int
        Seed of the randomised predictions.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> fitted = FittedBaseline("logreg", LogisticRegression().fit(X, y), seed=0)
    >>> score, pred = fitted.score(X, None), fitted.predict(X, None)
    >>> bool(((score > 0.5) == (pred == 1)).all()), fitted.info
    (True, {})
    """

    def __init__(self, name: str, estimator, seed: int):
        self.name = name
        self.estimator = estimator
        self.seed = seed
        self.mitigation = FAIRLEARN_BASELINES[name].mitigation
        self.info: dict = {}
        self._model = estimator
        if self.mitigation == "gs":
            idx, feasible = _grid_search_choice(estimator)
            self._model = estimator.predictors_[idx]
            self.info = {
                "grid_index": idx,
                "grid_size": len(estimator.predictors_),
                "feasible_on_train": feasible,
                "fairlearn_best_index": int(estimator.best_idx_),
            }
        elif self.mitigation == "eg":
            self.info = {
                "n_predictors": len(estimator.predictors_),
                "n_oracle_calls": int(estimator.n_oracle_calls_),
            }

    def score(self, X, A) -> np.ndarray:
        """Probability of predicting the positive class."""
        if self.mitigation == "eg":
            pmf = self.estimator._pmf_predict(X)
        elif self.mitigation == "threshold":
            pmf = self.estimator._pmf_predict(X, sensitive_features=A)
        else:
            return _positive_proba(self._model, X)
        # Sums of mixture weights can exceed 1 by an ulp, which log_loss rejects.
        return np.clip(np.asarray(pmf, dtype=np.float64)[:, 1], 0.0, 1.0)

    def predict(self, X, A) -> np.ndarray:
        """Hard 0/1 predictions (randomised ones with ``random_state=seed``)."""
        if self.mitigation == "eg":
            out = self.estimator.predict(X, random_state=self.seed)
        elif self.mitigation == "threshold":
            out = self.estimator.predict(
                X, sensitive_features=A, random_state=self.seed
            )
        else:
            out = self._model.predict(X)
        return np.asarray(out).astype(np.int64)


def fit_baseline(name, estimator, X, y, A, seed: int) -> FittedBaseline:
    """Fit ``estimator`` (float64 X) and wrap it in a :class:`FittedBaseline`.

    Parameters
    ----------
    name : str
        A key of :data:`FAIRLEARN_BASELINES`.
    estimator : object
        From :func:`build_baseline`.
    X, y, A : array-like
        Training features, 0/1 labels and groups (the mitigations get ``A`` as
        ``sensitive_features``).
    seed : int
        Seed of the randomised predictions.

    Returns
    -------
    FittedBaseline

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = rng.choice(["a", "b"], 300)
    >>> X = np.column_stack([rng.normal(size=300), A == "a"])
    >>> y = (X[:, 0] + (A == "a") > 0.5).astype(int)
    >>> est, _ = build_baseline("threshold-logreg", "demographic_parity", 0.05, seed=0)
    >>> fitted = fit_baseline("threshold-logreg", est, X, y, A, seed=0)
    >>> rates = [fitted.predict(X, A)[A == g].mean() for g in ("a", "b")]
    >>> bool(abs(rates[0] - rates[1]) < 0.15)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    if FAIRLEARN_BASELINES[name].mitigation == "none":
        estimator.fit(X, y)
    else:
        estimator.fit(X, y, sensitive_features=A)
    return FittedBaseline(name, estimator, seed)
