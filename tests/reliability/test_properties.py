"""Property tests: random small datasets, every classifier, fairlearn as the oracle.

Hypothesis draws small tabular problems -- 40 to 200 rows, 2 to 4 features, 2 to
5 groups in imbalanced proportions, some groups without positives, labels of
several types, optional sample weights and optional merging of small groups --
and checks three properties:

1. **Fit and predict never break.** Every classifier fits (or refuses with the
   documented ``ValueError`` when too few groups are left to compare), its
   ``predict_proba`` rows are finite, lie in ``[0, 1]`` and sum to 1, ``predict``
   returns labels from ``classes_`` and agrees with the probabilities, and
   ``history_`` holds no NaN.
2. **The reported values are fairlearn's.** Each constraint's ``value`` and
   ``violation`` in :meth:`feasibility_report` (on the same rows, from the same
   hard predictions) equals the fairlearn quantity it stands for:
   ``MetricFrame(...).difference(method=...)`` with ``"between_groups"`` for
   ``pairing="one_vs_each"`` (the largest pairwise gap, max minus min) and
   ``"to_overall"`` for ``"one_vs_mean"`` (the largest gap to the population
   statistic); ``.ratio(method=...)`` for ratio constraints; ``group_max`` for
   bounded group loss; the largest (smallest for ratios) over the statistics of
   a constraint (TPR and FPR for equalized odds). Where every group holds both
   labels, fairlearn's named functions (``demographic_parity_difference``,
   ``equalized_odds_ratio``, ...) give the same number. The last ``history_``
   row records the same values for the returned (averaged) weights.
3. **Groups without positives are left out, with a warning.** A
   true-positive-rate statistic is undefined in a group without positives:
   fairsk warns naming the group, drops it from that statistic's rows (the group
   keeps its false-positive-rate rows) and reports the fairlearn value over the
   groups where the rate is defined; with fewer than two such groups the fit is a
   ``ValueError``.
4. **A clean fit warns nothing** (in a fresh process), whether its arrays are
   writable or read-only as pandas hands them out: fit warnings are the
   documented ones only (merged groups, a group missing a label, a group too
   small to estimate its statistics, a missed bound).

Every example is derandomised, so CI runs the same examples each time.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    log_loss_group_max,
    selection_rate,
    true_positive_rate,
    zero_one_loss_difference,
    zero_one_loss_ratio,
)
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss, zero_one_loss

from fairsk import SSLALMClassifier
from fairsk.constraints import CONSTRAINTS, STATISTICS
from fairsk.exceptions import SmallGroupWarning

from ..common import CLASSIFIERS

#: The repository root (where ``tests`` is a package).
ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

#: Tiny fits: a couple of epochs of a small network.
SMALL = {"hidden_layer_sizes": (8,), "max_epochs": 2, "batch_size": 32}

#: Label encodings a user may hand to ``fit`` (negative, positive).
LABELINGS = [(0, 1), (-1, 1), ("no", "yes"), (False, True)]


def _log_loss(y_true, y_prob, sample_weight=None):
    """Mean BCE of a group (which may hold a single label)."""
    return log_loss(y_true, y_prob, sample_weight=sample_weight, labels=[0, 1])


#: Statistic name -> (the fairlearn / scikit-learn metric of each group, whether it
#: takes the positive-class probability instead of the hard prediction).
REFERENCE = {
    "positive_rate": (selection_rate, False),
    "true_positive_rate": (true_positive_rate, False),
    "false_positive_rate": (false_positive_rate, False),
    "error_rate": (zero_one_loss, False),
    "loss": (_log_loss, True),
}

#: fairlearn's named function for each built-in constraint (a cross-check of the
#: MetricFrame reference where every group holds both labels).
NAMED = {
    "demographic_parity": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equal_opportunity": equal_opportunity_difference,
    "equal_opportunity_ratio": equal_opportunity_ratio,
    "equalized_odds": equalized_odds_difference,
    "equalized_odds_ratio": equalized_odds_ratio,
    "error_rate_parity": zero_one_loss_difference,
    "error_rate_ratio": zero_one_loss_ratio,
}

NO_LABEL = re.compile(
    r"Group '(\w+)' has no samples with label (\d), so its (\w+) is undefined"
)
MERGED = re.compile(r"Groups smaller than min_group_size=\d+ were merged")


@dataclass
class Problem:
    """A drawn dataset, as handed to ``fit``, and what the test derives from it."""

    X: np.ndarray
    y: np.ndarray  # in the drawn label encoding
    A: np.ndarray  # raw group labels "g0", "g1", ...
    y01: np.ndarray
    w: np.ndarray | None
    min_group_size: int | None

    @property
    def groups(self) -> np.ndarray:
        """Group of each row after merging small groups into "other"."""
        if self.min_group_size is None:
            return self.A
        labels, counts = np.unique(self.A, return_counts=True)
        small = set(labels[counts < self.min_group_size])
        return np.array(["other" if a in small else a for a in self.A], dtype=object)

    def groups_with(self, label: int) -> list:
        """Groups (after merging) holding at least one row of ``label``."""
        g = self.groups
        return sorted(set(g[self.y01 == label]))


@st.composite
def problems(draw, *, force_no_positives: bool = False, weights: bool = True):
    """Random small problems; some groups have no positives."""
    n = draw(st.integers(40, 200))
    k = draw(st.integers(2, 5))
    d = draw(st.integers(2, 4))
    shares = draw(st.lists(st.floats(0.02, 1.0), min_size=k, max_size=k))
    no_pos = draw(
        st.sets(st.integers(0, k - 1), min_size=int(force_no_positives), max_size=k - 1)
    )
    neg, pos = draw(st.sampled_from(LABELINGS))
    weighted = weights and draw(st.booleans())
    min_group_size = draw(st.one_of(st.none(), st.integers(2, 12)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    p = np.asarray(shares) / np.sum(shares)
    codes = np.concatenate([np.arange(k), rng.choice(k, size=n - k, p=p)])
    rng.shuffle(codes)  # every group has at least one row
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d)
    effect = rng.normal(size=k)
    score = X[:, 0] + effect[codes] + 0.5 * rng.normal(size=n)
    y01 = (score > np.median(score)).astype(int)
    y01[np.isin(codes, sorted(no_pos))] = 0
    assume(0 < y01.sum() < n)  # both classes overall
    y = np.where(y01 == 1, pos, neg)
    if isinstance(pos, bool):
        y = y01.astype(bool)
    A = np.array([f"g{c}" for c in codes], dtype=object)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else None
    return Problem(X, y, A, y01, w, min_group_size)


def _bound(name: str) -> float:
    kind = CONSTRAINTS[name].kind
    return {"ratio": 0.8, "upper": 0.7}.get(kind, 0.1)


def _statistics(name: str) -> list[str]:
    stats = CONSTRAINTS[name].statistics
    return [stats] if isinstance(stats, str) else list(stats)


def _expected_failure(problem: Problem, constraint: str) -> str | None:
    """The ValueError message the fit must raise on ``problem``, if any."""
    if len(set(problem.groups)) < 2:
        return "single group"
    if CONSTRAINTS[constraint].kind == "upper":
        return None
    for stat in _statistics(constraint):
        label = STATISTICS[stat].label
        if label is not None and len(problem.groups_with(label)) < 2:
            return f"needs {stat} in at least two groups"
    return None


def _fit(cls, problem: Problem, constraint: str, pairing: str):
    """Fit and return ``(clf, user warnings)``, ConvergenceWarnings dropped."""
    clf = cls(
        constraint=constraint,
        bound=_bound(constraint),
        pairing=pairing,
        min_group_size=problem.min_group_size,
        random_state=0,
        **SMALL,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(
            problem.X, problem.y, sensitive_features=problem.A, sample_weight=problem.w
        )
    caught = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    return clf, caught


def _fit_unless_refused(cls, problem: Problem, constraint: str, pairing: str):
    """``_fit``, or ``None`` once the fit raised the refusal it must raise."""
    failure = _expected_failure(problem, constraint)
    if failure is None:
        return _fit(cls, problem, constraint, pairing)
    event(f"refused: {failure}")
    with pytest.raises(ValueError, match=failure):
        _fit(cls, problem, constraint, pairing)
    return None


def _check_warnings(problem: Problem, constraint: str, caught) -> None:
    """Only the expected warnings: merged groups, and groups missing a label."""
    expected = set()
    for stat in _statistics(constraint):
        label = STATISTICS[stat].label
        if label is not None and CONSTRAINTS[constraint].kind != "upper":
            have = set(problem.groups_with(label))
            expected |= {(g, label, stat) for g in set(problem.groups) - have}
    seen, merged = set(), False
    for w in caught:
        if issubclass(w.category, SmallGroupWarning):  # a cell of < 10 rows
            continue
        text = str(w.message)
        if MERGED.search(text):
            merged = True
            continue
        m = NO_LABEL.search(text)
        assert m is not None, f"unexpected warning: {w.category.__name__}: {text}"
        seen.add((m[1], int(m[2]), m[3]))
    assert seen == expected
    assert merged == (set(problem.groups) != set(problem.A))


def _reference(problem, constraint, pairing, pred01, proba1) -> float:
    """The constraint's value from fairlearn, on the groups where it is defined."""
    kind = CONSTRAINTS[constraint].kind
    groups = problem.groups
    method = "between_groups" if pairing == "one_vs_each" else "to_overall"
    values = []
    for stat in _statistics(constraint):
        metric, from_scores = REFERENCE[stat]
        label = STATISTICS[stat].label
        rows = (
            np.ones(len(groups), bool)
            if label is None
            else np.isin(groups, problem.groups_with(label))
        )
        mf = MetricFrame(
            metrics=metric,
            y_true=problem.y01[rows],
            y_pred=(proba1 if from_scores else pred01)[rows],
            sensitive_features=groups[rows],
            sample_params=None
            if problem.w is None
            else {"sample_weight": problem.w[rows]},
        )
        if kind == "upper":
            values.append(mf.group_max())
        elif kind == "difference":
            values.append(mf.difference(method=method))
        else:
            ratio = mf.ratio(method=method)
            # 0 / 0: every group's rate is zero. fairlearn says NaN; fairsk
            # counts equal rates as ratio 1 (no disparity).
            if np.isnan(ratio):
                assert np.all(mf.by_group == 0)
                ratio = 1.0
            values.append(ratio)
    return min(values) if kind == "ratio" else max(values)


