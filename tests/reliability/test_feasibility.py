"""``feasibility_report`` on rows where a group is absent (issue 17, item 4).

A group with no rows among those given, or only zero weights, has no statistic
there. The report used to take it as 0: a loss gap equal to the other group's
loss, a positive-rate gap equal to the other group's rate, each with an
interval and a verdict (``holds`` True). Now each constraint comparing such a
group reports NaN (value, interval and violation), ``holds`` is False, and a
UserWarning names the group and says what to do. Bootstrap replicates in which
a group present in the rows draws no weight are skipped for the same reason.
"""

from __future__ import annotations

import numpy as np
import pytest

from fairsk import SSLALMClassifier
from fairsk.constraints import compile_constraints, make_constraints
from fairsk.feasibility import feasibility_report

from ..common import TINY, make_synthetic

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def synthetic_fit():
    X, y, A = make_synthetic()
    clf = SSLALMClassifier(
        **TINY, constraint=["loss_gap", "demographic_parity"], bound=[0.05, 0.1]
    )
    return clf.fit(X, y, sensitive_features=A), X, y, A


def _assert_undefined(report):
    assert report["value"].isna().all()
    assert report[["ci_low", "ci_high", "violation"]].isna().all().all()
    assert not report["holds"].any()


def test_a_group_without_rows_gives_nan_with_a_warning(synthetic_fit):
    clf, X, y, A = synthetic_fit
    a = A == "a"
    with pytest.warns(
        UserWarning, match=r"group 'b' has no rows with positive weight.*NaN"
    ):
        report = clf.feasibility_report(X[a], y[a], A[a], random_state=0)
    assert report["constraint"].tolist() == ["loss_gap", "demographic_parity"]
    _assert_undefined(report)


def test_a_group_with_zero_weights_gives_nan_with_a_warning(synthetic_fit):
    clf, X, y, A = synthetic_fit
    w = (A == "b").astype(float)
    with pytest.warns(UserWarning, match=r"group 'a' has no rows with positive"):
        report = clf.feasibility_report(X, y, A, w, n_boot=0)
    _assert_undefined(report)


def test_every_group_present_reports_numbers(synthetic_fit):
    clf, X, y, A = synthetic_fit
    report = clf.feasibility_report(X, y, A, random_state=0)
    assert np.isfinite(report[["value", "ci_low", "ci_high"]].to_numpy()).all()


def test_replicates_where_a_small_group_draws_nothing_are_skipped():
    # Group b is one row, predicted positive: its positive rate is 1 in every
    # replicate that draws it, and undefined in the 37% of Poisson replicates
    # that give it weight 0. Group a's rate is 0.5, so the gap is 0.5 with an
    # interval of a's sampling error (about ±0.07); counting b's rate as 0 in
    # the empty replicates stretched the interval to [0, 0.6].
    n = 200
    codes = np.r_[np.zeros(n, dtype=int), 1]
    logits = np.r_[np.tile([1.0, -1.0], n // 2), 1.0]
    y = np.r_[np.tile([0, 1], n // 2), 1]
    mass = np.array([[n / 2, n / 2], [0.0, 1.0]])
    cc = compile_constraints(make_constraints("demographic_parity", 0.1), mass, "ab")
    report = feasibility_report(cc, logits, y, codes, n_boot=400, random_state=0)
    assert report["value"].item() == pytest.approx(0.5)
    assert 0.35 < report["ci_low"].item() < 0.5 < report["ci_high"].item() < 0.65
