"""Sizes and magnitudes at the edge of what a fit can take (issue 17, items 5, 9).

- **Batches larger than the data.** The objective minibatch has always been
  capped at the training rows; the constraint sample (``constraint_batch_size``,
  by default ``batch_size``) now is too, so a batch of 10⁶ or 10⁹ on 240 rows
  trains the same model as a batch of 240 instead of taking 42 s an epoch or
  exhausting memory.
"""

from __future__ import annotations

import pytest

from fairsk import SSLALMClassifier, SwitchingSubgradientClassifier

from ._common import TINY, make_data

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def synthetic_data():
    return make_data()


def _history(clf) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "dur"} for row in clf.history_]


@pytest.mark.parametrize(
    "cls", [SSLALMClassifier, SwitchingSubgradientClassifier], ids=lambda c: c.__name__
)
@pytest.mark.parametrize(
    "huge",
    [
        pytest.param({"batch_size": 10**5}, id="batch_1e5"),
        pytest.param({"constraint_batch_size": 10**5}, id="constraint_batch_1e5"),
        pytest.param({"batch_size": 10**9}, id="batch_1e9"),
        pytest.param(
            {"batch_size": 10**9, "constraint_batch_size": 10**9}, id="both_1e9"
        ),
    ],
)
def test_batches_larger_than_the_data_are_capped(cls, huge, synthetic_data):
    X, y, A = synthetic_data
    n = len(y)
    params = {**TINY, "max_epochs": 2}
    capped = {k: n for k in huge}
    expected = cls(**{**params, **capped}).fit(X, y, sensitive_features=A)
    clf = cls(**{**params, **huge}).fit(X, y, sensitive_features=A)
    assert clf.predict_proba(X).tobytes() == expected.predict_proba(X).tobytes()
    assert _history(clf) == _history(expected)


def test_the_cap_is_documented():
    doc = " ".join(SSLALMClassifier.__doc__.split())
    assert "capped at the number of training rows" in doc
