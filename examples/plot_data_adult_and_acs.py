"""
Fair income prediction offline: UCI Adult, then real ACS records
================================================================

fairsk ships UCI Adult inside the package, so this runs with no network:
load the data, encode it, train an MLP under a fairness constraint with SSL-ALM in a
scikit-learn Pipeline, and read accuracy and selection rate per group with
fairlearn's :class:`~fairlearn.metrics.MetricFrame`.

The same code then runs on real American Community Survey person records (the NIST
ACS Data Excerpts, read with the PUMS reader), swapping only the loader and the
encoder. With the Census Bureau's files in place,
:func:`fairsk.datasets.load_acs` gives folktables' ACSIncome task the same way.

Adult: Becker & Kohavi (1996), UCI Machine Learning Repository,
doi:10.24432/C5XW20, CC BY 4.0.
"""

# %%
# Adult: the embedded default
# ---------------------------
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline

from fairsk import SSLALMClassifier
from fairsk.datasets import TabularEncoder, load_adult


def fit_and_report(encoder, train, test):
    """Fit Pipeline(encoder, SSL-ALM) on train; per-group metrics on test."""
    (X, y, A), (X_test, y_test, A_test) = train, test
    clf = SSLALMClassifier(lr=0.1, batch_size=128, max_epochs=2, random_state=0)
    model = make_pipeline(encoder, clf)
    model.fit(X, y, sslalmclassifier__sensitive_features=A)
    return MetricFrame(
        metrics={"accuracy": accuracy_score, "selection_rate": selection_rate},
        y_true=y_test,
        y_pred=model.predict(X_test),
        sensitive_features=A_test,
    )


adult = fit_and_report(
    TabularEncoder(),
    load_adult(subset="train", return_X_y=True),  # X, y, race: White / Non-White
    load_adult(subset="test", return_X_y=True),
)
print(adult.by_group)
adult.by_group.plot.bar(subplots=True, legend=False, title="Adult (test set)")

# %%
# The same code on real ACS person records
# ----------------------------------------
# The excerpts live in ``../shared/data`` beside the repository (set
# ``FAIRSK_SHARED_DATA`` to point elsewhere). The income task keeps adults with a
# known income and predicts income above 50,000 dollars.
import os
from pathlib import Path

from sklearn.model_selection import train_test_split

from fairsk.datasets import ACSFeatureEncoder, load_pums_income

here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
shared = Path(os.environ.get("FAIRSK_SHARED_DATA", here.parent.parent / "shared/data"))
excerpt = shared / "acs-excerpts" / "national2019.csv"

if excerpt.is_file():
    X, y, A = load_pums_income(excerpt, return_X_y=True)  # A: White / Non-White
    X, X_test, y, y_test, A, A_test = train_test_split(
        X, y, A, test_size=0.3, stratify=A, random_state=0
    )
    acs = fit_and_report(ACSFeatureEncoder(), (X, y, A), (X_test, y_test, A_test))
    print(acs.by_group)
    acs.by_group.plot.bar(subplots=True, legend=False, title="ACS excerpt 2019")
elif os.environ.get("CI"):
    raise FileNotFoundError(f"CI must provide the ACS excerpt {excerpt}.")
else:
    print(f"{excerpt} not found; skipping the ACS part.")
