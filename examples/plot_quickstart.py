"""
Quickstart: a fair income classifier on UCI Adult
=================================================

Train an MLP under a demographic-parity constraint inside a scikit-learn
:class:`~sklearn.pipeline.Pipeline`, next to the same network trained without one,
and compare accuracy and selection rate per group with fairlearn's
:class:`~fairlearn.metrics.MetricFrame`. Adult ships with fairsk: no download.
"""

# %%
# Data and models
# ---------------
# ``load_adult`` returns the features, the target (income above 50K) and the
# sensitive features (race: ``"White"`` / ``"Non-White"``). The encoder standardises
# numbers and one-hot encodes categories. A classifier takes the groups as
# ``sensitive_features`` in ``fit``; through a Pipeline, as
# ``<step>__sensitive_features``. The unconstrained classifier only *monitors* the
# constraint it is given.
import os

import matplotlib.pyplot as plt
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.datasets import TabularEncoder, load_adult

epochs = 3 if os.environ.get("FAIRSK_EXAMPLES_QUICK") == "1" else 20
X, y, A = load_adult(subset="train", return_X_y=True)
X_test, y_test, A_test = load_adult(subset="test", return_X_y=True)

common = dict(constraint="demographic_parity", max_epochs=epochs, random_state=0)
models = {
    "unconstrained": UnconstrainedClassifier(**common),
    "SSL-ALM": SSLALMClassifier(bound=0.02, **common),
}
frames = {}
for name, clf in models.items():
    model = make_pipeline(TabularEncoder(), clf)
    model.fit(X, y, **{f"{model.steps[-1][0]}__sensitive_features": A})
    frames[name] = MetricFrame(
        metrics={"accuracy": accuracy_score, "selection rate": selection_rate},
        y_true=y_test,
        y_pred=model.predict(X_test),
        sensitive_features=A_test,
    )
    gap = frames[name].difference()["selection rate"]
    print(f"{name}: accuracy {frames[name].overall['accuracy']:.3f}, gap {gap:.3f}")

# %%
# Results
# -------
# Left: selection rate per group on the test set. Right: the constraint's value on
# the whole training set after each epoch (``history_`` records it under the
# constraint's name; the returned model averages the weights of the late epochs,
# recorded as ``avg_demographic_parity``), the bound dashed.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
rates = pd.DataFrame({n: f.by_group["selection rate"] for n, f in frames.items()})
rates.T.plot.bar(ax=left, rot=0, title="Selection rate per group (test)")
for name, clf in models.items():
    right.plot(clf.history_[:, "demographic_parity"], marker="o", label=name)
right.axhline(0.02, ls="--", c="k", label="bound")
right.set(xlabel="epoch", ylabel="selection-rate gap (train)", title="Training")
right.legend()
fig.tight_layout()
