"""Transformers for tabular census data: feature encoders, a sensitive-feature builder.

The encoders are thin: they decide which column is numeric and which categorical, and
compose scikit-learn's ``ColumnTransformer``, ``OneHotEncoder`` / ``OrdinalEncoder``,
``SimpleImputer`` and ``StandardScaler``.
Missing values are kept explicit (a ``missing`` category, or a ``<column>_missing``
indicator next to an imputed numeric column) rather than silently turned into a code,
as folktables' ``np.nan_to_num`` does (it maps NaN to 0).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ..groups import merge_small_groups
from ._pums_codes import (
    CATEGORICAL,
    GROUPED,
    MISSING_LABEL,
    NUMERIC,
    RAC1P_LABELS,
    SEX_LABELS,
    UNKNOWN_LABEL,
    major_category,
)

__all__ = ["ACSFeatureEncoder", "SensitiveFeatureBuilder", "TabularEncoder"]


# --- picklable helpers for FunctionTransformer (module level: no lambdas) ---------


def _as_labels(column: pd.Series) -> np.ndarray:
    """Return a column's values as text labels; missing values become ``"missing"``.

    Integral numbers lose their ``.0`` (PUMS codes are read as floats when a column
    has missing values), so the one-hot feature names read ``COW_1``, not ``COW_1.0``.
    """
    missing = pd.isna(column).to_numpy()
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        filled = np.where(missing, 0.0, values)
        integral = np.isfinite(filled) & (filled == np.round(filled))
        labels = np.where(
            integral,
            np.round(np.where(integral, filled, 0.0)).astype(np.int64).astype(str),
            filled.astype(str),
        ).astype(object)
    else:
        labels = column.astype(object).map(str).to_numpy(dtype=object)
    labels[missing] = MISSING_LABEL
    return labels


def _categorical_labels(X) -> pd.DataFrame:
    """Turn every column into text labels (see :func:`_as_labels`)."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    return pd.DataFrame(
        {col: _as_labels(frame[col]) for col in frame.columns}, index=frame.index
    )


def _major_categories(X) -> pd.DataFrame:
    """Replace OCCP / INDP / POBP codes by their major group (see ``_pums_codes``)."""
    return pd.DataFrame(
        {col: major_category(col, X[col].to_numpy()) for col in X.columns},
        index=X.index,
    )


def _missing_mask(X) -> np.ndarray:
    """Return 1.0 where a value is missing, else 0.0."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    return frame.isna().to_numpy(dtype=np.float64)


def _missing_feature_names(transformer, input_features) -> np.ndarray:
    """Name the indicator of column ``c`` ``c_missing``."""
    return np.asarray([f"{name}_missing" for name in input_features], dtype=object)


def _natural_order(labels: pd.Series, groups=None) -> list[str]:
    """Order the categories seen: numbers, table order or text; ``missing`` last.

    Numbers when all labels are, the group table's order for grouped codes, else
    text order; ``unknown`` and ``missing`` come last. So one-hot columns read
    COW_1, COW_2, ..., COW_10 and ordinal codes follow the codes' order, not the
    text order ("1" < "10" < "2").
    """
    seen = pd.unique(labels.to_numpy(dtype=object))
    special = [v for v in (UNKNOWN_LABEL, MISSING_LABEL) if v in set(seen)]
    regular = [v for v in seen if v not in set(special)]
    if groups is not None:
        rank = {label: i for i, (_, label) in enumerate(groups)}
        regular.sort(key=lambda v: rank.get(v, len(rank)))
    else:
        numbers = pd.to_numeric(pd.Series(regular, dtype=object), errors="coerce")
        if numbers.notna().all():
            regular = [
                regular[i] for i in np.argsort(numbers.to_numpy(), kind="stable")
            ]
        else:
            regular.sort(key=str)
    return [*regular, *special]


def _text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its column names as text (``0`` becomes ``"0"``).

    scikit-learn records feature names only when every name is a string; with
    integer names the inner encoders would number their inputs ``x0, x1, ...``
    while the ColumnTransformer names them by position, and
    ``get_feature_names_out`` failed. The data are not copied (copy-on-write).
    """
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    names = [str(c) for c in frame.columns]
    if len(set(names)) < len(names):
        raise ValueError(
            f"Column names {list(frame.columns)} repeat once written as text; "
            "give the columns distinct names."
        )
    return frame.set_axis(names, axis=1)


