r"""fairlearn's mitigations as benchmark baselines, at bounds matching ours.

Names: ``eg-<base>`` (ExponentiatedGradient), ``gs-<base>`` (GridSearch),
``threshold-<base>`` (ThresholdOptimizer) and the unmitigated ``<base>``, where
``<base>`` is ``logreg`` (LogisticRegression) or ``hgb``
(HistGradientBoostingClassifier, 50 trees, no early stopping).

**Matching constraints** (:data:`~fairsk.constraints.CONSTRAINTS`):
a difference constraint becomes the fairlearn moment with
``difference_bound=bound``, a ``_ratio`` one ``ratio_bound=bound``,
``bounded_group_loss`` ``BoundedGroupLoss(ZeroOneLoss(), upper_bound=bound)``
(fairlearn has no log-loss moment). fairlearn's moments compare each group with
the whole population (fairsk's ``pairing="one_vs_mean"``). ThresholdOptimizer
takes ``tol=bound`` for demographic parity and TPR parity, enforces equalized
odds exactly, and has no counterpart of the others (those runs are skipped, with
the reason). ``loss_gap`` has no fairlearn counterpart: the mitigations run under
a *proxy* (default demographic parity at the same bound; ``proxy=None`` skips
them), recorded in each run.

**GridSearch** keeps, among its grid's models, the one with the lowest training
error within the bound on the training data (else the least violating one);
fairlearn's own rule (error + 0.5 x violation) ignores the bound. The grid is 21
points over [-1, 1], where the disparity changes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fairsk.constraints import CONSTRAINTS

__all__: list[str] = []


class Baseline(NamedTuple):
    """A mitigation (``eg``, ``gs``, ``threshold`` or ``none``) around a base."""

    mitigation: str
    base: str  # "logreg" or "hgb"

    @property
    def constrained(self) -> bool:
        """Whether the bound changes the model."""
        return self.mitigation != "none"


#: Every fairlearn baseline by name.
FAIRLEARN_BASELINES = {
    f"{m}-{b}" if m != "none" else b: Baseline(m, b)
    for m in ("eg", "gs", "threshold", "none")
    for b in ("logreg", "hgb")
}


class FairlearnConstraint(NamedTuple):
    """fairlearn's counterpart of a fairsk constraint at a bound."""

    moment: str
    kwargs: tuple  # (name, value) pairs
    threshold: str | None  # ThresholdOptimizer's constraints, or None
    tol: float | None  # ThresholdOptimizer's tol (None: exact)
    note: str  # how it relates to the fairsk constraint

    def make_moment(self):
        """Build the fairlearn moment."""
        from fairlearn import reductions

        loss = [reductions.ZeroOneLoss()] if self.moment == "BoundedGroupLoss" else []
        return getattr(reductions, self.moment)(*loss, **dict(self.kwargs))


#: fairlearn bounds a group's 0-1 or square loss, never its BCE: the benchmark
#: compares a bound on the group BCE with the same bound on the group error.
ZERO_ONE_PROXIES = {"bounded_group_loss": "bounded_group_error"}


def fairlearn_constraint(
    constraint: str, bound: float, proxy: str | None = "demographic_parity"
) -> FairlearnConstraint | None:
    """Return fairlearn's counterpart of ``constraint`` at ``bound``, or None."""
    info = CONSTRAINTS[constraint]
    if info.moment is None:
        proxy = ZERO_ONE_PROXIES.get(constraint, proxy)
        if proxy is None:
            return None
        inner = fairlearn_constraint(proxy, bound, None)
        note = f"proxy: {inner.note} (fairlearn has no counterpart of {constraint})"
        return inner._replace(note=note)
    key = f"{info.kind}_bound"  # difference_bound, ratio_bound or upper_bound
    note = f"{info.moment}({key}={bound:g})"
    if info.moment == "BoundedGroupLoss":
        note = f"BoundedGroupLoss(ZeroOneLoss(), {key}={bound:g}) (0-1 loss, not BCE)"
    elif info.threshold and not info.relaxable:
        note += "; ThresholdOptimizer exact (no tol)"
    tol = bound if info.threshold and info.relaxable else None
    return FairlearnConstraint(info.moment, ((key, bound),), info.threshold, tol, note)


