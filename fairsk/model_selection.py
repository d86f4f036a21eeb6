"""Choosing a bound: cross-validation over bounds, and picking the model.

:class:`BoundSearchCV` cross-validates a classifier over a list of bounds with
scikit-learn's search conventions, training every bound and fold as one batched
network (:func:`fairsk.batched.fit_together`), and reports the held-out
accuracy--fairness frontier. ``GridSearchCV(refit=callable)`` calls the callable
with ``cv_results_`` and refits the candidate whose index it returns:
:func:`feasible_refit` builds that callable: among candidates whose held-out
disparity is within their bound, the best score; if none is, the least unfair
one, with a warning.
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.validation import _check_method_params

from .batched import fit_together
from .metrics import t_half_width

__all__ = ["BoundSearchCV", "feasible_refit"]


def feasible_refit(
    fairness: str = "fairness",
    score: str = "accuracy",
    bound: float | None = None,
    bound_param: str | None = None,
) -> Callable[[dict], int]:
    """Return a ``refit`` callable for GridSearchCV that respects fairness bounds.

    Parameters
    ----------
    fairness : str, default="fairness"
        Key in ``scoring`` of a fairsk fairness scorer (its mean test value is the
        negated held-out disparity, e.g. ``loss_gap_scorer``).
    score : str, default="accuracy"
        Key in ``scoring`` of the quality to maximise.
    bound : float or None, default=None
        Disparity allowed. ``None`` reads each candidate's own bound from its
        parameters (``bound_param``).
    bound_param : str or None, default=None
        Name of the grid parameter holding the bound (e.g. ``"clf__bound"``);
        ``None`` takes the unique parameter whose name ends in ``bound``.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate.

    Warns
    -----
    UserWarning
        When no candidate meets its bound (the least unfair one is chosen).

    Examples
    --------
    >>> cv_results = {
    ...     "mean_test_accuracy": np.array([0.80, 0.78, 0.70]),
    ...     "mean_test_fairness": np.array([-0.09, -0.04, -0.01]),
    ...     "params": [{"clf__bound": b} for b in (0.05, 0.05, 0.05)],
    ... }
    >>> feasible_refit()(cv_results)
    1
    """

    def refit(cv_results: dict) -> int:
        acc = np.asarray(cv_results[f"mean_test_{score}"], dtype=float)
        disparity = -np.asarray(cv_results[f"mean_test_{fairness}"], dtype=float)
        if bound is not None:
            bounds = np.full_like(disparity, float(bound))
        else:
            bounds = np.array(
                [_candidate_bound(p, bound_param) for p in cv_results["params"]]
            )
        ok = np.isfinite(acc) & (disparity <= bounds)
        if ok.any():
            return int(np.flatnonzero(ok)[np.argmax(acc[ok])])
        best = int(np.nanargmin(disparity - bounds))
        warnings.warn(
            "No candidate's held-out disparity is within its bound; refitting the "
            f"least violating one (index {best}: disparity {disparity[best]:.4g}, "
            f"bound {bounds[best]:.4g}).",
            UserWarning,
            stacklevel=2,
        )
        return best

    return refit


def _candidate_bound(params: dict, bound_param: str | None) -> float:
    if bound_param is not None:
        return float(params[bound_param])
    keys = [k for k in params if k == "bound" or k.endswith("__bound")]
    if len(keys) != 1:
        raise ValueError(
            "feasible_refit could not tell which parameter is the bound "
            f"(candidates: {keys or list(params)}); pass bound= or bound_param=."
        )
    return float(params[keys[0]])


class BoundSearchCV(BaseSearchCV):
    """Cross-validate a fairsk classifier over bounds, all fits trained as one.

    ``GridSearchCV(estimator, {"bound": bounds}, cv=cv)``, with the same
    ``cv_results_``, ``best_params_``, ``best_estimator_``, ``refit`` (a metric
    name, a callable such as :func:`feasible_refit`, or ``False``) and metadata
    routing of ``sensitive_features``, but the ``len(bounds) * n_splits`` fits are
    trained together by :func:`fairsk.batched.fit_together` (each as its separate
    fit would be), which on a CPU is several times faster. Also reports the
    held-out frontier: each bound's accuracy and constraint values, with intervals
    over the folds.

    Parameters
    ----------
    estimator : fairsk classifier or Pipeline
        A fairsk classifier, or a Pipeline whose last step is one (its other steps
        are fitted on each training fold; the bounds of a fold train together).
    bounds : array-like of float
        The bounds to cross-validate (the ``bound`` parameter of the classifier).
    scoring : str, callable, list, dict or None, default=None
        As for ``GridSearchCV``; ``None`` is the classifier's accuracy. Fairness
        scorers (:mod:`fairsk.scorers`) need metadata routing.
    refit : bool, str or callable, default=True
        As for ``GridSearchCV``: refit the best candidate on all the data.
    cv : int, cross-validation generator or iterable, default=5
        As for ``GridSearchCV`` (an int is stratified K-fold for classifiers).
    verbose : int, default=0
        Print the number of fits.
    error_score : "raise" or float, default=np.nan
        Score of a candidate whose fit failed (``"raise"`` re-raises).
    return_train_score : bool, default=False
        Also score each fit on its training fold.

    Attributes
    ----------
    cv_results_ : dict of numpy arrays
        As ``GridSearchCV``'s: ``params``, ``param_bound`` (or
        ``param_<step>__bound``), ``split<i>_test_<name>``, ``mean_test_<name>``,
        ``std_test_<name>``, ``rank_test_<name>``, fit and score times (a batched
        fit's time is shared equally by its models).
    best_index_, best_params_, best_score_, best_estimator_, refit_time_
        As ``GridSearchCV``'s.
    frontier_ : pandas.DataFrame
        One row per bound: ``accuracy`` and each constraint's held-out value (on
        hard predictions, as :meth:`feasibility_report` computes it), each the
        mean over the folds with a 95% t-interval (``<name>_ci_low``,
        ``<name>_ci_high``); ``feasible`` when the interval of every constraint
        lies within its bound.
    scorer_, multimetric_, n_splits_
        As ``GridSearchCV``'s.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : The same search, one fit at a time.
    feasible_refit : Refit the most accurate candidate that meets its bound.

    Examples
    --------
    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, _, A = make_fair_classification(400, random_state=0)
    >>> y = (X[:, 0] + 0.8 * (A == "a") > 0.4).astype(int)  # a larger group effect
    >>> search = BoundSearchCV(SSLALMClassifier(hidden_layer_sizes=(8,),
    ...                                         max_epochs=5, random_state=0),
    ...                        bounds=[0.05, 0.2], cv=3)
    >>> search = search.fit(X, y, sensitive_features=A)  # 2 bounds x 3 folds: 1 fit
    >>> sorted(search.best_params_), len(search.cv_results_["split2_test_score"])
    (['bound'], 2)
    >>> list(search.frontier_.columns[:4])
    ['bound', 'accuracy', 'accuracy_ci_low', 'accuracy_ci_high']
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "bounds": ["array-like"],
        "cv": ["cv_object"],
    }

    def __init__(
        self,
        estimator,
        bounds,
        *,
        scoring=None,
        refit=True,
        cv=5,
        verbose=0,
        error_score=np.nan,
        return_train_score=False,
    ):
        # Not BaseSearchCV.__init__: it sets n_jobs and pre_dispatch, which a
        # batched search has no use for (and sklearn's clone would then miss).
        self.estimator = estimator
        self.bounds = bounds
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.error_score = error_score
        self.return_train_score = return_train_score

    def _run_search(self, evaluate_candidates):  # pragma: no cover - fit is own
        raise NotImplementedError("BoundSearchCV.fit trains the candidates itself.")

    @property
    def n_features_in_(self) -> int:
        """Number of features seen in ``fit`` (only with ``refit``)."""
        return BaseSearchCV.n_features_in_.fget(self)

    def fit(self, X, y, **params):
        """Fit every bound on every training fold, score, and refit the best.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target.
        **params
            Fit parameters: ``sensitive_features`` (and ``sample_weight``) are
            split with ``X`` and passed to each fit (with routing on, to whatever
            requests them, scorers and splitters included; ``groups`` goes to the
            splitter).

        Returns
        -------
        self : object
            The fitted search.
        """
        self._validate_params()
        bounds = np.asarray(self.bounds, dtype=float).ravel()
        if not len(bounds):
            raise ValueError("bounds is empty; give at least one bound.")
        clf = (
            self.estimator[-1]
            if isinstance(self.estimator, Pipeline)
            else (self.estimator)
        )
        if "bound" not in clf.get_params(deep=False):
            raise ValueError(
                f"BoundSearchCV needs a classifier with a bound; "
                f"{type(clf).__name__} has none."
            )
        name = (
            f"{self.estimator.steps[-1][0]}__bound"
            if isinstance(self.estimator, Pipeline)
            else "bound"
        )
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        routed = self._get_routed_params_for_fit(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, **routed.splitter.split))
        self.n_splits_ = len(splits)
        candidates = [{name: float(b)} for b in bounds]
        if self.verbose > 0:
            print(
                f"Fitting {len(splits)} folds for each of {len(candidates)} "
                f"candidates, totalling {len(splits) * len(candidates)} fits "
                "(trained together)"
            )
        fit_params = routed.estimator.fit
        fitted, out = self._fit_all(X, y, fit_params, candidates, splits)
        score_params = routed.scorer.score
        for est, res, (train, test) in zip(
            fitted, out, [s for _ in candidates for s in splits], strict=True
        ):
            self._score(est, res, X, y, train, test, scorers, score_params)
        if any(res["fit_error"] for res in out):
            failed = [res["fit_error"] for res in out if res["fit_error"]]
            warnings.warn(
                f"{len(failed)} of the {len(out)} fits failed; their scores are "
                f"error_score={self.error_score!r}. The first failure:\n{failed[0]}",
                FitFailedWarning,
                stacklevel=2,
            )
        self.multimetric_ = isinstance(out[0]["test_scores"], dict)
        results = self._format_results(candidates, len(splits), out)
        self.cv_results_ = results
        self.scorer_ = scorers
        self.frontier_ = self._frontier(fitted, X, y, fit_params, splits, bounds)
        if self.refit or not self.multimetric_:
            self.best_index_ = int(
                self._select_best_index(self.refit, refit_metric, results)
            )
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][
                    self.best_index_
                ]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            start = time.perf_counter()
            self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    # -- the batched fits --------------------------------------------------------
    def _fit_all(self, X, y, fit_params, candidates, splits):
        """Fit every (candidate, split), in that order; return them and results."""
        pairs = [(c, s) for c in candidates for s in splits]
        fitted = [None] * len(pairs)
        out = [{"fit_error": None, "fit_time": 0.0} for _ in pairs]
        pipe = isinstance(self.estimator, Pipeline)
        # One batched fit for all (bare classifier: one X); per fold for a
        # Pipeline, whose other steps transform each fold's X differently.
        jobs = (
            [list(range(len(pairs)))]
            if not pipe
            else [list(range(j, len(pairs), len(splits))) for j in range(len(splits))]
        )
        for members in jobs:
            start = time.perf_counter()
            try:
                models = self._fit_members(X, y, fit_params, pairs, members)
            except Exception:
                if self.error_score == "raise":
                    raise
                models = [
                    self._fit_one(X, y, fit_params, pairs[i], out[i]) for i in members
                ]
            share = (time.perf_counter() - start) / len(members)
            for i, model in zip(members, models, strict=True):
                fitted[i] = model
                out[i]["fit_time"] = out[i]["fit_time"] or share
        return fitted, out

    def _fit_members(self, X, y, fit_params, pairs, members):
        """Fit the candidates ``members`` as one batched network."""
        A, w = _fit_arrays(fit_params)
        clfs, rows = [], []
        steps = None
        for i in members:
            params, (train, _) = pairs[i]
            est = clone(self.estimator).set_params(**params)
            if isinstance(est, Pipeline):
                if steps is None:  # the fold's other steps, fitted once
                    steps = clone(est[:-1]).fit(
                        _safe_indexing(X, train), _safe_indexing(y, train)
                    )
                    Xt = steps.transform(X)
                est = Pipeline([*steps.steps, est.steps[-1]])
                clfs.append(est[-1])
            else:
                clfs.append(est)
            rows.append(train)
        fit_together(
            clfs,
            X if steps is None else Xt,
            y,
            sensitive_features=A,
            rows=rows,
            sample_weight=w,
        )
        if steps is None:
            return clfs
        return [
            Pipeline([*steps.steps, (self.estimator.steps[-1][0], c)]) for c in clfs
        ]

    def _fit_one(self, X, y, fit_params, pair, res):
        """Fit one candidate alone, recording a failure as GridSearchCV does."""
        params, (train, _) = pair
        est = clone(self.estimator).set_params(**params)
        start = time.perf_counter()
        try:
            est.fit(
                _safe_indexing(X, train),
                _safe_indexing(y, train),
                **_check_method_params(X, fit_params, train),
            )
        except Exception:
            res["fit_error"] = traceback.format_exc()
            est = None
        res["fit_time"] = time.perf_counter() - start
        return est

    def _score(self, est, res, X, y, train, test, scorers, score_params):
        """Fill ``res`` with the held-out (and training) scores of ``est``."""
        start = time.perf_counter()
        failed = self.error_score
        if hasattr(scorers, "_scorers"):  # several metrics: one error score each
            failed = dict.fromkeys(scorers._scorers, self.error_score)
        for key, rows in [("test_scores", test)] + (
            [("train_scores", train)] if self.return_train_score else []
        ):
            res[key] = (
                failed
                if est is None
                else scorers(
                    est,
                    _safe_indexing(X, rows),
                    _safe_indexing(y, rows),
                    **_check_method_params(X, score_params, rows),
                )
            )
        res["score_time"] = time.perf_counter() - start
        res["n_test_samples"] = len(test)

    def _frontier(self, fitted, X, y, fit_params, splits, bounds) -> pd.DataFrame:
        """Each bound's held-out accuracy and constraints over the folds."""
        A, w = _fit_arrays(fit_params)
        rows = []
        n = len(splits)
        for b, models in zip(
            bounds,
            [fitted[i * n : (i + 1) * n] for i in range(len(bounds))],
            strict=True,
        ):
            values: dict[str, list] = {"accuracy": []}
            limits: dict[str, float] = {}
            for est, (_, test) in zip(models, splits, strict=True):
                if est is None:
                    continue
                Xt, yt = _safe_indexing(X, test), np.asarray(_safe_indexing(y, test))
                wt = None if w is None else _safe_indexing(w, test)
                values["accuracy"].append(est.score(Xt, yt, sample_weight=wt))
                if A is None:
                    continue
                clf = est[-1] if isinstance(est, Pipeline) else est
                Xc = est[:-1].transform(Xt) if isinstance(est, Pipeline) else Xt
                report = clf.feasibility_report(
                    Xc, yt, _safe_indexing(A, test), wt, n_boot=0
                )
                for _, r in report.iterrows():
                    values.setdefault(r["constraint"], []).append(r["value"])
                    limits[r["constraint"]] = r["bound"]
            row = {"bound": float(b)}
            feasible = True
            for key, vals in values.items():
                mean, low, high = _t_interval(vals)
                row.update({key: mean, f"{key}_ci_low": low, f"{key}_ci_high": high})
                if key in limits:
                    feasible &= bool(high <= limits[key])
            row["feasible"] = feasible if limits else None
            rows.append(row)
        return pd.DataFrame(rows)


def _fit_arrays(fit_params: dict):
    """``sensitive_features`` and ``sample_weight`` among the fit parameters."""

    def find(name):
        keys = [k for k in fit_params if k == name or k.endswith(f"__{name}")]
        return fit_params[keys[0]] if keys else None

    return find("sensitive_features"), find("sample_weight")


def _t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its Student-t interval (NaN with fewer than 2)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    mean = float(v.mean())
    if len(v) < 2:
        return mean, np.nan, np.nan
    half = float(t_half_width(v.std(ddof=1), len(v), confidence))
    return mean, mean - half, mean + half
