"""
skorch callbacks and your own network
=====================================

A fairsk classifier trains on skorch's own loop, so skorch's callbacks work as
they do on a skorch net, and any PyTorch module that returns one logit per row can
be the network. Here: a network with batch norm and dropout, trained by SSL-ALM
under a demographic-parity bound on UCI Adult, with validation rows, an
``EpochScoring`` of the validation accuracy, ``GradientNormClipping``, and an
``EarlyStopping`` that watches the *validation* demographic-parity gap.
"""

# %%
# The network and the callbacks
# -----------------------------
# ``module=`` takes a class (built with the ``module__*`` arguments, and with
# ``n_features`` when it takes one) or an instance. Name a callback to tune it in
# a grid search: ``callbacks__stop__patience``.
import os

import matplotlib.pyplot as plt
from skorch.callbacks import EarlyStopping, EpochScoring, GradientNormClipping
from torch import nn

from fairsk import SSLALMClassifier
from fairsk.datasets import TabularEncoder, load_adult

quick = os.environ.get("FAIRSK_EXAMPLES_QUICK") == "1"


class Net(nn.Module):
    """Two hidden layers with batch norm and dropout; one logit per row."""

    def __init__(self, n_features, width=64, dropout=0.2):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, width),
            nn.BatchNorm1d(width),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(width, width // 2),
            nn.ReLU(),
            nn.Linear(width // 2, 1),
        )

    def forward(self, X):
        return self.layers(X)


X, y, A = load_adult(subset="train", return_X_y=True)
if quick:
    X, y, A = X[:6000], y[:6000], A[:6000]
X = TabularEncoder().fit_transform(X)

clf = SSLALMClassifier(
    constraint="demographic_parity",
    bound=0.03,
    module=Net,
    module__width=32 if quick else 64,
    validation_fraction=0.2,
    max_epochs=6 if quick else 25,
    random_state=0,
    callbacks=[
        ("valid_accuracy", EpochScoring("accuracy", name="valid_accuracy")),
        ("clip", GradientNormClipping(gradient_clip_value=5.0)),
        (
            "stop",
            EarlyStopping(monitor="valid_demographic_parity", patience=5),
        ),
    ],
)
clf.fit(X, y, sensitive_features=A)

# %%
# What the history holds
# ----------------------
# skorch's keys (``train_loss``, ``valid_loss``, ``valid_accuracy``, ``dur``) sit
# beside fairsk's: each constraint on the training rows and on the validation rows
# (``demographic_parity``, ``valid_demographic_parity``), the multipliers, the
# margins. ``multipliers_`` holds the final multipliers, ``loss_curve_`` the
# training loss, as in ``MLPClassifier``.
hist = clf.history_
epochs = hist[:, "epoch"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.plot(epochs, clf.loss_curve_, label="train loss")
ax1.plot(epochs, hist[:, "valid_loss"], label="validation loss")
ax1.plot(epochs, hist[:, "valid_accuracy"], label="validation accuracy")
ax1.set_xlabel("epoch")
ax1.legend()
ax2.plot(epochs, hist[:, "demographic_parity"], label="train")
ax2.plot(epochs, hist[:, "valid_demographic_parity"], label="validation")
ax2.axhline(clf.bound, color="k", ls="--", lw=1, label="bound")
ax2.set_xlabel("epoch")
ax2.set_ylabel("demographic-parity gap")
ax2.legend()
fig.tight_layout()
print(clf.multipliers_.round(3))
