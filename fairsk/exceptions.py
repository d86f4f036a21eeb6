"""Warnings that fairsk raises beyond scikit-learn's own.

scikit-learn's ``ConvergenceWarning`` and ``DataConversionWarning`` keep their
meaning (a model that misses its bound or stopped improving; input that was
converted). The classes here name what has no scikit-learn counterpart, so that
a caller can filter or catch exactly them.

>>> import warnings
>>> from fairsk.exceptions import FitInterruptedWarning
>>> issubclass(FitInterruptedWarning, UserWarning)
True
"""

from __future__ import annotations

__all__ = ["FitInterruptedWarning"]


class FitInterruptedWarning(UserWarning):
    """A fit stopped early on a KeyboardInterrupt (Ctrl-C) and returned anyway.

    skorch's convention is kept: an interrupt stops training and ``fit``
    returns. The model is *not* fully trained, so fairsk says so: this warning,
    ``interrupted_ = True`` on the estimator and ``"interrupted": True`` in the
    last row of ``history_``. The returned weights are those of the last epoch
    that finished (its last iterate: neither weight averaging nor
    ``select="feasible"`` is applied, and the end-of-fit bound check is not
    run), or the initial weights when no epoch finished.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", FitInterruptedWarning)  # make it fatal
    ...     try:
    ...         warnings.warn("stopped", FitInterruptedWarning)
    ...     except FitInterruptedWarning as w:
    ...         print(type(w).__name__)
    FitInterruptedWarning
    """
