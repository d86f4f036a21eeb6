"""scikit-learn's estimator checks, with sklearn's MLPClassifier as the bar.

scikit-learn's checks call ``fit(X, y)`` and cannot pass ``sensitive_features``.
Each classifier (``CLASSIFIERS`` of tests/common.py) is therefore checked through a
test-only subclass whose ``fit`` derives a binary group from the first feature
(above/below its median) when a constrained estimator is given none; everything
else -- validation, training, prediction, pickling, the engine -- is the real
estimator's. The check instances train longer than the defaults so that the tiny
check data sets are learned (check_classifiers_train wants 83% accuracy)."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
from scipy import sparse
from sklearn.utils.estimator_checks import parametrize_with_checks

from fairsk import StochasticGhostClassifier, SwitchingSubgradientClassifier

from .common import CLASSIFIERS, CONSTRAINED


class _MadeUpGroups:
    """Mixin: derive a binary group from the first feature when none is given.

    Input it cannot read a column from (empty, sparse in an odd format, not 2-D)
    passes through without groups, so that the estimator's own validation of
    ``X`` answers first, as it does for users.
    """

    def fit(self, X, y, sensitive_features=None, sample_weight=None):
        if sensitive_features is None and isinstance(self, tuple(CONSTRAINED)):
            sensitive_features = _made_up_groups(X)
        return super().fit(X, y, sensitive_features, sample_weight)


def _made_up_groups(X):
    """Binary groups from the first column of ``X``, or None when it has none."""
    try:
        if sparse.issparse(X):
            col = sparse.csc_array(X)[:, [0]].toarray()[:, 0]
        else:
            col = np.asarray(X, dtype=object)
            col = col.reshape(len(col), -1)[:, 0]
    except (TypeError, ValueError, IndexError):
        return None
    try:
        values = np.asarray(col, dtype=float)
        return values > np.median(values)
    except (TypeError, ValueError):
        return np.arange(len(col)) % 2


#: Checks that fail, with the reason (the same ones fail for MLPClassifier).
_WEIGHT_VS_DUPLICATE = (
    "stochastic minibatch training: a sample with weight 2 and a duplicated "
    "sample are drawn differently (MLPClassifier fails it for the same reason)"
)
EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": _WEIGHT_VS_DUPLICATE,
    # Sparse X is densified, so the sparse variant fails for the same reason.
    "check_sample_weight_equivalence_on_sparse_data": _WEIGHT_VS_DUPLICATE,
}


#: Settings under which the check instances learn the checks' tiny data sets.
CHECK_SETTINGS = {"max_epochs": 60, "batch_size": 32, "lr": 0.1, "random_state": 0}
#: Classifiers whose own defaults learn the check data in a few epochs ...
OWN_DEFAULTS = {SwitchingSubgradientClassifier, StochasticGhostClassifier}
#: ... these few.
FEW_EPOCHS = {"max_epochs": 5, "device": "cpu", "random_state": 0}


def _checked(cls):
    """``cls`` with made-up groups, as a module-level class ``Checked<cls>`` (the
    pickling checks find it by name)."""
    name = f"Checked{cls.__name__}"
    globals()[name] = type(name, (_MadeUpGroups, cls), {"__module__": __name__})
    return globals()[name]


def _instances():
    out = []
    for cls in CLASSIFIERS:
        if cls in OWN_DEFAULTS:
            params = FEW_EPOCHS
        elif cls in CONSTRAINED:
            params = {"bound": 0.05, **CHECK_SETTINGS}
        else:
            params = CHECK_SETTINGS
        out.append(_checked(cls)(**params))
    return out


@parametrize_with_checks(
    _instances(), expected_failed_checks=lambda est: EXPECTED_FAILED
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_docs_list_every_parameter_with_its_default(cls):
    doc = cls.__doc__
    params = inspect.signature(cls).parameters.values()
    for param in params:
        if param.kind is param.VAR_KEYWORD:
            continue
        found = re.search(rf"\n    {param.name} : [^\n]*default=([^\n]*)", doc)
        assert found, param.name
        value = param.default
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        assert found.group(1) == shown, param.name


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
def test_every_shared_setting_is_a_parameter(cls):
    # sklearn reads parameters from the signature: a shared setting missing
    # here would be fixed at its default and invisible to grid searches.
    from fairsk.estimators._settings import SHARED_HEAD, SHARED_TAIL

    names = set(inspect.signature(cls).parameters)
    assert set(SHARED_HEAD) | set(SHARED_TAIL) <= names
