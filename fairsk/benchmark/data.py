"""The benchmark's data: load a data set, split it as the paper does, encode it.

One split for every algorithm and seed: 80/20, stratified on group x label (the
paper stratifies on group: ``stratify="group"``), seed 42; the encoder is fit on
the training rows only. ``max_train`` / ``max_test`` then draw a stratified
subsample of each side (the default run uses 8,000 training rows so that
fairlearn's reductions, which refit their base learner many times, stay fast).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .settings import DatasetSpec

__all__ = ["BenchmarkData", "DataError", "DatasetSpec", "load_benchmark_data"]


class DataError(RuntimeError):
    """The data set could not be loaded or split; the message says why.

    Examples
    --------
    >>> try:
    ...     load_benchmark_data(DatasetSpec(name="pums", pums_csv="no-such.csv"))
    ... except DataError as exc:
    ...     print("no-such.csv" in str(exc))
    True
    """


@dataclass
class BenchmarkData:
    """Encoded train and test sets, shared by every run of a benchmark.

    Examples
    --------
    >>> data = load_benchmark_data(DatasetSpec(max_train=300, max_test=200))
    >>> data.X_train.dtype, sorted(set(data.y_train.tolist())), data.A_train.dtype.kind
    (dtype('float32'), [0, 1], 'U')
    >>> data.summary()["n_train"], sorted(data.summary()["groups"])
    (300, ['Non-White', 'White'])
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
    positive: str = "1"

    @property
    def key(self) -> str:
        """Identifies the data (see :meth:`DatasetSpec.key`)."""
        return self.spec.key()

    def summary(self) -> dict:
        """Sizes, groups and base rates, for the report."""
        return {
            "dataset": self.spec.describe(),
            "groups_by": self.spec.sensitive or self.spec.groups,
            "n_rows": int(self.n_rows),
            "n_train": int(self.X_train.shape[0]),
            "n_test": int(self.X_test.shape[0]),
            "n_features": int(self.X_train.shape[1]),
            "groups": {str(g): int((self.A_train == g).sum()) for g in self.groups},
            "positive_class": self.positive,
            "positive_rate_train": float(self.y_train.mean()),
        }


def _read_csv(spec: DatasetSpec, common: dict):
    from ..datasets import TabularEncoder
    from ..datasets._bunch import finish_loader

    frame = pd.read_csv(spec.csv)
    columns = [c.strip() for c in spec.sensitive.split(",") if c.strip()]
    for role, names in (("--target", [spec.target]), ("--sensitive", columns)):
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise DataError(
                f"{role}: column {missing[0]!r} is not in {spec.csv}; its columns "
                f"are {', '.join(map(str, frame.columns))}"
            )
    frame = frame[frame[spec.target].notna()].reset_index(drop=True)
    labels = frame[spec.target].astype(str)
    unique = labels.unique()
    numbers = pd.to_numeric(pd.Series(unique), errors="coerce")
    order = np.argsort(numbers if numbers.notna().all() else unique)
    values = list(unique[order])  # numbers by value, text alphabetically
    positive = spec.positive
    if positive is None:
        if len(values) != 2:
            raise DataError(
                f"--target {spec.target} has {len(values)} values "
                f"({', '.join(values[:6])}{'...' if len(values) > 6 else ''}); "
                "name the positive class with --positive VALUE"
            )
        positive = values[-1]
    elif positive not in values:
        raise DataError(
            f"--positive {positive!r} is not a value of {spec.target} "
            f"({', '.join(values[:6])})"
        )
    y = pd.Series((labels == positive).astype(np.int64), name=spec.target)
    X = frame.drop(columns=[spec.target])
    group = columns if len(columns) > 1 else columns[0]
    common = {**common, "group": group, "as_frame": True, "descr": ""}
    return (*finish_loader(X, y, frame, **common), TabularEncoder(), positive)


