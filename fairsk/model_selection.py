"""Picking a model from a grid search: the most accurate one that stays fair.

``GridSearchCV(refit=callable)`` calls the callable with ``cv_results_`` and refits
the candidate whose index it returns. :func:`feasible_refit` builds that callable:
among candidates whose held-out disparity is within their bound, the best score;
if none is, the least unfair one, with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

__all__ = ["feasible_refit"]


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
