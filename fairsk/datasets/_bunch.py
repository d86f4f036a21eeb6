"""What every loader returns: a Bunch, or ``(X, y, sensitive_features)``."""

from __future__ import annotations

import pandas as pd
from sklearn.utils import Bunch

from ._encoders import SensitiveFeatureBuilder


def finish_loader(
    X: pd.DataFrame,
    y: pd.Series,
    source: pd.DataFrame,
    *,
    group,
    min_group_size: int | None,
    drop_sensitive: bool,
    return_X_y: bool,
    as_frame: bool,
    descr: str,
    **extra,
):
    """Build the sensitive features from ``source`` and package X, y and them.

    ``source`` is the filtered table X was taken from (same rows, same order); it
    holds the race / sex columns even when X does not.
    """
    builder = SensitiveFeatureBuilder(
        group, min_group_size=min_group_size, drop=drop_sensitive
    ).fit(source)
    sensitive = builder.sensitive_features(source).reset_index(drop=True)
    X = X.reset_index(drop=True)
    if drop_sensitive:
        X = X.drop(columns=[c for c in builder.columns_ if c in X.columns])
    y = y.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(y):
        y = y.astype("int64")
    feature_names = [str(c) for c in X.columns]
    target_name = str(y.name)
    frame = pd.concat([X, y], axis=1) if as_frame else None
    if not as_frame:
        X, y, sensitive = X.to_numpy(), y.to_numpy(), sensitive.to_numpy()
    if return_X_y:
        return X, y, sensitive
    return Bunch(
        data=X,
        target=y,
        sensitive_features=sensitive,
        frame=frame,
        feature_names=feature_names,
        target_names=[target_name],
        DESCR=descr,
        **extra,
    )