def _load(spec: DatasetSpec):
    from ..datasets import (
        ACSFeatureEncoder,
        TabularEncoder,
        get_data_home,
        load_acs,
        load_adult,
        load_pums_income,
    )

    parts = [g.strip() for g in spec.groups.split(",") if g.strip()]
    common = {
        "group": parts[0] if len(parts) == 1 else parts,
        "min_group_size": spec.min_group_size,
        "drop_sensitive": spec.drop_sensitive,
        "return_X_y": True,
    }
    if spec.name == "adult":
        return (*load_adult(subset="all", **common), TabularEncoder(), ">50K")
    if spec.name == "pums":
        X, y, A = load_pums_income(spec.pums_csv, **common)
    elif spec.name == "acs-income":
        home = None if spec.data_home is None else get_data_home(spec.data_home) / "acs"
        states = list(spec.states)
        X, y, A = load_acs(
            "income", states, spec.year, download=spec.download, root=home, **common
        )
    else:
        return _read_csv(spec, common)
    return X, y, A, ACSFeatureEncoder(), "PINCP > 50000"


def _standard_encoder():
    """Every column as a number, missing as 0, standardised (folktables' way)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    def to_numbers(X):
        frame = X.apply(pd.to_numeric, errors="coerce") if hasattr(X, "apply") else X
        return np.nan_to_num(np.asarray(frame, dtype=np.float64))

    return make_pipeline(
        FunctionTransformer(to_numbers, feature_names_out="one-to-one"),
        StandardScaler(),
    )


def _split(index, strata, size, seed, what="subset"):
    """Stratified split of ``index`` (a subset of None or >= all rows keeps all)."""
    if what == "subset" and (size is None or size >= len(index)):
        return index, index[:0]
    try:
        return train_test_split(
            index, train_size=size, stratify=strata[index], random_state=seed
        )
    except ValueError as exc:
        raise DataError(
            f"Cannot draw a stratified {what}: {exc} Use larger sizes, coarser "
            "groups, or --min-group-size."
        ) from exc


def load_benchmark_data(spec: DatasetSpec) -> BenchmarkData:
    """Load, split and encode the data set of ``spec``.

    Raises :class:`DataError` when it cannot be read, downloaded, split or encoded.

    Examples
    --------
    >>> data = load_benchmark_data(DatasetSpec(max_train=500, max_test=200))
    >>> data.X_train.shape[0], data.X_test.shape[0], sorted(data.groups)
    (500, 200, ['Non-White', 'White'])
    """
    try:
        X, y, A, encoder, positive = _load(spec)
    except (OSError, ValueError, KeyError) as exc:
        # FileNotFoundError / ACSDownloadError carry instructions worth showing.
        raise DataError(f"{type(exc).__name__}: {exc}") from exc
    if spec.encoding == "standard":
        encoder = _standard_encoder()
    y = np.asarray(y).astype(np.int64)
    A = np.asarray(A).astype(str)
    label = np.char.add("|", y.astype(str))
    strata = A if spec.stratify == "group" else np.char.add(A, label)
    seed = spec.split_seed
    train, test = _split(np.arange(len(y)), strata, 1 - spec.test_size, seed, "split")
    train = np.sort(_split(train, strata, spec.max_train, seed)[0])
    test = np.sort(_split(test, strata, spec.max_test, seed)[0])
    try:
        encoder.fit(X.iloc[train])
        X_train = np.asarray(encoder.transform(X.iloc[train]), dtype=np.float32)
        X_test = np.asarray(encoder.transform(X.iloc[test]), dtype=np.float32)
    except ValueError as exc:
        raise DataError(f"Cannot encode the features: {exc}") from exc
    train_set, test_set = (X_train, y[train], A[train]), (X_test, y[test], A[test])
    return BenchmarkData(
        spec,
        *train_set,
        *test_set,
        feature_names=[str(f) for f in encoder.get_feature_names_out()],
        n_rows=len(y),
        groups=sorted(set(A[train].tolist())),
        positive=str(positive),
    )
