"""
Intersectional groups on real ACS records
=========================================

Sex × race on the NIST ACS Data Excerpts (real 2019 American Community Survey
person records; target: income above 50,000 dollars). With many groups, each group
is compared with the whole population (``pairing="one_vs_mean"``): here
:math:`|TPR_g - TPR_{\\text{pop}}| \\le 0.05` for every group :math:`g`
(equal opportunity). Groups too small to estimate a rate are merged into
``"other"`` by :class:`~fairsk.datasets.SensitiveFeatureBuilder`'s
``min_group_size`` (the classifiers have the same parameter).
"""

# %%
import os
from pathlib import Path

import pandas as pd
from fairlearn.metrics import MetricFrame, true_positive_rate
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.datasets import ACSFeatureEncoder, SensitiveFeatureBuilder, load_pums_income

here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
shared = Path(os.environ.get("FAIRSK_SHARED_DATA", here.parent.parent / "shared/data"))
excerpt = shared / "acs-excerpts" / "national2019.csv"
if not excerpt.is_file():
    raise FileNotFoundError(f"{excerpt} not found; set FAIRSK_SHARED_DATA.")
epochs = 5 if os.environ.get("FAIRSK_EXAMPLES_QUICK") == "1" else 20

X, y, _ = load_pums_income(excerpt, return_X_y=True)
X, X_test, y, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
# Labels such as "Female, Black" from SEX and RAC1P, which are then dropped from X.
groups = SensitiveFeatureBuilder("sex_race", min_group_size=500, drop=True).fit(X)
A, A_test = groups.sensitive_features(X), groups.sensitive_features(X_test)
X, X_test = groups.transform(X), groups.transform(X_test)
print(A.value_counts())

# %%
# The same pipeline with and without the constraint; true positive rate per group
# on the test rows.
rates = {}
for clf in (
    UnconstrainedClassifier(max_epochs=epochs, random_state=0),
    SSLALMClassifier(
        constraint="equal_opportunity",
        bound=0.05,
        pairing="one_vs_mean",
        max_epochs=epochs,
        random_state=0,
    ),
):
    model = make_pipeline(ACSFeatureEncoder(), clf)
    model.fit(X, y, **{f"{model.steps[-1][0]}__sensitive_features": A})
    frame = MetricFrame(
        metrics=true_positive_rate,
        y_true=y_test,
        y_pred=model.predict(X_test),
        sensitive_features=A_test,
    )
    name = type(clf).__name__
    rates[name] = frame.by_group
    print(f"{name}: largest gap to the population {frame.difference('to_overall'):.3f}")

ax = pd.DataFrame(rates).plot.barh(figsize=(8, 5))
ax.set(xlabel="true positive rate (test)", title="Equal opportunity, sex and race")
ax.figure.tight_layout()
