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

import sys
import warnings

__all__ = [
    "FitInterruptedWarning",
    "MissingSensitiveFeaturesError",
    "SmallGroupWarning",
    "warn",
]

#: Packages whose frames a warning's location skips (see :func:`warn`).
_INSIDE = ("fairsk", "skorch", "sklearn")


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, located at the first caller outside fairsk, skorch and scikit-learn.

    fairsk warns from inside skorch's training loop and scikit-learn's
    meta-estimators, at depths that vary; a fixed ``stacklevel`` would point
    into them. This one points at the user's line.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("told", UserWarning)
    >>> str(caught[0].message)
    'told'
    """
    frame, level = sys._getframe(1), 1
    while (
        frame is not None
        and frame.f_globals.get("__name__", "").partition(".")[0] in _INSIDE
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)


class FitInterruptedWarning(UserWarning):
    """A fit stopped early on Ctrl-C (SIGINT) and returned anyway.

    skorch's convention is kept: an interrupt stops training and ``fit``
    returns. The model is *not* fully trained, so fairsk says so: this warning,
    ``interrupted_ = True`` on the estimator and ``"interrupted": True`` in the
    last row of ``history_``. The returned weights are those of the last epoch
    that finished (its last iterate: neither weight averaging nor
    ``select="feasible"`` is applied, and the end-of-fit bound check is not
    run), or the initial weights when no epoch finished. A callback that
    raises KeyboardInterrupt itself, as skorch's ``EarlyStopping`` does, ends
    training as planned: no warning, and the model is finished as usual.

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


class SmallGroupWarning(UserWarning):
    r"""A group is too small to estimate its constraint statistics.

    Raised by ``fit`` when a (group, label) cell that the constraints read has
    fewer than ``MIN_CELL_SAMPLES`` training samples: the group's statistic (a
    loss, a rate) is then estimated from a handful of rows, with a standard
    error of the order of :math:`1/\sqrt{n}`, so a bound enforced on it means
    little on new data. The message names the group, its size and the remedy
    (merge it with ``min_group_size``, or collect more of its samples).

    Examples
    --------
    >>> issubclass(SmallGroupWarning, UserWarning)
    True
    """


class MissingSensitiveFeaturesError(BaseException):
    """A fairness scorer was called without ``sensitive_features``.

    scikit-learn hands a scorer ``sensitive_features`` only with metadata
    routing on (``sklearn.set_config(enable_metadata_routing=True)``) and when
    ``fit`` received them. A search turns any ``Exception`` a scorer raises
    into a NaN score (``error_score=np.nan``) and then ranks the all-NaN
    candidates anyway, picking the first: a scoring mistake would pass for a
    model selection. This error therefore derives from :class:`BaseException`,
    as ``KeyboardInterrupt`` and pytest's outcomes do, so that it stops the
    search. Catch it by name.

    Examples
    --------
    >>> issubclass(MissingSensitiveFeaturesError, Exception)
    False
    """
