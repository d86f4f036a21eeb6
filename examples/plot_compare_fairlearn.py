"""
fairsk beside fairlearn's ExponentiatedGradient and ThresholdOptimizer
======================================================================

The same demographic-parity bounds, three ways: fairsk trains a neural network
under the constraint (SSL-ALM); fairlearn's
:class:`~fairlearn.reductions.ExponentiatedGradient` reweights a logistic
regression into a randomised ensemble; its
:class:`~fairlearn.postprocessing.ThresholdOptimizer` picks group-specific
thresholds for a fitted logistic regression. One point per model on the test set
of UCI Adult: up and left is better.
"""

# %%
import os

import matplotlib.pyplot as plt
from fairlearn.metrics import demographic_parity_difference
from fairlearn.postprocessing import ThresholdOptimizer
from fairlearn.reductions import DemographicParity, ExponentiatedGradient
from sklearn.linear_model import LogisticRegression

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.datasets import TabularEncoder, load_adult

quick = os.environ.get("FAIRSK_EXAMPLES_QUICK") == "1"
X, y, A = load_adult(subset="train", return_X_y=True)
X_test, y_test, A_test = load_adult(subset="test", return_X_y=True)
y_test = y_test.to_numpy()
if quick:  # fewer rows and bounds; 5 epochs of 12,000 rows is ~1,000 steps
    X, y, A = X[:12000], y[:12000], A[:12000]
encoder = TabularEncoder().fit(X)  # float64: fairlearn 0.15 with pandas 3 needs it
X, X_test = (encoder.transform(Z).astype("float64") for Z in (X, X_test))
epochs, bounds = (5, [0.01, 0.05]) if quick else (20, [0.005, 0.01, 0.02, 0.05])
logreg = LogisticRegression(max_iter=1000)
fairsk_params = dict(constraint="demographic_parity", max_epochs=epochs, random_state=0)


def models(bound):
    """Every method at one bound (unfitted)."""
    return {
        "fairsk SSL-ALM": SSLALMClassifier(bound=bound, **fairsk_params),
        "ExponentiatedGradient": ExponentiatedGradient(
            logreg, DemographicParity(difference_bound=bound)
        ),
        "ThresholdOptimizer": ThresholdOptimizer(
            estimator=logreg, tol=bound, predict_method="predict_proba"
        ),
    }


def evaluate(model):
    """Test demographic parity difference and accuracy (randomised ones seeded)."""
    if isinstance(model, ThresholdOptimizer):
        pred = model.predict(X_test, sensitive_features=A_test, random_state=0)
    elif isinstance(model, ExponentiatedGradient):
        pred = model.predict(X_test, random_state=0)
    else:
        pred = model.predict(X_test)
    dpd = demographic_parity_difference(y_test, pred, sensitive_features=A_test)
    return dpd, (pred == y_test).mean()


points = {}
for bound in bounds:
    for name, model in models(bound).items():
        model.fit(X, y, sensitive_features=A)
        points.setdefault(name, []).append(evaluate(model))
unconstrained = UnconstrainedClassifier(**fairsk_params).fit(X, y)
points["fairsk unconstrained"] = [evaluate(unconstrained)]
points["LogisticRegression"] = [evaluate(logreg.fit(X, y))]

# %%
# The accuracy--fairness plane
# ----------------------------
fig, ax = plt.subplots(figsize=(7, 4.5))
for (name, pts), marker in zip(points.items(), "osD^v", strict=True):
    x, acc = zip(*pts, strict=True)
    ax.plot(x, acc, marker=marker, ls="-" if len(pts) > 1 else "", label=name)
for bound in bounds:
    ax.axvline(bound, c="gray", ls=":", lw=1)
ax.set(xlabel="demographic parity difference (test)", ylabel="accuracy (test)")
ax.set_title("UCI Adult, one point per bound (dotted lines)")
ax.legend(fontsize=8)