def _one_to_one(func) -> FunctionTransformer:
    return FunctionTransformer(func, feature_names_out="one-to-one")


def _to_numeric(X) -> np.ndarray:
    """Return the columns as float64 (``pd.NA`` and ``None`` become NaN)."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    return frame.apply(pd.to_numeric, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


class _PowerOfTwoScaler(TransformerMixin, BaseEstimator):
    """Divide each column by the power of two just above its largest magnitude.

    Placed before :class:`~sklearn.preprocessing.StandardScaler`, whose variance
    squares the values: a finite 1e200 overflows float64 there and turns the
    whole column into NaN. Scaling by a power of two is exact, and
    standardising is invariant to scale, so ordinary columns come out bit for
    bit as before and huge ones come out standardised.
    """

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            top = np.max(np.abs(X), axis=0, initial=0.0) if X.size else np.zeros(1)
        top = np.where(np.isfinite(top) & (top > 0), top, 1.0)
        self.exponent_ = np.frexp(top)[1]
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return np.ldexp(np.asarray(X, dtype=np.float64), -self.exponent_)

    def get_feature_names_out(self, input_features=None):
        return _check_feature_names_in(self, input_features)


# --- the encoders --------------------------------------------------------------


class _BaseTabularEncoder(TransformerMixin, BaseEstimator):
    """Shared fit / transform of the tabular encoders.

    Subclasses decide, in ``_column_kinds``, which columns are numeric, categorical,
    grouped into major categories, or dropped.
    """

    _parameter_constraints: ClassVar[dict] = {
        "encoding": [StrOptions({"onehot", "ordinal"})],
        "scale_numeric": ["boolean"],
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="neither"),
            None,
        ],
    }

    def _column_kinds(self, X: pd.DataFrame) -> dict[str, list]:
        raise NotImplementedError

    def _check_input(self, X, *, reset: bool) -> pd.DataFrame:
        """Validate X and return it as a DataFrame (named or numbered columns)."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[0] == 0:
                raise ValueError("Found array with 0 sample(s); at least 1 is needed.")
            return _text_columns(X)
        if not self._accepts_arrays:
            raise TypeError(
                f"{type(self).__name__} needs a pandas DataFrame whose columns are "
                f"named as in PUMS (AGEP, SEX, ...), got {type(X).__name__}."
            )
        X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
        validate_data(self, X, skip_check_array=True, reset=reset)
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        # An object array of numbers is numeric data, not text (sklearn's checks
        # pass numbers that way); only columns that stay non-numeric are categorical.
        return frame.infer_objects()

    _accepts_arrays = True

    def _categorical_encoder(self, categories: list[list[str]]):
        if self.encoding == "onehot":
            return OneHotEncoder(
                categories=categories,
                handle_unknown=(
                    "infrequent_if_exist"
                    if self.min_frequency is not None
                    else "ignore"
                ),
                min_frequency=self.min_frequency,
                sparse_output=False,
                dtype=np.float64,
            )
        return OrdinalEncoder(
            categories=categories,
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            min_frequency=self.min_frequency,
            dtype=np.float64,
        )

    def _build(self, X: pd.DataFrame, kinds: dict[str, list]) -> ColumnTransformer:
        steps = []
        numeric = kinds["numeric"]
        if numeric:
            num_steps = [
                ("to_float", _one_to_one(_to_numeric)),
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ]
            if self.scale_numeric:
                num_steps.append(("magnitude", _PowerOfTwoScaler()))
                num_steps.append(("scale", StandardScaler()))
            steps.append(("numeric", Pipeline(num_steps), numeric))
            with_missing = [c for c in numeric if X[c].isna().any()]
            if with_missing:
                indicator = FunctionTransformer(
                    _missing_mask, feature_names_out=_missing_feature_names
                )
                steps.append(("missing", indicator, with_missing))
        if kinds["grouped"]:
            labels = _major_categories(X[kinds["grouped"]])
            categories = [_natural_order(labels[c], GROUPED[c]) for c in labels]
            grouped = Pipeline(
                [
                    ("major", _one_to_one(_major_categories)),
                    ("encode", self._categorical_encoder(categories)),
                ]
            )
            steps.append(("grouped", grouped, kinds["grouped"]))
        if kinds["categorical"]:
            labels = _categorical_labels(X[kinds["categorical"]])
            categories = [_natural_order(labels[c]) for c in labels]
            categorical = Pipeline(
                [
                    ("labels", _one_to_one(_categorical_labels)),
                    ("encode", self._categorical_encoder(categories)),
                ]
            )
            steps.append(("categorical", categorical, kinds["categorical"]))
        if not steps:
            raise ValueError("No column left to encode.")
        return ColumnTransformer(
            steps, remainder="drop", sparse_threshold=0, verbose_feature_names_out=False
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the columns' kinds, categories, medians and scales.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            The features.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted encoder.
        """
        frame = self._check_input(X, reset=True)
        kinds = self._column_kinds(frame)
        self.numeric_features_ = list(kinds["numeric"])
        self.categorical_features_ = list(kinds["categorical"])
        self.grouped_features_ = list(kinds["grouped"])
        self.dropped_features_ = list(kinds["drop"])
        self.column_transformer_ = self._build(frame, kinds).fit(frame)
        return self

    def transform(self, X) -> np.ndarray:
        """Encode X.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            Same columns as in ``fit``.

        Returns
        -------
        X_out : numpy.ndarray of shape (n_samples, n_features_out), float64
            Or a DataFrame after ``set_output(transform="pandas")``.
        """
        check_is_fitted(self)
        frame = self._check_input(X, reset=False)
        out = self.column_transformer_.transform(frame)
        return np.asarray(out, dtype=np.float64)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Must match ``feature_names_in_`` when given.

        Returns
        -------
        feature_names_out : numpy.ndarray of str
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        return self.column_transformer_.get_feature_names_out()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


class TabularEncoder(_BaseTabularEncoder):
    """Encode a table by dtype: one-hot (or ordinal) text columns, scale numbers.

    Columns of a numeric dtype are imputed with their median, standardised, and
    get a ``<column>_missing`` indicator when they had missing values in ``fit``;
    the other columns (text, category, boolean) are one-hot (or ordinal) encoded with
    missing values as their own ``"missing"`` category. This is the encoder for
    :func:`~fairsk.datasets.load_adult`'s features; any DataFrame or numeric array
    works.

    Parameters
    ----------
    categorical_features : "auto" or list of str, default="auto"
        Columns to treat as categorical. ``"auto"``: every column whose dtype is not
        numeric (booleans count as categorical).
    encoding : {"onehot", "ordinal"}, default="onehot"
        How categorical columns are encoded; unseen categories in ``transform`` give
        all zeros (one-hot) or -1 (ordinal).
    scale_numeric : bool, default=True
        Standardise numeric columns after imputation.
    min_frequency : int, float or None, default=None
        Categories rarer than this in ``fit`` are merged into one "infrequent"
        category (see :class:`~sklearn.preprocessing.OneHotEncoder`).

    Attributes
    ----------
    numeric_features_ : list of str
        Columns encoded as numbers.
    categorical_features_ : list of str
        Columns encoded as categories.
    grouped_features_ : list of str
        Always empty (shared with :class:`ACSFeatureEncoder`).
    dropped_features_ : list of str
        Always empty (shared with :class:`ACSFeatureEncoder`).
    column_transformer_ : sklearn.compose.ColumnTransformer
        The fitted transformer doing the work.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : numpy.ndarray of str
        Input column names, when X was a DataFrame with string column names.

    See Also
    --------
    ACSFeatureEncoder : The same for ACS PUMS columns, by their meaning.
    SensitiveFeatureBuilder : Group labels from the race and sex columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairsk.datasets import TabularEncoder
    >>> X = pd.DataFrame({"age": [25.0, None, 40.0], "job": ["a", "b", None]})
    >>> enc = TabularEncoder().fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['age', 'age_missing', 'job_a', 'job_b', 'job_missing']
    >>> enc.transform(X).round(2)
    array([[-1.22,  0.  ,  1.  ,  0.  ,  0.  ],
           [ 0.  ,  1.  ,  0.  ,  1.  ,  0.  ],
           [ 1.22,  0.  ,  0.  ,  0.  ,  1.  ]])
    """

    _parameter_constraints: ClassVar[dict] = {
        **_BaseTabularEncoder._parameter_constraints,
        "categorical_features": [StrOptions({"auto"}), list],
    }

    def __init__(
        self,
        categorical_features: str | list = "auto",
        *,
        encoding: str = "onehot",
        scale_numeric: bool = True,
        min_frequency: float | None = None,
    ):
        self.categorical_features = categorical_features
        self.encoding = encoding
        self.scale_numeric = scale_numeric
        self.min_frequency = min_frequency

    def _column_kinds(self, X: pd.DataFrame) -> dict[str, list]:
        columns = list(X.columns)
        if isinstance(self.categorical_features, str):
            categorical = [
                c
                for c in columns
                if pd.api.types.is_bool_dtype(X[c])
                or not pd.api.types.is_numeric_dtype(X[c])
            ]
        else:
            # Columns are named as text (see _text_columns): so are these.
            wanted = {str(c) for c in self.categorical_features}
            absent = [c for c in self.categorical_features if str(c) not in columns]
            if absent:
                raise ValueError(f"categorical_features {absent} are not columns of X.")
            categorical = [c for c in columns if c in wanted]
        numeric = [c for c in columns if c not in set(categorical)]
        return {
            "numeric": numeric,
            "categorical": categorical,
            "grouped": [],
            "drop": [],
        }


class ACSFeatureEncoder(_BaseTabularEncoder):
    """Encode ACS PUMS person columns by what their codes mean.

    Knows which PUMS variables are categorical codes (COW, MAR, RELP, SEX, RAC1P,
    SCHL, MSP, HISP, ...) and which are quantities (AGEP, WKHP, PINCP, NOC, ...); the
    tables are in ``fairsk.datasets._pums_codes`` and follow the Census Bureau's PUMS
    data dictionary. It encodes whichever of these columns X holds:

    - categorical codes are one-hot (or ordinal) encoded; a missing code (``N`` /
      empty in the CSV: "not applicable", e.g. COW of a child) is its own category
      ``missing``;
    - the high-cardinality codes OCCP, INDP and POBP are first replaced by their
      official major group (occupation and industry groups as prefixed in the data
      dictionary, continents for place of birth) when ``group_high_cardinality``;
    - numeric columns are median-imputed, standardised, and get a
      ``<column>_missing`` indicator when they had missing values in ``fit``.

    Parameters
    ----------
    encoding : {"onehot", "ordinal"}, default="onehot"
        How categorical codes are encoded; unseen codes in ``transform`` give all
        zeros (one-hot) or -1 (ordinal).
    scale_numeric : bool, default=True
        Standardise numeric columns after imputation.
    group_high_cardinality : bool, default=True
        Map OCCP, INDP and POBP to their major groups before encoding. With
        ``False`` they are encoded code by code (hundreds of columns).
    unknown_columns : {"error", "numeric", "categorical", "drop"}, default="error"
        What to do with a column that is not a known PUMS variable: raise a
        ``ValueError`` naming it, encode it as a number, as a category, or drop it.
    min_frequency : int, float or None, default=None
        Categories rarer than this in ``fit`` are merged into one "infrequent"
        category (see :class:`~sklearn.preprocessing.OneHotEncoder`).

    Attributes
    ----------
    numeric_features_ : list of str
        Columns encoded as numbers.
    categorical_features_ : list of str
        Columns encoded code by code.
    grouped_features_ : list of str
        Columns encoded by major group.
    dropped_features_ : list of str
        Unknown columns dropped (``unknown_columns="drop"``).
    column_transformer_ : sklearn.compose.ColumnTransformer
        The fitted transformer doing the work.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : numpy.ndarray of str
        Input column names.

    See Also
    --------
    TabularEncoder : Encoding by dtype, for any table.
    SensitiveFeatureBuilder : Group labels from RAC1P and SEX.

    Notes
    -----
    The encoder needs a DataFrame with PUMS column names, so scikit-learn's
    ``check_estimator`` (which feeds unnamed numeric arrays) does not apply to it;
    :class:`TabularEncoder`, which shares its code, passes it.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from fairsk.datasets import ACSFeatureEncoder
    >>> X = pd.DataFrame({
    ...     "AGEP": [30, 45, 61],
    ...     "SEX": [1, 2, 2],
    ...     "COW": [1.0, np.nan, 3.0],
    ...     "OCCP": [1021.0, 4720.0, np.nan],
    ... })
    >>> enc = ACSFeatureEncoder().fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['AGEP', 'OCCP_CMM', 'OCCP_SAL', 'OCCP_missing', 'SEX_1', 'SEX_2', 'COW_1',
     'COW_3', 'COW_missing']
    >>> enc.transform(X).shape
    (3, 9)
    """

    _parameter_constraints: ClassVar[dict] = {
        **_BaseTabularEncoder._parameter_constraints,
        "group_high_cardinality": ["boolean"],
        "unknown_columns": [StrOptions({"error", "numeric", "categorical", "drop"})],
    }

    _accepts_arrays = False

    def __init__(
        self,
        *,
        encoding: str = "onehot",
        scale_numeric: bool = True,
        group_high_cardinality: bool = True,
        unknown_columns: str = "error",
        min_frequency: float | None = None,
    ):
        self.encoding = encoding
        self.scale_numeric = scale_numeric
        self.group_high_cardinality = group_high_cardinality
        self.unknown_columns = unknown_columns
        self.min_frequency = min_frequency

    def _column_kinds(self, X: pd.DataFrame) -> dict[str, list]:
        kinds: dict[str, list] = {k: [] for k in ("numeric", "categorical", "grouped")}
        kinds["drop"] = []
        unknown = []
        for col in X.columns:
            if col in GROUPED and self.group_high_cardinality:
                kinds["grouped"].append(col)
            elif col in CATEGORICAL:
                kinds["categorical"].append(col)
            elif col in NUMERIC:
                kinds["numeric"].append(col)
            else:
                unknown.append(col)
        if unknown and self.unknown_columns == "error":
            raise ValueError(
                f"Columns {unknown} are not PUMS variables that ACSFeatureEncoder "
                "knows. Drop them, or set unknown_columns to 'numeric', "
                "'categorical' or 'drop'."
            )
        if unknown:
            key = {"numeric": "numeric", "categorical": "categorical"}.get(
                self.unknown_columns, "drop"
            )
            kinds[key].extend(unknown)
        return kinds


# --- sensitive features ----------------------------------------------------------

_GROUPINGS = ("race_binary", "race", "sex", "sex_race")

#: Where each attribute is found: a PUMS code column with its labels, or a column
#: that already holds text labels (UCI Adult).
_SOURCES: dict[str, tuple[tuple[str, dict | None], ...]] = {
    "race": (("RAC1P", RAC1P_LABELS), ("race", None)),
    "sex": (("SEX", SEX_LABELS), ("sex", None)),
}

WHITE, NON_WHITE = "White", "Non-White"


def _column_labels(column: pd.Series, labels: dict | None) -> pd.Series:
    """Return text labels for a column: decoded PUMS codes, or its values as text.

    Missing values become ``"missing"``; codes without a label keep their number.
    """
    values = column.reset_index(drop=True)
    text = pd.Series(_as_labels(values), dtype=object)
    if labels is not None:
        numbers = pd.to_numeric(values, errors="coerce")
        decoded = numbers.map(lambda v: labels.get(v) if pd.notna(v) else None)
        text = decoded.where(decoded.notna(), text).astype(object)
    return text


class SensitiveFeatureBuilder(TransformerMixin, BaseEstimator):
    """Build sensitive-feature labels from race / sex columns, and drop them from X.

    Reads the PUMS codes RAC1P and SEX (decoded to names such as ``"White"``,
    ``"Female"``) or, when those are absent, UCI Adult's text columns ``race`` and
    ``sex``. ``sensitive_features(X)`` returns one label per row, the 1-D form every
    fairsk estimator and fairlearn's ``MetricFrame`` accept; ``transform(X)`` returns
    X, without the columns used when ``drop=True``.

    Parameters
    ----------
    group : str or list of str, default="race_binary"
        ``"race_binary"``: ``"White"`` vs ``"Non-White"``; ``"race"``: the race
        categories; ``"sex"``: ``"Male"`` / ``"Female"``; ``"sex_race"``: their
        intersection, labels such as ``"Female, Black"``. Any other string (or list
        of strings) names columns of X whose values are used as they are (several
        columns joined with ``", "``).
    min_group_size : int or None, default=None
        Groups with fewer rows in ``fit`` are merged into one group ``"other"``
        (with a warning naming them, see :func:`fairsk.groups.merge_small_groups`).
    drop : bool, default=False
        Whether ``transform`` removes the columns the labels were built from.
        Dropping them does not remove proxies (place of birth, relationship, ...).

    Attributes
    ----------
    columns_ : list of str
        The columns of X the labels are built from.
    groups_ : list
        The group labels seen in ``fit`` after merging, sorted.
    counts_ : dict
        Number of rows of each group in ``fit``.
    merged_ : list
        Labels merged into ``"other"``.
    n_features_in_ : int
        Number of columns of X in ``fit``.
    feature_names_in_ : numpy.ndarray of str
        Column names of X in ``fit``.

    See Also
    --------
    fairsk.groups.GroupEncoder : Integer group codes, as the estimators use them.

    Notes
    -----
    Needs a DataFrame with named columns, so scikit-learn's ``check_estimator``
    does not apply to it. Missing values in a source column become the label
    ``"missing"``; labels not seen in ``fit`` are returned as they are.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairsk.datasets import SensitiveFeatureBuilder
    >>> X = pd.DataFrame({"AGEP": [30, 40, 50], "SEX": [1, 2, 2], "RAC1P": [1, 2, 6]})
    >>> builder = SensitiveFeatureBuilder("sex_race", drop=True).fit(X)
    >>> builder.sensitive_features(X).tolist()
    ['Male, White', 'Female, Black', 'Female, Asian']
    >>> builder.transform(X).columns.tolist()
    ['AGEP']
    >>> SensitiveFeatureBuilder().fit(X).sensitive_features(X).tolist()
    ['White', 'Non-White', 'Non-White']
    """

    _parameter_constraints: ClassVar[dict] = {
        "group": [str, list],
        "min_group_size": [Interval(Integral, 1, None, closed="left"), None],
        "drop": ["boolean"],
    }

    def __init__(
        self,
        group: str | list[str] = "race_binary",
        *,
        min_group_size: int | None = None,
        drop: bool = False,
    ):
        self.group = group
        self.min_group_size = min_group_size
        self.drop = drop

    def _source(self, X: pd.DataFrame, attribute: str) -> tuple[str, dict | None]:
        for column, labels in _SOURCES[attribute]:
            if column in X.columns:
                return column, labels
        names = " or ".join(repr(c) for c, _ in _SOURCES[attribute])
        raise ValueError(
            f"group={self.group!r} needs a {attribute} column ({names}); X has "
            f"{list(X.columns)[:20]}."
        )

    def _raw_labels(self, X: pd.DataFrame) -> tuple[pd.Series, list[str]]:
        """Return the labels before merging, and the columns they come from."""
        group = self.group
        if isinstance(group, str) and group in _GROUPINGS:
            attributes = {"race_binary": ["race"], "race": ["race"], "sex": ["sex"]}
            attributes["sex_race"] = ["sex", "race"]
            parts, columns = [], []
            for attribute in attributes[group]:
                column, labels = self._source(X, attribute)
                columns.append(column)
                parts.append(_column_labels(X[column], labels))
            if group == "race_binary":
                values = parts[0].eq(WHITE).map({True: WHITE, False: NON_WHITE})
                return values.astype(object), columns
        else:
            columns = [group] if isinstance(group, str) else list(group)
            absent = [c for c in columns if c not in X.columns]
            if absent:
                raise ValueError(
                    f"group={group!r}: columns {absent} are not in X; use one of "
                    f"{list(_GROUPINGS)} or column names of X."
                )
            parts = [_column_labels(X[c], None) for c in columns]
        values = parts[0]
        for part in parts[1:]:
            values = values + ", " + part
        return values.astype(object), columns

    def _check_frame(self, X, *, reset: bool) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "SensitiveFeatureBuilder needs a pandas DataFrame with named "
                f"columns, got {type(X).__name__}."
            )
        validate_data(self, X, skip_check_array=True, reset=reset)
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the source columns and the groups (merging small ones).

        Parameters
        ----------
        X : pandas.DataFrame
            Holds the race / sex (or named) columns.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted builder.
        """
        X = self._check_frame(X, reset=True)
        labels, self.columns_ = self._raw_labels(X)
        self.merged_ = []
        if self.min_group_size is not None and self.min_group_size > 1:
            labels, self.merged_ = merge_small_groups(labels, self.min_group_size)
        counts = labels.value_counts()
        self.groups_ = sorted(counts.index.tolist(), key=str)
        self.counts_ = {g: int(counts[g]) for g in self.groups_}
        return self

    def sensitive_features(self, X) -> pd.Series:
        """Return one group label per row of X.

        Parameters
        ----------
        X : pandas.DataFrame
            Holds the columns in ``columns_``.

        Returns
        -------
        labels : pandas.Series of str
            Indexed like X, named after ``group``.
        """
        check_is_fitted(self)
        X = self._check_frame(X, reset=False)
        labels, _ = self._raw_labels(X)
        if self.merged_:
            merged = set(self.merged_)
            labels = labels.map(lambda v: "other" if v in merged else v)
        name = self.group if isinstance(self.group, str) else "_".join(self.group)
        return pd.Series(labels.to_numpy(dtype=object), index=X.index, name=name)

    def transform(self, X) -> pd.DataFrame:
        """Return X, without the source columns when ``drop=True``.

        Parameters
        ----------
        X : pandas.DataFrame
            The features.

        Returns
        -------
        X_out : pandas.DataFrame
        """
        check_is_fitted(self)
        X = self._check_frame(X, reset=False)
        return X.drop(columns=self.columns_) if self.drop else X.copy()

    def get_feature_names_out(self, input_features: Sequence[Hashable] | None = None):
        """Names of the columns ``transform`` returns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Must match ``feature_names_in_`` when given.

        Returns
        -------
        feature_names_out : numpy.ndarray of str
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        if self.drop:
            names = [n for n in names if n not in set(self.columns_)]
        return np.asarray(names, dtype=object)
