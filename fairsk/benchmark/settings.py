"""Every setting of a benchmark, declared once: :class:`DatasetSpec`, :class:`Settings`.

Each field carries its command-line flag and help (``metadata["cli"]``): the
``fairsk benchmark`` parser is built from them, and :meth:`Settings.check`
validates them for the command line and Python alike. :data:`PRESETS` holds named
sets of values (``--preset paper``, the paper's protocol).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from fairsk.constraints import CONSTRAINTS

from .registry import algorithm_names, default_algorithms, family, our_estimators

__all__ = ["PRESETS", "DatasetSpec", "Settings"]

DATASETS = ("adult", "acs-income", "pums", "csv")


def opt(default, flags, group, help=None, **cli):
    """Declare a field and its option; a callable ``default`` is a default factory."""
    flags = (flags,) if isinstance(flags, str) else flags
    meta = {"cli": {"flags": flags, "group": group, "help": help, **cli}}
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


#: What a value of each kind (a field's ``cli["type"]``) must be; None always passes.
RULES = {
    "positive_int": ("a positive integer", lambda v: isinstance(v, int) and v > 0),
    "positive_float": ("a positive number", lambda v: 0 < v < math.inf),
    "fraction": ("a number in (0, 1)", lambda v: 0 < v < 1),
    "bound": ("a non-negative number (a bound)", lambda v: 0 <= v < math.inf),
    "seeds": ("a non-negative integer", lambda v: isinstance(v, int) and v >= 0),
}
RULES |= dict.fromkeys(("size", "batch"), RULES["positive_int"])  # N|all, N|default

_SOURCE = "adult: UCI Adult, embedded; acs-income: folktables' ACSIncome; pums: "
_SOURCE += "an income task on --pums-csv; csv: any table, --csv"


@dataclass(frozen=True)
class DatasetSpec:
    """What data, and how it is split and encoded (everything that changes it).

    Examples
    --------
    >>> spec = DatasetSpec(max_train=500)
    >>> spec.describe(), spec.key() == DatasetSpec(max_train=500, data_home="x").key()
    ('UCI Adult (embedded)', True)
    >>> DatasetSpec(name="csv", csv="/data/people.csv", target="y").describe()
    'people.csv (target y)'
    """

    # fmt: off
    name: str = opt("adult", (), "data", _SOURCE, nargs="?", choices=DATASETS)
    states: tuple = opt(("OK",), "--states", "data", "acs-income: states", nargs="+")
    year: int = opt(2018, "--year", "data", "acs-income: survey year", type=int)
    data_home: str | None = opt(None, "--data-home", "data", "acs-income: data "
                                "folder, as $FAIRSK_DATA", metavar="PATH")
    download: bool = opt(True, "--no-download", "data", "acs-income: placed files "
                         "only", action="store_const", const=False)
    pums_csv: str | None = opt(None, "--pums-csv", "data", "a PUMS person CSV",
                               metavar="FILE")
    csv: str | None = opt(None, "--csv", "data", "any CSV table", metavar="FILE")
    target: str | None = opt(None, "--target", "data", "csv: the label column",
                             metavar="COL")
    sensitive: str | None = opt(None, "--sensitive", "data", "csv: group column(s), "
                                "joined by commas", metavar="COL")
    positive: str | None = opt(None, "--positive", "data", "csv: the positive label "
                               "(default: the larger of two)", metavar="VALUE")
    groups: str = opt("race_binary", "--groups", "data", "race_binary, race, sex, "
                      "sex_race or column names (adult, acs-income, pums)")
    min_group_size: int | None = opt(None, "--min-group-size", "data",
                                     type="positive_int")
    drop_sensitive: bool = opt(False, "--drop-sensitive", "data", "no group columns "
                               "in the features", action="store_const", const=True)
    test_size: float = opt(0.2, "--test-size", "data", type="fraction")
    split_seed: int = opt(42, "--split-seed", "data", type=int)
    stratify: str = opt("group_label", "--stratify", "data", "split strata (the "
                        "paper: group)", choices=("group_label", "group"))
    max_train: int | None = opt(8_000, "--max-train", "data", "training subsample "
                                "('all': none)", type="size", metavar="N|all")
    max_test: int | None = opt(None, "--max-test", "data", type="size", metavar="N|all")
    encoding: str = opt("auto", "--encoding", "data", "auto: one-hot categories; "
                        "standard: every column a number, scaled (the paper)",
                        choices=("auto", "standard"))
    # fmt: on

    def key(self) -> str:
        """Short hash of the fields that change the data (not where it lives)."""
        where = {"data_home", "download"}
        drop = where if self.name == "acs-income" else where | {"states", "year"}
        data = {k: v for k, v in asdict(self).items() if k not in drop}
        for name in ("pums_csv", "csv"):  # the file, not its folder
            data[name] = data[name] and Path(data[name]).name
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:8]

    def describe(self) -> str:
        """One line naming the data set (file names without their folders)."""
        if self.name == "adult":
            return "UCI Adult (embedded)"
        if self.name == "acs-income":
            return f"ACSIncome {self.year} 1-Year, {'+'.join(self.states)} (folktables)"
        if self.name == "pums":
            return f"PUMS income task on {Path(self.pums_csv or '?').name}"
        return f"{Path(self.csv or '?').name} (target {self.target})"


# fmt: off
_PAPER = {"confidence": None, "average": None, "lr_schedule": "constant",
          "alpha": 0.0, "constraint_batch_size": None}
_ALM = {"lr": 0.01, "dual_lr": 0.05, "penalty": 1.0, "multiplier_max": 10.0}
#: Named settings for ``--preset``; "paper" is Kliachkin et al.'s protocol.
PRESETS: dict[str, dict] = {
    "paper": {
        "dataset": {"name": "acs-income", "states": ("OK",), "year": 2018,
                    "drop_sensitive": True, "max_train": None, "stratify": "group",
                    "encoding": "standard"},
        "algorithms": ["sslalm", "alm", "ssg", "ghost", "penalty", "sgd"],
        "seeds": list(range(10)), "constraint": "loss_gap", "bounds": [0.005],
        "seconds": 30.0, "y_metric": "auc_m",
        "params": {
            "sslalm": {**_PAPER, **_ALM, "smoothing": 2.0, "anchor_rate": 0.5,
                       "batch_size": 8},
            "alm": {**_PAPER, **_ALM, "batch_size": 8},
            "ssg": {**_PAPER, "tolerance": 1e-4, "lr": 0.5, "constraint_lr": 0.05,
                    "batch_size": 16, "tolerance_decay": 0.97,
                    "tolerance_decay_after": 800},
            "ghost": {**_PAPER, "level_probability": 0.4, "max_level": 20,
                      "direction_bound": 10.0, "lr": 0.05, "step_decay": 0.05,
                      "feasibility_radius": 0.8, "feasibility_mix": 0.5,
                      "proximal_weight": 1.0, "batch_size": 8},
            "penalty": {**_PAPER, "penalty_weight": 0.5, "lr": 0.005, "batch_size": 8},
            "sgd": {**_PAPER, "lr": 0.005, "batch_size": 8},
        },
    },
}

#: Estimator parameters the benchmark sets itself (not through ``params``).
RESERVED = {"constraint": "--constraint", "bound": "--bound", "pairing": "--pairing",
            "random_state": "--seeds", "max_epochs": "--epochs / --seconds",
            "device": "--device", "warm_start": None,
            "verbose": None, "sensitive_features": None}
_PROXIES = ("demographic_parity", "equalized_odds", "equal_opportunity",
            "error_rate_parity", "none")
# fmt: on


@dataclass
class Settings:
    """Everything a benchmark needs; ``fairsk benchmark``'s options are its fields.

    Examples
    --------
    >>> settings = Settings(algorithms=["sslalm", "gs-logreg"], bounds=[0.01, 0.02])
    >>> settings.budget(), settings.seeds, Settings(seconds=30).budget()
    ('default epochs', [0, 1, 2], '30 s of training')
    >>> Settings(constraint="x/../../escaped").check()
    Traceback (most recent call last):
    ...
    ValueError: unknown constraint 'x/../../escaped'; choose from loss_gap, ...
    """

    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    # fmt: off
    preset: str | None = opt(None, "--preset", "budget", "paper: the paper's "
                             "protocol (the docs say how)", choices=tuple(PRESETS))
    constraint: str = opt("loss_gap", "--constraint", "constraint", "one of "
                          f"{', '.join(CONSTRAINTS)} (the paper's: loss_gap)",
                          choices=tuple(CONSTRAINTS), metavar="NAME")
    bounds: list = opt(lambda: [0.005], ("--bound", "--bounds"), "constraint",  # noqa: RUF009
                       "bound(s), several give a sweep (default 0.005)",
                       nargs="+", type="bound", metavar="B")
    pairing: str = opt("auto", "--pairing", "constraint",
                       choices=("auto", "one_vs_mean", "one_vs_each"))
    proxy: str | None = opt("demographic_parity", "--fairlearn-proxy", "constraint",
                            "fairlearn's stand-in for loss_gap: "
                            f"{', '.join(_PROXIES[:-1])} or none (skip fairlearn)",
                            choices=_PROXIES, metavar="NAME")
    algorithms: list = opt(default_algorithms, "--algorithms", "budget", "names, or "  # noqa: RUF009
                           "ours, fairlearn, all (default: ours and fairlearn)",
                           nargs="+", metavar="NAME")
    seeds: list = opt(lambda: [0, 1, 2], "--seeds", "budget", "training seeds, or "  # noqa: RUF009
                      "ranges like 0-9 (default 0 1 2)", nargs="+", type="seeds",
                      metavar="S")
    epochs: int | None = opt(None, "--epochs", "budget", "epochs per fairsk run "
                             "(default: each classifier's)", type="positive_int",
                             mutex="budget")
    seconds: float | None = opt(None, "--seconds", "budget", "training seconds per "
                                "fairsk run (checked after each step)",
                                type="positive_float", mutex="budget")
    batch_size: int | None = opt(None, "--batch-size", "budget", "minibatch of every "
                                 "fairsk run", type="batch", metavar="N|default")
    params: dict = opt(dict, "--param", "budget", "one algorithm's parameter ('*': "  # noqa: RUF009
                       "every fairsk one), e.g. sslalm.dual_lr=0.1", action="append",
                       type="param", metavar="NAME.PARAM=VALUE")
    fairlearn_every_seed: bool = opt(False, "--fairlearn-every-seed", "budget",
                                     "repeat fairlearn's deterministic runs",
                                     action="store_const", const=True)
    threshold: float = opt(0.5, "--threshold", "budget", type="fraction")
    device: str = opt("auto", "--device", "budget", "auto, cpu, cuda, cuda:1, mps")
    y_metric: str = opt("accuracy", "--y-metric", "output", "vertical axis of the "
                        "frontier figure", choices=("accuracy", "auc_m"))
    group_bound: float | None = opt(None, "--group-bound", "output", "bound of the "
                                    "groups figure (default: the first)",
                                    type="bound", metavar="B")
    n_jobs: int = opt(-1, "--n-jobs", "output", "parallel runs (-1: one per core)",
                      type=int)
    threads: int | None = opt(None, "--threads", "output", "threads per run",
                              type="positive_int")
    dask_scheduler: str | None = opt(None, "--dask-scheduler", "output", "run on "
                                     "this dask.distributed scheduler",
                                     metavar="ADDRESS")
    output: str = opt("fairsk-results", ("-o", "--output"), "output", metavar="DIR")
    resume: bool = opt(True, "--no-resume", "output", "rerun finished runs too",
                       action="store_const", const=False)
    plots: bool = opt(True, "--no-plots", "output", action="store_const", const=False)
    quiet: bool = opt(False, ("-q", "--quiet"), "output", "no progress output",
                      action="store_const", const=True)
    command: str = ""
    # fmt: on

    def as_dict(self) -> dict:
        """JSON-able settings."""
        return asdict(self)

    def budget(self) -> str:
        """Describe the per-run budget of fairsk classifiers."""
        from .runs import describe_budget

        return describe_budget(self.epochs, self.seconds)

    def check(self) -> Settings:
        """Raise a ValueError naming the first invalid setting; return self."""
        for owner in (self.dataset, self):
            for f in cli_fields(type(owner)):
                cli, value = f.metadata["cli"], getattr(owner, f.name)
                if value is None or cli.get("type") not in RULES:
                    continue  # unset (None always passes), or a kind without a rule
                what, ok = RULES[cli["type"]]
                items = value if isinstance(value, list | tuple | range) else [value]
                bad = [x for x in items if not ok(x)]
                if bad:
                    flag = cli["flags"][0]
                    raise ValueError(f"{flag}: expected {what}, got {bad[0]!r}")
        names, d = algorithm_names(), self.dataset
        # fmt: off
        rules = [
            (self.constraint in CONSTRAINTS, f"unknown constraint "
             f"{self.constraint!r}; choose from {', '.join(CONSTRAINTS)}"),
            (self.algorithms and self.seeds and self.bounds,
             "a benchmark needs algorithms, seeds and bounds"),
            *((n in names, f"unknown algorithm {n!r}; choose from {', '.join(names)} "
               "(or ours, fairlearn, all)") for n in self.algorithms),
            (not self.constraint.endswith("_ratio") or max(self.bounds, default=0) <= 1,
             f"{self.constraint} takes ratio bounds in [0, 1]"),
            (self.epochs is None or self.seconds is None,
             "give epochs or seconds, not both"),
            (self.n_jobs != 0, "--n-jobs 0 is not a number of workers; use 1+ or -1"),
            (self.dask_scheduler is None or self.n_jobs in (-1, 1),
             "--n-jobs and --dask-scheduler exclude each other"),
            (self.group_bound is None or self.group_bound in self.bounds,
             f"--group-bound {self.group_bound} is not one of the bounds"),
            (d.name in DATASETS, f"unknown dataset {d.name!r}; choose from {DATASETS}"),
            (d.pums_csv is None or d.name == "pums",
             f"--pums-csv gives the pums dataset, not {d.name!r}"),
            (d.csv is None or d.name == "csv",
             f"--csv gives the csv dataset, not {d.name!r}"),
            (d.name != "pums" or d.pums_csv, "the pums dataset needs --pums-csv FILE"),
            (d.name != "csv" or (d.csv and d.target and d.sensitive),
             "a CSV data set needs --csv FILE --target COL --sensitive COL"),
        ]
        # fmt: on
        for ok, message in rules:
            if not ok:
                raise ValueError(message)
        for name, own in self.params.items():
            known = algorithm_parameters(name) if name in self.algorithms else set()
            for key in own:
                if name not in self.algorithms:
                    error = f"{name!r} is not among the selected algorithms"
                elif key not in known:
                    options = ", ".join(sorted(k for k in known if "__" not in k))
                    error = f"{name} has no parameter {key!r}; it has {options}"
                elif key in RESERVED:
                    use = f" (use {RESERVED[key]})" if RESERVED[key] else ""
                    error = f"{key!r} is set by the benchmark{use}"
                else:
                    continue
                raise ValueError(f"--param {name}.{key}: {error}")
        return self


def algorithm_parameters(name: str) -> set[str]:
    """Return the parameters of algorithm ``name``'s estimator (its get_params)."""
    from .baselines import build_baseline

    if family(name) == "fairlearn":
        return set(build_baseline(name, "demographic_parity", 0.01, 0)[0].get_params())
    return set(our_estimators()[name]().get_params())


def cli_fields(cls) -> list:
    """Return the fields of ``cls`` that declare a command-line option."""
    return [f for f in fields(cls) if "cli" in f.metadata]
