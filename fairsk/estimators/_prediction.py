"""What a fitted fairsk classifier answers: predictions, reports, its history.

:class:`PredictionMixin` holds the inference side of
:class:`~fairsk.estimators.BaseFairClassifier`: the logit of each sample
(computed in float64, chunk by chunk, on a copy of the trained network), the
class probabilities and labels derived from it, the bootstrap feasibility report
of each constraint on given data, and the fitted attributes read from the
training engine (``history_``, ``loss_curve_``, ``multipliers_``).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..engine import torch_threads
from ..feasibility import feasibility_report
from ..problem import logits_of
from .inputs import validate_X

__all__ = ["PREDICT_CHUNK", "PredictionMixin"]

#: Rows per chunk when predicting (bounds device memory on big inputs).
PREDICT_CHUNK = 65536


#: The docstring of a method that takes the samples ``X`` alone: its summary, the
#: Parameters section they all share, and its Returns section.
_SAMPLES_DOC = """{summary}

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        {returns}
            {description}
        """


def _takes_samples(returns: str, description: str):
    """Complete the docstring of a method of ``X`` alone (see ``_SAMPLES_DOC``)."""

    def document(method):
        if method.__doc__ is not None:  # None under python -OO
            method.__doc__ = _SAMPLES_DOC.format(
                summary=method.__doc__, returns=returns, description=description
            )
        return method

    return document


class PredictionMixin:
    """Inference and reporting of a fitted :class:`BaseFairClassifier`.

    Reads what a fit leaves on the estimator: ``net_`` (the trained engine),
    ``classes_``, ``group_encoder_``, ``compiled_constraints_`` and
    ``constraint_names_``, and the class attribute ``_n_threads``.
    """

    # -- fitted attributes -----------------------------------------------------------
    @property
    def history_(self):
        """Per-epoch record of training (a :class:`skorch.history.History`)."""
        check_is_fitted(self)
        return self.net_.history

    @property
    def loss_curve_(self) -> list[float]:
        """Mean minibatch loss of each epoch (as in ``MLPClassifier``)."""
        return list(self.history_[:, "train_loss"])

    @property
    def multipliers_(self) -> pd.Series | None:
        """Final dual variable of each constraint row (``None`` without multipliers).

        Indexed by ``constraint_names_``, as fairlearn's reductions index their
        ``lambda_vecs_``.
        """
        check_is_fitted(self)
        lam = getattr(self.net_.algorithm_, "multipliers", None)
        if lam is None or not self.constraint_names_:
            return None
        return pd.Series(lam.tolist(), index=self.constraint_names_, name="multiplier")

    # -- prediction --------------------------------------------------------------
    def _logits(self, X) -> np.ndarray:
        # Inference runs in float64 on a copy of the network: float32 matrix
        # products change in the last bits with the batch size, and predictions
        # must not depend on which other rows are predicted with them.
        module = copy.deepcopy(self.net_.module_).double().eval()
        device = next(module.parameters()).device
        out = []
        with torch.inference_mode(), torch_threads(self._n_threads):
            for i in range(0, X.shape[0], PREDICT_CHUNK):
                # A copy per chunk: X may be read-only (pandas), which torch
                # cannot share.
                chunk = torch.tensor(X[i : i + PREDICT_CHUNK], dtype=torch.float64)
                out.append(logits_of(module, chunk.to(device)).cpu())
        if not out:
            return np.zeros(0)
        return torch.cat(out).numpy()

    def feasibility_report(
        self,
        X,
        y,
        sensitive_features,
        sample_weight=None,
        *,
        confidence: float = 0.95,
        n_boot: int = 200,
        random_state=None,
    ) -> pd.DataFrame:
        """Each constraint on ``(X, y)``, with a bootstrap confidence interval.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, e.g. a held-out set (transformed as for ``predict``).
        y : array-like of shape (n_samples,)
            True labels.
        sensitive_features : array-like
            Group of each sample (groups seen in ``fit``).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        confidence : float, default=0.95
            Level of the percentile interval.
        n_boot : int, default=200
            Bootstrap replicates.
        random_state : int or None, default=None
            Seeds the replicates.

        Returns
        -------
        pandas.DataFrame
            One row per constraint: ``constraint``, ``kind``, ``bound``,
            ``value`` (on hard predictions, as fairlearn computes it),
            ``ci_low``, ``ci_high``, ``violation`` and ``holds`` (the interval is
            on the feasible side of the bound). See
            :func:`fairsk.feasibility.feasibility_report`.
        """
        check_is_fitted(self)
        if self.compiled_constraints_ is None:
            raise ValueError(
                f"{type(self).__name__} was fitted without sensitive_features; "
                "there is no constraint to report on."
            )
        X = validate_X(self, X, reset=False)
        y = np.asarray(y)
        if len(y) != X.shape[0]:
            raise ValueError(f"y has {len(y)} rows but X has {X.shape[0]}.")
        labels = np.unique(y)
        unknown = labels[~np.isin(labels, self.classes_)].tolist()
        if unknown:
            raise ValueError(
                f"y has labels not seen in fit: {unknown}; the classes are "
                f"{self.classes_.tolist()}."
            )
        codes = self.group_encoder_.transform(sensitive_features, X.shape[0])
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        y01 = (y == self.classes_[1]).astype(np.float64)
        kwargs = {"confidence": confidence, "n_boot": n_boot}
        return self._feasibility(
            X, y01, codes, sample_weight, random_state=random_state, **kwargs
        )

    def _feasibility(self, X, y01, codes, sample_weight, **kwargs) -> pd.DataFrame:
        logits = self._logits(X)
        cc = self.compiled_constraints_
        return feasibility_report(cc, logits, y01, codes, sample_weight, **kwargs)

    @_takes_samples(
        "numpy.ndarray of shape (n_samples,)",
        "Positive values predict ``classes_[1]``.",
    )
    def decision_function(self, X) -> np.ndarray:
        """Logit of the positive class ``classes_[1]`` for each sample."""
        check_is_fitted(self)
        return self._logits(validate_X(self, X, reset=False))

    @_takes_samples("numpy.ndarray of shape (n_samples, 2)", "Each row sums to 1.")
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    @_takes_samples("numpy.ndarray of shape (n_samples,)", "Labels from ``classes_``.")
    def predict(self, X) -> np.ndarray:
        """Predicted class label of each sample (probability above 0.5)."""
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(np.int64)]