class SkipRun(Exception):
    """The baseline has no counterpart of the constraint; the message says why."""


def build_baseline(
    name, constraint, bound, seed, params=None, proxy="demographic_parity"
):
    """Build the unfitted estimator of baseline ``name`` and its constraint.

    Raises :class:`SkipRun` when fairlearn has no counterpart of ``constraint``.
    """
    from fairlearn.postprocessing import ThresholdOptimizer
    from fairlearn.reductions import ExponentiatedGradient, GridSearch
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    spec = FAIRLEARN_BASELINES[name]
    # No early stopping: deterministic given the data, and no validation split.
    base = (
        LogisticRegression(max_iter=500)
        if spec.base == "logreg"
        else HistGradientBoostingClassifier(
            max_iter=50, early_stopping=False, random_state=seed
        )
    )
    est, fl = base, None
    if spec.constrained:
        fl = fairlearn_constraint(constraint, bound, proxy)
        if fl is None:
            raise SkipRun(f"fairlearn has no counterpart of {constraint!r} (no proxy)")
        if spec.mitigation == "threshold" and fl.threshold is None:
            raise SkipRun(f"ThresholdOptimizer has no counterpart of {constraint!r}")
        if spec.mitigation == "threshold":
            est = ThresholdOptimizer(
                estimator=base,
                constraints=fl.threshold,
                tol=fl.tol,
                predict_method="predict_proba",
            )
        elif spec.mitigation == "eg":
            est = ExponentiatedGradient(base, fl.make_moment())
        else:
            est = GridSearch(base, fl.make_moment(), grid_size=21, grid_limit=1.0)
    return est.set_params(**(params or {})), fl


def _grid_search_choice(gs) -> tuple[int, bool]:
    """Index of the lowest-error model within the bound on train, and if one is."""
    bound = gs.constraints_.bound()
    violation = gs.gammas_.sub(bound, axis=0).max(axis=0).to_numpy()
    error = np.asarray(gs.objectives_, dtype=np.float64)
    feasible = violation <= 0
    if feasible.any():
        return int(np.flatnonzero(feasible)[np.argmin(error[feasible])]), True
    return int(np.argmin(violation)), False


class FittedBaseline:
    """A fitted baseline with one interface: scores and hard predictions.

    For GridSearch it keeps the grid's model chosen by the bound and records the
    choice in ``info``.
    """

    def __init__(self, name: str, estimator, seed: int):
        self.estimator, self.seed = estimator, seed
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

    def _groups(self, A) -> dict:
        return {"sensitive_features": A} if self.mitigation == "threshold" else {}

    def score(self, X, A) -> np.ndarray:
        """Probability of predicting the positive class (of a randomised one too)."""
        if self.mitigation in ("eg", "threshold"):
            pmf = self.estimator._pmf_predict(X, **self._groups(A))
            # Mixture weights can exceed 1 by an ulp, which log_loss rejects.
            return np.clip(np.asarray(pmf, dtype=np.float64)[:, 1], 0.0, 1.0)
        classes = list(self._model.classes_)
        if 1 not in classes:  # GridSearch's constant DummyClassifier
            return np.zeros(X.shape[0])
        return self._model.predict_proba(X)[:, classes.index(1)].astype(np.float64)

    def predict(self, X, A) -> np.ndarray:
        """Hard 0/1 predictions (randomised ones with ``random_state=seed``)."""
        if self.mitigation in ("eg", "threshold"):
            out = self.estimator.predict(X, random_state=self.seed, **self._groups(A))
        else:
            out = self._model.predict(X)
        return np.asarray(out).astype(np.int64)


def fit_baseline(name, estimator, X, y, A, seed: int) -> FittedBaseline:
    """Fit ``estimator`` on float64 ``X`` and wrap it in a :class:`FittedBaseline`."""
    groups = {"sensitive_features": A} if FAIRLEARN_BASELINES[name].constrained else {}
    estimator.fit(np.asarray(X, dtype=np.float64), y, **groups)
    return FittedBaseline(name, estimator, seed)