def _named(problem, constraint, pairing, pred01, proba1) -> float | None:
    """fairlearn's named function, where it applies to every group as is."""
    groups = problem.groups
    complete = all(len(set(problem.y01[groups == g])) == 2 for g in set(groups))
    kw = {"sensitive_features": groups, "sample_weight": problem.w}
    method = "between_groups" if pairing == "one_vs_each" else "to_overall"
    if not complete:
        return None
    if constraint == "bounded_group_loss":
        return log_loss_group_max(problem.y01, proba1, **kw)
    if constraint not in NAMED:
        return None
    value = NAMED[constraint](problem.y01, pred01, method=method, **kw)
    return None if np.isnan(value) else value


CHECKED = sorted(CONSTRAINTS)
PAIRINGS = ["auto", "one_vs_each", "one_vs_mean"]


def _settings(max_examples: int) -> settings:
    """Few, derandomised examples: the same ones on every run (no database of
    past failures replayed first)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=lambda c: c.__name__)
@_settings(20)
@given(
    problem=problems(),
    constraint=st.sampled_from(CHECKED),
    pairing=st.sampled_from(PAIRINGS),
)
def test_every_classifier_fits_and_predicts(cls, problem, constraint, pairing):
    fitted = _fit_unless_refused(cls, problem, constraint, pairing)
    if fitted is None:
        return
    clf, caught = fitted
    event(f"fitted {len(clf.groups_)} groups")
    _check_warnings(problem, constraint, caught)
    proba = clf.predict_proba(problem.X)
    assert proba.shape == (len(problem.y), 2)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    pred = clf.predict(problem.X)
    assert np.isin(pred, clf.classes_).all()
    assert set(clf.classes_.tolist()) == set(problem.y.tolist())
    np.testing.assert_array_equal(pred == clf.classes_[1], proba[:, 1] > 0.5)
    assert clf.groups_ == sorted(set(problem.groups))
    for row in clf.history_:
        for key in ("objective", "constraints", "multipliers"):
            if key in row:
                assert np.isfinite(row[key]).all(), key
    last = clf.history_[-1]
    for name in (constraint, "avg_" + constraint):
        if name in last:
            assert np.isfinite([last[name], last[name + "_violation"]]).all(), name


@pytest.mark.parametrize("constraint", CHECKED)
@_settings(15)
@given(
    problem=problems(),
    cls=st.sampled_from(CLASSIFIERS),
    pairing=st.sampled_from(PAIRINGS),
)
def test_reported_values_equal_fairlearn(constraint, problem, cls, pairing):
    assume(_expected_failure(problem, constraint) is None)
    clf, _ = _fit(cls, problem, constraint, pairing)
    n_groups = len(clf.groups_)
    resolved = (
        pairing
        if pairing != "auto"
        else ("one_vs_each" if n_groups == 2 else "one_vs_mean")
    )
    [con] = clf.constraints_
    if con.kind != "upper":
        assert con.pairing == resolved
    report = clf.feasibility_report(
        problem.X, problem.y, problem.A, sample_weight=problem.w, n_boot=0
    )
    pred01 = (clf.predict(problem.X) == clf.classes_[1]).astype(int)
    proba1 = clf.predict_proba(problem.X)[:, 1]
    expected = _reference(problem, constraint, resolved, pred01, proba1)
    [row] = report.to_dict("records")
    assert row["constraint"] == constraint
    assert row["value"] == pytest.approx(expected, abs=1e-9, rel=1e-9)
    signed = con.bound - expected if con.kind == "ratio" else expected - con.bound
    assert row["violation"] == pytest.approx(signed, abs=1e-9, rel=1e-9)
    assert row["holds"] == (row["violation"] <= 0)
    event(f"{cls.__name__} / {resolved}")
    event("value > 0" if expected > 0 else "value 0")
    missing = len(set(problem.groups)) - len(problem.groups_with(1))
    event(f"groups without positives: {missing}")
    event("weighted" if problem.w is not None else "unweighted")
    event("merged" if set(problem.groups) != set(problem.A) else "not merged")
    named = _named(problem, constraint, resolved, pred01, proba1)
    if named is not None:
        assert named == pytest.approx(expected, abs=1e-9, rel=1e-9)
        event("named fairlearn function checked")
    # The last epoch recorded the same value for the returned weights, on the
    # training set (training evaluates in float32: rates agree to float32
    # rounding unless a logit sits next to the threshold, the loss to float32
    # precision).
    last = clf.history_[-1]
    key = "avg_" + constraint if "avg_" + constraint in last else constraint
    logits = clf.decision_function(problem.X)
    if STATISTICS[_statistics(constraint)[0]].quantity.name == "loss":
        assert last[key] == pytest.approx(row["value"], rel=1e-4, abs=1e-5)
    elif np.abs(logits).min() > 1e-4:
        assert last[key] == pytest.approx(row["value"], abs=1e-6)


TPR_CONSTRAINTS = [
    name for name in CHECKED if "true_positive_rate" in _statistics(name)
]


@_settings(40)
@given(
    problem=problems(force_no_positives=True, weights=False),
    constraint=st.sampled_from(TPR_CONSTRAINTS),
    pairing=st.sampled_from(PAIRINGS),
)
def test_groups_without_positives_are_left_out_of_tpr(problem, constraint, pairing):
    with_pos = problem.groups_with(1)
    without = sorted(set(problem.groups) - set(with_pos))
    assume(without and len(set(problem.groups)) >= 2)
    fitted = _fit_unless_refused(SSLALMClassifier, problem, constraint, pairing)
    if fitted is None:
        return
    clf, caught = fitted
    event(f"{len(without)} of {len(clf.groups_)} groups without positives")
    warned = {
        m[1]
        for m in (NO_LABEL.search(str(w.message)) for w in caught)
        if m is not None and m[3] == "true_positive_rate"
    }
    assert warned == set(without)
    tpr_rows = [n for n in clf.constraint_names_ if "true_positive_rate[" in n]
    fpr_rows = [n for n in clf.constraint_names_ if "false_positive_rate[" in n]
    for g in without:
        assert not any(f"[{g}]" in n for n in tpr_rows), g
        if "false_positive_rate" in _statistics(constraint):
            assert any(f"[{g}]" in n for n in fpr_rows), g
    for g in with_pos:
        assert any(f"[{g}]" in n for n in tpr_rows), g
    [row] = clf.feasibility_report(problem.X, problem.y, problem.A, n_boot=0).to_dict(
        "records"
    )
    pred01 = (clf.predict(problem.X) == clf.classes_[1]).astype(int)
    proba1 = clf.predict_proba(problem.X)[:, 1]
    [con] = clf.constraints_
    expected = _reference(problem, constraint, con.pairing, pred01, proba1)
    assert row["value"] == pytest.approx(expected, abs=1e-9)


# Each in a fresh process (run from the repository root, to import tests.common):
# torch warns about read-only arrays once per process, so whether an in-process
# fit shows it depends on which test ran first. Every group holds both labels and
# none is small: a clean fit may only warn that it misses its bound
# (ConvergenceWarning).
_CLEAN_FIT = """
import warnings
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
import fairsk
from tests.common import make_synthetic
X, y, A = make_synthetic()
w = pd.Series(np.linspace(0.5, 2.0, len(y))).to_numpy()  # as a DataFrame column
warnings.simplefilter("error", UserWarning)
warnings.simplefilter("ignore", ConvergenceWarning)
clf = fairsk.{cls}(max_epochs=1, random_state=0)
clf.fit(X, y, {kwargs})
"""


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        pytest.param("SSLALMClassifier", "sensitive_features=A", id="group_codes"),
        pytest.param(
            "UnconstrainedClassifier",
            "sample_weight=w",
            # A pandas column is read-only under copy-on-write.
            id="read_only_sample_weight",
        ),
    ],
)
def test_a_clean_fit_warns_nothing(cls, kwargs):
    code = _CLEAN_FIT.format(cls=cls, kwargs=kwargs)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr[-2000:]
