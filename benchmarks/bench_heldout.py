"""Does the loss-gap bound hold on next year's people? (issue: held-out feasibility)

Train on ACS national2019 with the non-White rows subsampled to 10% (about 950
training rows in the small group; 5 subsampling seeds), evaluate on all of
national2018. SSLALMClassifier, loss_gap bound 0.005, its defaults except
``validation_fraction=0.1`` (which gives the validation report); the
UnconstrainedClassifier is trained the same way. Prints, per seed: the train gap,
the validation gap with its 95% bootstrap interval, the national2018 gap, and the
AUCs; then the means. Usage: ``python benchmarks/bench_heldout.py`` (~1 minute).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from fairsk import SSLALMClassifier, UnconstrainedClassifier
from fairsk.datasets import ACSFeatureEncoder, load_pums_income
from fairsk.metrics import loss_gap

DATA = Path(
    os.environ.get(
        "FAIRSK_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


def experiment(seeds=range(5), data: Path = DATA) -> list[dict]:
    X19, y19, A19 = load_pums_income(
        data / "acs-excerpts" / "national2019.csv", return_X_y=True
    )
    X18, y18, A18 = load_pums_income(
        data / "acs-excerpts" / "national2018.csv", return_X_y=True
    )
    y19, A19, y18, A18 = map(np.asarray, (y19, A19, y18, A18))
    enc = ACSFeatureEncoder().fit(X19)
    E19, E18 = enc.transform(X19), enc.transform(X18)
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        keep = (A19 == "White") | (rng.random(len(A19)) < 0.1)
        X, y, A = E19[keep], y19[keep], A19[keep]
        kw = {"validation_fraction": 0.1, "random_state": seed}
        fair = SSLALMClassifier(constraint="loss_gap", bound=0.005, **kw).fit(
            X, y, sensitive_features=A
        )
        free = UnconstrainedClassifier(**kw).fit(X, y, sensitive_features=A)
        p, p18 = fair.predict_proba(X)[:, 1], fair.predict_proba(E18)[:, 1]
        val = fair.validation_report_.iloc[0]
        gap18 = loss_gap(y18, p18, sensitive_features=A18)
        rows.append(
            {
                "seed": seed,
                "small_group_rows": int((A != "White").sum()),
                "train": loss_gap(y, p, sensitive_features=A),
                "valid": val.value,
                "valid_low": val.ci_low,
                "valid_high": val.ci_high,
                "n2018": gap18,
                "covered": bool(val.ci_low <= gap18 <= val.ci_high),
                "auc": roc_auc_score(y18, p18),
                "auc_unconstrained": roc_auc_score(y18, free.predict_proba(E18)[:, 1]),
            }
        )
    return rows


def main() -> int:
    rows = experiment()
    print(
        f"{'seed':>4} {'rows':>5} {'train':>7} {'valid [95% CI]':>24} "
        f"{'2018':>7} {'AUC':>6} {'AUC unc':>7}"
    )
    for r in rows:
        ci = f"{r['valid']:.4f} [{r['valid_low']:.4f}, {r['valid_high']:.4f}]"
        mark = "" if r["covered"] else "  (not covered)"
        print(
            f"{r['seed']:>4} {r['small_group_rows']:>5} {r['train']:7.4f} {ci:>24} "
            f"{r['n2018']:7.4f} {r['auc']:6.4f} {r['auc_unconstrained']:7.4f}{mark}"
        )
    g18 = np.array([r["n2018"] for r in rows])
    auc_gap = np.mean([r["auc_unconstrained"] - r["auc"] for r in rows])
    print(
        f"\nnational2018 |dL|: mean {g18.mean():.4f}, std {g18.std():.4f}; "
        f"AUC below unconstrained by {auc_gap:.4f}; "
        f"interval covers 2018 in {sum(r['covered'] for r in rows)}/{len(rows)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
