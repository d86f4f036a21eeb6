"""holdout_constraints: multipliers driven by rows the network never fits (issue 18).

The step itself is checked by hand in ``test_update_rules.py``; here the
estimator's side: what it needs, where it applies, and that it changes the fit.
"""

from __future__ import annotations

import numpy as np
import pytest

from fairsk import (
    PenaltyClassifier,
    SSLALMClassifier,
    StochasticGhostClassifier,
    SwitchingSubgradientClassifier,
)

from .common import TINY

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_needs_validation_rows(synthetic_400):
    X, y, A = synthetic_400
    with pytest.raises(ValueError, match="set validation_fraction"):
        SSLALMClassifier(**TINY, holdout_constraints=True).fit(
            X, y, sensitive_features=A
        )


@pytest.mark.parametrize("cls", [PenaltyClassifier, StochasticGhostClassifier])
def test_rules_without_multipliers_or_switch_refuse_it(synthetic_400, cls):
    X, y, A = synthetic_400
    clf = cls(**TINY, validation_fraction=0.3, holdout_constraints=True)
    with pytest.raises(ValueError, match="held-out rows"):
        clf.fit(X, y, sensitive_features=A)


@pytest.mark.parametrize("cls", [SSLALMClassifier, SwitchingSubgradientClassifier])
def test_held_out_estimates_change_the_fit(synthetic_400, cls):
    X, y, A = synthetic_400
    kw = {**TINY, "validation_fraction": 0.3, "bound": 0.01}
    plain = cls(**kw).fit(X, y, sensitive_features=A)
    held = cls(**kw, holdout_constraints=True).fit(X, y, sensitive_features=A)
    # The same split, the same network: only the constraint estimates moved.
    assert held.validation_report_ is not None
    assert not np.allclose(held.predict_proba(X), plain.predict_proba(X))
    assert np.isfinite(held.predict_proba(X)).all()
    assert len(held.history_[-1, "margins"]) == len(held.constraint_names_)
