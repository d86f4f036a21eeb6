"""The benchmark's data: load a dataset, split it as the paper does, encode it.

Protocol (Kliachkin et al. 2025): one split for every algorithm and seed, 80/20,
stratified on group x label (the paper stratifies on group; adding the label keeps
the base rates too), seed 42; the encoder (standardised numbers, one-hot codes) is
fit on the training rows only. ``max_train`` / ``max_test`` then draw a stratified
subsample of each side (the default run uses a training subset so that the fairlearn
reductions, which refit their base learner dozens of times, stay fast).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

__all__ = ["BenchmarkData", "DataError", "DatasetSpec", "load_benchmark_data"]

DATASETS = ("adult", "acs-income", "pums")


class DataError(RuntimeError):
    """The dataset could not be loaded or split; the message says why.

    Examples
    --------
    >>> try:
    ...     load_benchmark_data(DatasetSpec(name="pums", pums_csv="no-such.csv"))
    ... except DataError as exc:
    ...     print("no-such.csv" in str(exc))
    True
    """


@dataclass(frozen=True)
class DatasetSpec:
    """What to load and how to split it (everything that changes the data).

    Parameters
    ----------
    name : {"adult", "acs-income", "pums"}
        The embedded UCI Adult, folktables' ACSIncome, or an income task on a PUMS
        CSV (``pums_csv``).
    groups : str
        Sensitive features (:class:`~fairsk.datasets.SensitiveFeatureBuilder`'s
        ``group``: ``race_binary``, ``race``, ``sex``, ``sex_race`` or column names
        joined by commas).

    Examples
    --------
    >>> spec = DatasetSpec(max_train=500)
    >>> spec.describe()
    'UCI Adult (embedded)'
    >>> spec.key() == DatasetSpec(max_train=500, data_home="/elsewhere").key()
    True
    >>> spec.key() == DatasetSpec(max_train=1000).key()  # other data, other runs
    False
    """

    name: str = "adult"
    groups: str = "race_binary"
    min_group_size: int | None = None
    drop_sensitive: bool = False
    states: tuple[str, ...] = ("OK",)
    year: int = 2018
    data_home: str | None = None
    download: bool = True
    pums_csv: str | None = None
    test_size: float = 0.2
    split_seed: int = 42
    max_train: int | None = 8_000
    max_test: int | None = None

    def key(self) -> str:
        """Short hash of the fields that change the data (not where it lives)."""
        fields = asdict(self)
        fields.pop("data_home")
        fields.pop("download")
        if self.name != "acs-income":
            fields.pop("states")
            fields.pop("year")
        text = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:8]

    def describe(self) -> str:
        """One line naming the dataset."""
        if self.name == "adult":
            return "UCI Adult (embedded)"
        if self.name == "acs-income":
            return f"ACSIncome {self.year} 1-Year, {'+'.join(self.states)} (folktables)"
        return f"PUMS income task on {self.pums_csv}"


@dataclass
class BenchmarkData:
    """Encoded train and test sets, shared by every run of a benchmark.

    Made by :func:`load_benchmark_data`: float32 features, 0/1 labels, group labels
    as strings.

    Examples
    --------
    >>> data = load_benchmark_data(DatasetSpec(max_train=300, max_test=200))
    >>> data.X_train.dtype, sorted(set(data.y_train.tolist())), data.A_train.dtype.kind
    (dtype('float32'), [0, 1], 'U')
    >>> summary = data.summary()
    >>> summary["n_train"], summary["n_test"], sorted(summary["groups"])
    (300, 200, ['Non-White', 'White'])
    """

    spec: DatasetSpec
    X_train: np.ndarray
    y_train: np.ndarray
    A_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    A_test: np.ndarray
    feature_names: list[str]
    n_rows: int
    groups: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Identifies the data (see :meth:`DatasetSpec.key`)."""
        return self.spec.key()

    def summary(self) -> dict:
        """Sizes, groups and base rates, for the report."""
        return {
            "dataset": self.spec.describe(),
            "groups_by": self.spec.groups,
            "n_rows": int(self.n_rows),
            "n_train": int(self.X_train.shape[0]),
            "n_test": int(self.X_test.shape[0]),
            "n_features": int(self.X_train.shape[1]),
            "groups": {
                str(g): int((self.A_train == g).sum()) for g in sorted(self.groups)
            },
            "positive_rate_train": float(self.y_train.mean()),
        }


