"""The unconstrained classifier: same network, engine and data path, no constraint."""

from __future__ import annotations

from ..algorithms import GradientDescent
from .base import BaseFairClassifier, classifier_for, fill_doc

__all__ = ["UnconstrainedClassifier"]


@fill_doc
@classifier_for(GradientDescent)
class UnconstrainedClassifier(BaseFairClassifier):
    r"""MLP classifier trained by plain SGD on the cross-entropy.

    The baseline every constrained classifier is compared with: the same network,
    initialisation, minibatches and engine, minimising :math:`f(\theta)` alone.
    ``sensitive_features`` are optional; when given, the ``constraint`` and
    ``bound`` are *monitored* (recorded in ``history_`` each epoch) but not
    enforced.

    Parameters
    ----------
    %(parameters)s

    See Also
    --------
    SSLALMClassifier : Trains under the constraint.

    Examples
    --------
    >>> import numpy as np
    >>> from fairsk import UnconstrainedClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, _, _ = make_fair_classification(300, 2, random_state=0)
    >>> y = np.where(X[:, 0] > 0, "yes", "no")  # string labels, no groups
    >>> clf = UnconstrainedClassifier(max_epochs=20, lr=0.2, random_state=0).fit(X, y)
    >>> clf.classes_.tolist(), clf.score(X, y) > 0.9
    (['no', 'yes'], True)
    """

    _requires_groups = False
