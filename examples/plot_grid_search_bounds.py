"""
Grid search over bounds, with fairness scorers
==============================================

Which bound should the constraint have? Cross-validate several, score each
candidate on held-out folds for accuracy *and* for the disparity it was meant to
bound, then refit the most accurate candidate whose held-out disparity stays within
its bound, with :func:`fairsk.model_selection.feasible_refit`.

With scikit-learn's metadata routing on, ``search.fit(X, y, sensitive_features=A)``
hands each fold's groups to the classifier (it requests them by default) and to the
fairness scorer of :mod:`fairsk.scorers`.
"""

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd
import sklearn
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from fairsk import SSLALMClassifier
from fairsk.datasets import TabularEncoder, load_adult
from fairsk.model_selection import feasible_refit
from fairsk.scorers import demographic_parity_difference_scorer

quick = os.environ.get("FAIRSK_EXAMPLES_QUICK") == "1"
sklearn.set_config(enable_metadata_routing=True)

X, y, A = load_adult(subset="train", return_X_y=True)
if quick:  # fewer rows: 8 epochs of 8,000 training rows per fold, ~1,000 steps
    X, y, A = X[:12000], y[:12000], A[:12000]

pipe = make_pipeline(
    TabularEncoder(),
    SSLALMClassifier(
        constraint="demographic_parity", max_epochs=8 if quick else 20, random_state=0
    ),
)
bounds = [0.01, 0.03, 0.1]
search = GridSearchCV(
    pipe,
    {"sslalmclassifier__bound": bounds},
    scoring={"accuracy": "accuracy", "fairness": demographic_parity_difference_scorer},
    refit=feasible_refit(fairness="fairness", score="accuracy"),
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
)
search.fit(X, y, sensitive_features=A)
print("chosen:", search.best_params_)

# %%
# Every candidate on the held-out folds. The scorer returns the *negated*
# disparity (scikit-learn maximises scores), so it is flipped back here.
res = search.cv_results_
table = pd.DataFrame(
    {
        "bound": bounds,
        "accuracy": res["mean_test_accuracy"],
        "disparity": -res["mean_test_fairness"],
    }
)
print(table.round(3).to_string(index=False))

# %%
# Circled: the candidate refitted, the most accurate one within its own bound.
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(table["disparity"], table["accuracy"], "o")
for bound, disparity, accuracy in table[["bound", "disparity", "accuracy"]].values:
    ax.annotate(f"  bound {bound:g}", (disparity, accuracy))
best = table.iloc[search.best_index_]
ax.plot(best["disparity"], best["accuracy"], "o", ms=16, mfc="none", mec="r")
ax.set(xlabel="held-out demographic parity difference", ylabel="held-out accuracy")
ax.set_title("Candidates of the grid search")
sklearn.set_config(enable_metadata_routing=False)  # back to scikit-learn's default