def _group_arg(groups: str):
    parts = [g.strip() for g in groups.split(",") if g.strip()]
    return parts[0] if len(parts) == 1 else parts


def _load(spec: DatasetSpec):
    from ..datasets import (
        ACSFeatureEncoder,
        TabularEncoder,
        get_data_home,
        load_acs,
        load_adult,
        load_pums_income,
    )

    common = {
        "group": _group_arg(spec.groups),
        "min_group_size": spec.min_group_size,
        "drop_sensitive": spec.drop_sensitive,
        "return_X_y": True,
    }
    if spec.name == "adult":
        X, y, A = load_adult(subset="all", **common)
        return X, y, A, TabularEncoder()
    if spec.name == "acs-income":
        # --data-home means what FAIRSK_DATA means: ACS files live in <it>/acs.
        root = None if spec.data_home is None else get_data_home(spec.data_home)
        X, y, A = load_acs(
            "income",
            list(spec.states),
            spec.year,
            root=None if root is None else root / "acs",
            download=spec.download,
            **common,
        )
        return X, y, A, ACSFeatureEncoder()
    if spec.name == "pums":
        X, y, A = load_pums_income(spec.pums_csv, **common)
        return X, y, A, ACSFeatureEncoder()
    raise DataError(f"Unknown dataset {spec.name!r}; expected one of {DATASETS}.")


def _stratified_split(index, strata, size, seed, what):
    try:
        return train_test_split(
            index, train_size=size, stratify=strata[index], random_state=seed
        )
    except ValueError as exc:
        raise DataError(
            f"Cannot draw a stratified {what} (group x label): {exc} Use larger "
            "sizes, coarser groups, or --min-group-size."
        ) from exc


def load_benchmark_data(spec: DatasetSpec) -> BenchmarkData:
    """Load, split and encode the dataset of ``spec``.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset and its split.

    Returns
    -------
    BenchmarkData
        float32 features, 0/1 int labels, group labels as strings.

    Raises
    ------
    DataError
        The data could not be read, downloaded, or split; the message says why.

    Examples
    --------
    >>> data = load_benchmark_data(DatasetSpec(max_train=500, max_test=200))
    >>> data.X_train.shape[0], data.X_test.shape[0], sorted(data.groups)
    (500, 200, ['Non-White', 'White'])
    """
    try:
        X, y, A, encoder = _load(spec)
    except (OSError, ValueError, KeyError) as exc:
        # FileNotFoundError / ACSDownloadError carry instructions worth showing.
        raise DataError(f"{type(exc).__name__}: {exc}") from exc
    y = np.asarray(y).astype(np.int64)
    A = np.asarray(A).astype(str)
    strata = np.char.add(np.char.add(A, "|"), y.astype(str))
    index = np.arange(len(y))
    train, test = _stratified_split(
        index, strata, 1 - spec.test_size, spec.split_seed, "80/20 split"
    )
    if spec.max_train is not None and spec.max_train < len(train):
        train, _ = _stratified_split(
            train, strata, spec.max_train, spec.split_seed, "training subset"
        )
    if spec.max_test is not None and spec.max_test < len(test):
        test, _ = _stratified_split(
            test, strata, spec.max_test, spec.split_seed, "test subset"
        )
    train, test = np.sort(train), np.sort(test)
    X = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    try:
        encoder.fit(X.iloc[train])
        X_train = np.asarray(encoder.transform(X.iloc[train]), dtype=np.float32)
        X_test = np.asarray(encoder.transform(X.iloc[test]), dtype=np.float32)
    except ValueError as exc:
        raise DataError(f"Cannot encode the features: {exc}") from exc
    return BenchmarkData(
        spec=spec,
        X_train=X_train,
        y_train=y[train],
        A_train=A[train],
        X_test=X_test,
        y_test=y[test],
        A_test=A[test],
        feature_names=[str(f) for f in encoder.get_feature_names_out()],
        n_rows=len(y),
        groups=sorted(set(A[train].tolist())),
    )
