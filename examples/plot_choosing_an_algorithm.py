"""
Choosing an algorithm: a small benchmark
========================================

Every fairsk classifier, and fairlearn's ExponentiatedGradient, on one split of
UCI Adult under the paper's constraint (the loss gap :math:`|L_a - L_b| \\le 0.005`;
fairlearn runs under demographic parity at the same bound, having no loss-gap
constraint). This is ``fairsk benchmark`` run from Python, made small: one seed,
a training subset and few epochs, so the numbers are noisy. Run
``fairsk benchmark`` for the default comparison (three seeds, all of fairlearn's
baselines) and see :doc:`/benchmark` for the paper's protocol.
"""

# %%
import os
import tempfile

import matplotlib.pyplot as plt
from rich.console import Console

from fairsk.benchmark import DatasetSpec, Settings, run_benchmark

quick = os.environ.get("FAIRSK_EXAMPLES_QUICK") == "1"
# Quick mode: 4,000 training rows, one seed, one of fairlearn's baselines. Without
# it, the settings of the default ``fairsk benchmark`` (a few minutes).
small = dict(
    dataset=DatasetSpec("adult", max_train=4000, max_test=4000),
    algorithms=["sslalm", "alm", "ssg", "ghost", "penalty", "sgd", "eg-logreg"],
    seeds=[0],
    epochs=10,
    batch_size=64,
)
settings = Settings(
    **(small if quick else {}),
    n_jobs=1,
    threads=1,
    quiet=True,
    output=tempfile.mkdtemp(prefix="fairsk-benchmark-"),
)
result = run_benchmark(settings, console=Console(width=110))

# %%
# The figures the benchmark writes: accuracy against each fairness measure on the
# test set (one line per method through its bounds), the training curves
# (objective and constraint on train and test, per epoch), and each group's
# statistics per method.
for name in ("frontier.png", "curves.png", "groups.png"):
    image = plt.imread(result.files[name])
    fig = plt.figure(figsize=(10, 10 * image.shape[0] / image.shape[1]))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(image)
    ax.set_axis_off()
