"""Acceptance on real data: demographic parity and equalized odds over RAC1P groups.

The ACS 2019 income task (``national2019.csv``: adults with income, target
PINCP > 50,000, no income-derived feature), sensitive feature RAC1P
(``load_pums_income(..., group="race")``), features encoded by
``ACSFeatureEncoder`` fit on the training split. For each seed 0, 1, 2: an 80/20
split stratified on group x label with that seed, then SSLALMClassifier
(``pairing="one_vs_mean"``, bound 0.05, defaults otherwise -- ``confidence=0.9``
included) and UnconstrainedClassifier with the same seed, on the same rows.

Which groups (the issue's wording, and how it is read here):

- "the five RAC1P groups of >= 500 people": the groups with at least 500 people in
  the 80% training split -- White, Black, Asian, Some other race, American Indian
  (RAC1P 1, 2, 6, 8, 3). "Two or more races" (RAC1P 9) has 528 people in all, so
  about 422 in training, and is the sixth group only when counting all rows.
- "the three groups of >= 1,500 people": White, Black, Asian, counting all rows
  (Asian has 1,836 in all, about 1,469 in training).

Rows of the other groups are left out of each experiment (they are not merged
into "other"). Demographic parity is measured as fairlearn's
``demographic_parity_difference(..., method="to_overall")`` (what
``one_vs_mean`` bounds); equalized odds as ``equalized_odds_difference`` with
fairlearn's default ``method="between_groups"`` (the issue names no method; the
pairwise spread is the stricter reading), its ``to_overall`` value recorded too.
Acceptance is on the mean over the 3 seeds. benchmarks/bench_frontier.py compares
with fairlearn's mitigations (White vs others).
"""

from __future__ import annotations

import numpy as np
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.model_selection import train_test_split

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.datasets import ACSFeatureEncoder, load_pums_income

pytestmark = pytest.mark.slow

SEEDS = (0, 1, 2)
BOUND = 0.05
DP_GROUPS = ("White", "Black", "Asian", "Some other race", "American Indian")
EO_GROUPS = ("White", "Black", "Asian")


@pytest.fixture(scope="module")
def race_task(excerpt_2019):
    X, y, A = load_pums_income(excerpt_2019, return_X_y=True, group="race")
    return X, np.asarray(y), np.asarray(A).astype(str)


def split(race_task, groups, seed):
    """Rows of ``groups`` only, split 80/20 stratified on group x label, encoded."""
    X, y, A = race_task
    keep = np.isin(A, groups)
    X, y, A = X[keep], y[keep], A[keep]
    strata = np.char.add(A, y.astype(str))
    Xtr, Xte, ytr, yte, Atr, Ate = train_test_split(
        X, y, A, test_size=0.2, random_state=seed, stratify=strata
    )
    enc = ACSFeatureEncoder().fit(Xtr)
    return enc.transform(Xtr), enc.transform(Xte), ytr, yte, Atr, Ate


def experiment(race_task, groups, constraint) -> list[dict]:
    rows = []
    for seed in SEEDS:
        Xtr, Xte, ytr, yte, Atr, Ate = split(race_task, groups, seed)
        fair = SSLALMClassifier(
            constraint=constraint, bound=BOUND, pairing="one_vs_mean", random_state=seed
        ).fit(Xtr, ytr, sensitive_features=Atr)
        free = UnconstrainedClassifier(random_state=seed).fit(Xtr, ytr)
        row = {
            "seed": seed,
            "train_sizes": dict(zip(*np.unique(Atr, return_counts=True), strict=True)),
        }
        for name, clf in (("fair", fair), ("free", free)):
            pred = clf.predict(Xte)
            kw = {"sensitive_features": Ate}
            row[f"{name}_accuracy"] = np.mean(pred == yte)
            row[f"{name}_dp"] = demographic_parity_difference(
                yte, pred, method="to_overall", **kw
            )
            row[f"{name}_eo"] = equalized_odds_difference(yte, pred, **kw)
            row[f"{name}_eo_to_overall"] = equalized_odds_difference(
                yte, pred, method="to_overall", **kw
            )
        rows.append(row)
    for r in rows:  # visible with pytest -s
        print(
            constraint,
            {k: round(float(v), 4) for k, v in r.items() if k.startswith(("fa", "fr"))},
        )
    return rows


@pytest.fixture(scope="module")
def dp_rows(race_task):
    return experiment(race_task, DP_GROUPS, "demographic_parity")


@pytest.fixture(scope="module")
def eo_rows(race_task):
    return experiment(race_task, EO_GROUPS, "equalized_odds")


def mean(rows, key) -> float:
    return float(np.mean([r[key] for r in rows]))


def test_group_selection(race_task):
    _, _, A = race_task
    names, counts = np.unique(A, return_counts=True)
    total = dict(zip(names, counts, strict=True))
    # Six groups have >= 500 people in all; five in an 80% training split.
    assert {g for g, n in total.items() if n >= 500} == {
        *DP_GROUPS,
        "Two or more races",
    }
    assert {g for g, n in total.items() if 0.8 * n >= 500} == set(DP_GROUPS)
    assert {g for g, n in total.items() if n >= 1500} == set(EO_GROUPS)


def test_demographic_parity_over_five_groups(dp_rows):
    for r in dp_rows:
        assert set(r["train_sizes"]) == set(DP_GROUPS)
        assert min(r["train_sizes"].values()) >= 500
    assert mean(dp_rows, "free_dp") >= 0.2  # far above the bound
    assert mean(dp_rows, "fair_dp") <= 0.08
    assert mean(dp_rows, "fair_accuracy") >= mean(dp_rows, "free_accuracy") - 0.04


def test_equalized_odds_over_three_groups(eo_rows):
    for r in eo_rows:
        assert set(r["train_sizes"]) == set(EO_GROUPS)
    assert mean(eo_rows, "free_eo") >= 0.2  # far above the bound
    assert mean(eo_rows, "fair_eo") <= 0.12
    assert mean(eo_rows, "fair_accuracy") >= mean(eo_rows, "free_accuracy") - 0.04
