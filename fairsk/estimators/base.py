"""The scikit-learn side shared by every fairsk classifier.

:class:`BaseFairClassifier` validates input the scikit-learn way (declarative
``_parameter_constraints``, :func:`~sklearn.utils.validation.validate_data`), turns
sensitive features into group codes, compiles the constraints against those groups,
moves the training set to the device and hands it to the skorch engine
(:class:`~fairsk.engine.FairNet`) with the subclass's update rule. Subclasses only
declare their hyperparameters and which :mod:`fairsk.algorithms` rule they use.
"""

from __future__ import annotations

import copy
import re
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._version import __version__
from ..constraints import (
    CONSTRAINTS,
    Constraint,
    cell_mass,
    compile_constraints,
    make_constraints,
)
from ..engine import FairNet, resolve_device, torch_threads
from ..exceptions import SmallGroupWarning
from ..feasibility import feasibility_report
from ..groups import GroupEncoder
from ..nets import ACTIVATIONS, MLP
from ..optim import LeanSGD
from ..sampling import TrainingData

__all__ = ["BaseFairClassifier", "IncompatibleVersionError"]

#: Rows per chunk when predicting (bounds device memory on big inputs).
PREDICT_CHUNK = 65536

#: Largest sparse ``X`` (rows × columns) that fit and predict densify, with a
#: DataConversionWarning: 10⁸ elements is 0.8 GB as float64 (0.4 GB as float32).
#: The network takes dense rows; a larger sparse matrix (typically a wide one-hot
#: or text encoding) raises a ValueError instead of exhausting memory.
MAX_DENSE_ELEMENTS = 10**8

#: Fewest training samples in a (group, label) cell that the constraints read
#: before fit warns (SmallGroupWarning): a statistic estimated from fewer rows has
#: a standard error of the order of 1/√n ≥ 0.3, far above any useful bound.
MIN_CELL_SAMPLES = 10

#: Largest float32, the dtype of training: a real hyperparameter above it
#: (``lr``, ``alpha``, ``dual_lr``, ...) cannot enter a float32 operation.
FLOAT32_MAX = float(np.finfo(np.float32).max)

#: Largest bound: an epoch sums constraint values and the augmented terms square
#: them, in float32; a bound of 1e18 keeps both finite (a larger bound on a rate,
#: a loss in nats or a ratio constrains nothing anyway).
MAX_BOUND = 1e18


class IncompatibleVersionError(ValueError):
    """A pickled fairsk estimator was made by another major.minor version.

    Examples
    --------
    >>> issubclass(IncompatibleVersionError, ValueError)
    True
    """


def _release(version: str | None) -> tuple[int, int] | None:
    """``(major, minor)`` of a version string, ``None`` when it has none."""
    match = re.match(r"(\d+)\.(\d+)", version or "")
    return None if match is None else (int(match[1]), int(match[2]))


class BaseFairClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit / predict logic; see the concrete classifiers for parameters.

    Examples
    --------
    Every fairsk classifier is one, and shares its fitted attributes:

    >>> import numpy as np
    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.estimators import BaseFairClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> A = rng.choice(["a", "b"], size=200)
    >>> y = (X[:, 0] + 0.5 * (A == "a") > 0).astype(int)
    >>> clf = SSLALMClassifier(bound=0.5, hidden_layer_sizes=(8,), max_epochs=2,
    ...                        random_state=0).fit(X, y, sensitive_features=A)
    >>> isinstance(clf, BaseFairClassifier)
    True
    >>> clf.groups_, clf.n_iter_, clf.predict_proba(X[:3]).shape
    (['a', 'b'], 2, (3, 2))

    A new classifier declares its update rule (``_algorithm``, a class from
    :mod:`fairsk.algorithms`) and the rule's hyperparameters; it inherits the
    parameters, validation, groups, constraints and engine:

    >>> from fairsk.algorithms import SSLALM
    >>> class NuPIClassifier(BaseFairClassifier):
    ...     _algorithm = SSLALM
    ...
    ...     def _algorithm_params(self):
    ...         return {"dual_update": "nupi", "dual_lr": 0.1}
    >>> clf = NuPIClassifier(bound=0.5, hidden_layer_sizes=(8,), max_epochs=2,
    ...                      random_state=0).fit(X, y, sensitive_features=A)
    >>> rule = clf.net_.algorithm_.dual
    >>> type(rule).__name__, rule.hp["dual_lr"], clf.predict(X[:3]).shape
    ('NuPI', 0.1, (3,))
    """

    # Routed by Pipeline / GridSearchCV with metadata routing on, no extra call.
    __metadata_request__fit = {"sensitive_features": True}

    _parameter_constraints: dict = {
        "constraint": [
            StrOptions(set(CONSTRAINTS)),
            Constraint,
            list,
        ],
        "bound": [Interval(Real, 0, None, closed="left"), list],
        "pairing": [StrOptions({"auto", "one_vs_mean", "one_vs_each"})],
        "min_group_size": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "constraint_batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "average": [Interval(Real, 0, 1, closed="left"), None],
        "confidence": [Interval(Real, 0.5, 1, closed="neither"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "select": [StrOptions({"last", "feasible"})],
        "device": [str, torch.device, None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "callbacks": [list, None],
        "verbose": ["verbose"],
    }

    #: The update rule (a class from :mod:`fairsk.algorithms`).
    _algorithm = None
    #: Whether ``fit`` requires sensitive features.
    _requires_groups = True

    def __init__(
        self,
        *,
        constraint="loss_gap",
        bound=0.005,
        pairing="auto",
        min_group_size=None,
        confidence=0.9,
        validation_fraction=None,
        select="last",
        hidden_layer_sizes=(64, 32),
        activation="relu",
        alpha=3e-3,
        lr=0.05,
        lr_schedule="cosine",
        max_epochs=20,
        batch_size=64,
        constraint_batch_size=None,
        average=0.5,
        device="auto",
        random_state=None,
        warm_start=False,
        callbacks=None,
        verbose=0,
    ):
        self.constraint = constraint
        self.bound = bound
        self.pairing = pairing
        self.min_group_size = min_group_size
        self.confidence = confidence
        self.validation_fraction = validation_fraction
        self.select = select
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.constraint_batch_size = constraint_batch_size
        self.average = average
        self.device = device
        self.random_state = random_state
        self.warm_start = warm_start
        self.callbacks = callbacks
        self.verbose = verbose

    # -- hooks for subclasses ----------------------------------------------------
    def _algorithm_params(self) -> dict:
        """Hyperparameters of the update rule, from the estimator's parameters."""
        return {}

    # -- fit ---------------------------------------------------------------------
    #: torch CPU threads in fit and predict (see fairsk.engine.torch_threads).
    _n_threads = 1

    def fit(self, X, y, sensitive_features=None, sample_weight=None):
        """Train the network under the fairness constraints.

        A fit either returns the fitted estimator or raises and leaves it
        unfitted: every fitted attribute is removed, including a previous fit's
        model (also with ``warm_start``, whose network a failure may leave half
        updated), so that ``predict`` raises NotFittedError instead of answering
        with a half-built or stale model. Ctrl-C while training is
        not a failure: training stops and fit returns (see ``interrupted_``).

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
            Training features (numeric and finite: encode categoricals and impute
            missing values upstream, e.g. with a Pipeline). A sparse matrix is
            densified with a DataConversionWarning when it has at most
            ``MAX_DENSE_ELEMENTS`` (10⁸) elements, and rejected above; after a
            fit, sparse input to ``predict`` and the like warns the first time.
        y : array-like of shape (n_samples,)
            Binary target of any label type; ``classes_`` keeps the labels.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, k)
            Group of each sample: 1-D labels of any hashable type, or several
            columns crossed into intersectional groups. Required by constrained
            classifiers. Requested by default for metadata routing.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights for the objective and the group statistics.
            Only their ratios matter: the same weights at any scale (1e-36 or
            1e36) train the same model.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        try:
            self._validate_params()
            self._check_float32_range()
            with torch_threads(self._n_threads):
                return self._fit(X, y, sensitive_features, sample_weight)
        except BaseException:
            self._forget_fit()
            raise

    def _forget_fit(self) -> None:
        """Remove every fitted attribute (names ending in ``_``): unfitted again."""
        for name in [k for k in vars(self) if k.endswith("_") and k[0] != "_"]:
            delattr(self, name)

    def _check_float32_range(self) -> None:
        """Reject a real hyperparameter that float32, training's dtype, cannot hold.

        ``_parameter_constraints`` admits any finite real for ``lr``,
        ``alpha``, ``dual_lr``, ...; above :data:`FLOAT32_MAX` torch fails deep
        inside the first step ("value cannot be converted"). Bounds are checked
        against :data:`MAX_BOUND` when the constraints are compiled.
        """
        for name, rules in self._parameter_constraints.items():
            value = getattr(self, name, None)
            real = any(isinstance(r, Interval) and r.type is Real for r in rules)
            if not real or name == "bound" or not isinstance(value, Real):
                continue
            if abs(float(value)) > FLOAT32_MAX:
                raise ValueError(
                    f"{name}={float(value):.3g} is larger than float32 can hold "
                    f"({FLOAT32_MAX:.2g}), the dtype {type(self).__name__} trains "
                    f"in; choose {name} at most {FLOAT32_MAX:.2g} (a sensible "
                    "value is many orders of magnitude smaller)."
                )

    def _fit(self, X, y, sensitive_features, sample_weight):
        incremental = bool(self.warm_start) and hasattr(self, "net_")
        self._check_hidden_layer_sizes()
        # Densifying sparse input is told once per fit and once for the
        # predictions after it. The flag lives in a list that predict mutates
        # (rather than an attribute it sets): predict leaves __dict__ as it is.
        self._sparse_told = [False]
        X, y = self._validate_X(X, y, reset=not incremental, fitting=True)
        y01 = self._encode_target(y, incremental)
        n = X.shape[0]
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if not sample_weight.sum() > 0:
                raise ValueError("sample_weight sums to zero; nothing to fit.")
        groups = self._encode_groups(sensitive_features, n, incremental)
        if self.select == "feasible" and self.validation_fraction is None:
            raise ValueError(
                "select='feasible' picks the model on a validation set; set "
                "validation_fraction (e.g. 0.2)."
            )
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        train, valid = self._split(y01, groups, rng)
        # Without a validation split every row trains: pass the arrays themselves
        # (``X[arange(n)]`` would copy the whole training set).
        rows = train if valid is not None else slice(None)
        w = None if sample_weight is None else sample_weight[rows]
        g = None if groups is None else groups[rows]
        compiled = self._compile(g, y01[rows], w, incremental)
        device = resolve_device(self.device)
        cbs = self.constraint_batch_size or self.batch_size
        data = TrainingData(X[rows], y01[rows], g, w, compiled, cbs, device)
        valid_data = None
        if valid is not None:
            vg = None if groups is None else groups[valid]
            vw = None if sample_weight is None else sample_weight[valid]
            valid_data = TrainingData(
                X[valid],
                y01[valid],
                vg,
                vw,
                self._compile_on_rows(compiled, vg, y01[valid], vw),
                None,
                device,
            )
        if not incremental:
            self.net_ = self._build_net(X.shape[1], compiled, device, seed)
        else:
            self._update_net(compiled)
        self.net_.partial_fit(
            data, epoch_mode="more" if incremental else "total", valid=valid_data
        )
        history = self.net_.history
        # Ctrl-C stops training and fit returns (skorch); the engine
        # then returns the last finished epoch's model and warns. n_iter_ counts
        # finished epochs: the last row may be the epoch the interrupt cut short
        # (every finished epoch records its train_loss, or diverged).
        self.interrupted_ = bool(self.net_.interrupted_)
        cut_short = self.interrupted_ and not (
            "train_loss" in history[-1] or history[-1].get("diverged")
        )
        self.n_iter_ = len(history) - int(cut_short)
        if not self.interrupted_:
            self._warn_single_class(data)
        selected = [i for i, h in enumerate(self.net_.history) if h.get("selected")]
        self.best_epoch_ = selected[-1] + 1 if selected else None
        self.validation_report_ = None
        if valid is not None and compiled is not None:
            self.validation_report_ = self._feasibility(
                X[valid],
                y01[valid],
                groups[valid],
                None if sample_weight is None else sample_weight[valid],
                confidence=0.95,
                n_boot=200,
                random_state=seed,
            )
        return self

    def _warn_single_class(self, data: TrainingData) -> None:
        """Warn when the fitted model predicts one class for every training row.

        A model that never predicts one of the classes on the data it was
        trained on (too few epochs, too small a step, unscaled features, or a
        bound that forces it) would otherwise pass silently; the check costs
        one forward pass over the training rows, on the device.
        """
        module = self.net_.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            positives = sum(
                int((module(data.X[i : i + PREDICT_CHUNK]) > 0).sum())
                for i in range(0, data.n, PREDICT_CHUNK)
            )
        module.train(was_training)
        if 0 < positives < data.n:
            return
        label = self.classes_[int(positives > 0)]
        warnings.warn(
            f"{type(self).__name__} predicts class {label} for all {data.n} "
            "training samples: the model has not learned to tell the classes "
            "apart. Train longer (max_epochs), raise lr, standardise the "
            "features, or loosen the bound if the constraint forces it.",
            ConvergenceWarning,
            # _warn_single_class < _fit < fit < the caller.
            stacklevel=4,
        )

    def _validate_X(self, X, y="no_validation", *, reset: bool, fitting=False):
        """``validate_data``, with sparse ``X`` densified up to a size limit.

        Returns ``X`` (and ``y`` unless it is ``"no_validation"``, as in
        scikit-learn) as validated dense float arrays. Densifying warns when
        ``fitting``, and after a fit only the first time.
        """
        kwargs = {"reset": reset, "dtype": [np.float64, np.float32]}
        kwargs["accept_sparse"] = ["csr", "csc", "coo"]
        no_y = isinstance(y, str) and y == "no_validation"
        if no_y:
            X = validate_data(self, X, **kwargs)
        else:
            X, y = validate_data(self, X, y, y_numeric=False, **kwargs)
        if sp.issparse(X):
            size = X.shape[0] * X.shape[1]
            if size > MAX_DENSE_ELEMENTS:
                raise ValueError(
                    f"X is a sparse matrix of shape {X.shape} ({size:.3g} elements); "
                    f"{type(self).__name__} densifies sparse input only up to "
                    f"{MAX_DENSE_ELEMENTS:.0e} elements (MAX_DENSE_ELEMENTS). Reduce "
                    "its dimensionality upstream, e.g. TruncatedSVD in a Pipeline, "
                    "or pass a dense array."
                )
            told = getattr(self, "_sparse_told", [False])
            if fitting or not told[0]:
                warnings.warn(
                    f"X is a sparse matrix of shape {X.shape}; "
                    f"{type(self).__name__} densifies it (the network takes dense "
                    "rows)" + ("." if fitting else "; told once until the next fit."),
                    DataConversionWarning,
                    stacklevel=3,
                )
                if not fitting:
                    told[0] = True
            X = X.toarray()
        return X if no_y else (X, y)

    def _check_hidden_layer_sizes(self) -> None:
        hidden = self.hidden_layer_sizes
        sizes = [hidden] if isinstance(hidden, Integral) else list(hidden)
        if not all(
            isinstance(h, Integral) and not isinstance(h, bool) and h >= 1
            for h in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be positive integers (the width of each "
                f"hidden layer), got {hidden!r}."
            )

    def _split(self, y01, groups, rng):
        """Training and validation rows, stratified by group and label."""
        n = len(y01)
        if self.validation_fraction is None:
            return np.arange(n), None
        strata = y01.astype(np.int64) if groups is None else groups * 2 + y01
        _, counts = np.unique(strata, return_counts=True)
        if counts.min() < 2:
            raise ValueError(
                "validation_fraction needs at least 2 samples of each label in every "
                "group to stratify the split; merge small groups (min_group_size) "
                "or set validation_fraction=None."
            )
        train, valid = train_test_split(
            np.arange(n),
            test_size=self.validation_fraction,
            stratify=strata,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
        return np.sort(train), np.sort(valid)

    def _encode_target(self, y, incremental: bool) -> np.ndarray:
        missing = pd.isna(y)
        if missing.any():
            rows = np.flatnonzero(missing)[:5].tolist()
            raise ValueError(
                f"y contains missing values (NaN/None) at rows {rows}; drop those "
                "samples or label them first."
            )
        check_classification_targets(y)
        kind = type_of_target(y, input_name="y")
        classes = np.unique(y)
        if kind not in ("binary",) or len(classes) != 2:
            if len(classes) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of 2 classes in y, but "
                    f"the data contain only one class: {classes.tolist()[0]!r}."
                )
            raise ValueError(
                "Only binary classification is supported. The type of the target "
                f"is {kind} ({len(classes)} classes); {type(self).__name__}'s "
                "fairness constraints are defined for binary outcomes."
            )
        if incremental:
            if not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"warm_start fit got classes {classes.tolist()}, but the model "
                    f"was fitted on {self.classes_.tolist()}."
                )
        else:
            self.classes_ = classes
        return (y == self.classes_[1]).astype(np.float32)

    def _encode_groups(self, sensitive_features, n, incremental):
        """Group code of every sample (``None`` when none were given)."""
        if sensitive_features is None:
            if self._requires_groups:
                raise ValueError(
                    f"{type(self).__name__}.fit needs the group of each sample: "
                    "call fit(X, y, sensitive_features=A) with A of length "
                    "n_samples. In a Pipeline pass "
                    "pipe.fit(X, y, <step>__sensitive_features=A), or enable "
                    "sklearn.set_config(enable_metadata_routing=True) and pass "
                    "sensitive_features=A."
                )
            if not incremental:
                self.group_encoder_ = None
            return None
        if incremental and self.group_encoder_ is not None:
            return self.group_encoder_.transform(sensitive_features, n)
        self.group_encoder_ = GroupEncoder(self.min_group_size)
        groups = self.group_encoder_.fit_transform(sensitive_features, n)
        names = self.group_encoder_.groups_
        if len(names) < 2:
            raise ValueError(
                f"sensitive_features has a single group ({names[0]!r}"
                + (" after merging small groups" if self.group_encoder_.merged_ else "")
                + "); fairness constraints compare at least two groups."
            )
        return groups

    @staticmethod
    def _compile_on_rows(compiled, groups, y01, sample_weight):
        """``compiled`` again on the label proportions of other rows.

        A group's statistic mixes its labels in the proportions of the rows it is
        measured on (fairlearn's definition); the validation rows' own masses make
        ``valid_*`` in ``history_`` agree with :meth:`feasibility_report` there.
        Falls back to ``compiled`` when these rows lack a (group, label) cell that
        the training rows have (the rows would not line up with training's).
        """
        if compiled is None or groups is None:
            return compiled
        n_groups = len(compiled.group_names)
        again = compiled.recompiled(cell_mass(groups, y01, n_groups, sample_weight))
        same = again.row_names == compiled.row_names and np.array_equal(
            again.cells, compiled.cells
        )
        return again if same else compiled

    def _compile(self, groups, y01, sample_weight, incremental):
        """Compile the constraints against the training groups."""
        if groups is None:
            if not incremental:
                self.constraints_, self.constraint_names_ = [], []
                self.compiled_constraints_ = None
            return None
        names = self.group_encoder_.groups_
        mass = cell_mass(groups, y01, len(names), sample_weight)
        weightless = [names[g] for g in np.flatnonzero(mass.sum(axis=1) == 0)]
        if weightless:
            # A group whose weights are all zero has no defined statistic; it would
            # otherwise enter the constraints as a statistic fixed at zero.
            raise ValueError(
                f"sample_weight is zero for every sample of group(s) {weightless}; "
                "their statistics are undefined. Give them positive weight or drop "
                "their rows."
            )
        constraints = make_constraints(self.constraint, self.bound, self.pairing)
        compiled = compile_constraints(constraints, mass, names)
        for con in compiled.constraints:
            if con.bound > MAX_BOUND:
                raise ValueError(
                    f"The bound of {con.name!r} is {con.bound:.3g}; "
                    f"{type(self).__name__} trains in float32 and accepts bounds "
                    f"of at most {MAX_BOUND:.0e} (MAX_BOUND), whose sums and "
                    "squares over an epoch stay finite. A bound this large "
                    "constrains nothing: use UnconstrainedClassifier instead."
                )
        if incremental and compiled.n_constraints != self.net_.n_constraints:
            raise ValueError(
                "warm_start fit produced a different number of constraint rows "
                f"({compiled.n_constraints} vs {self.net_.n_constraints}); refit "
                "from scratch with warm_start=False."
            )
        if self._algorithm.uses_constraints:
            self._warn_small_groups(compiled, groups, y01)
        self.groups_ = list(names)
        self.constraints_ = compiled.constraints
        self.constraint_names_ = list(compiled.row_names)
        self.compiled_constraints_ = compiled
        return compiled

    def _warn_small_groups(self, compiled, groups, y01) -> None:
        """Warn for each group with a cell the constraints read but few rows in.

        Counts training rows (weights aside) per (group, label) cell; a cell
        below :data:`MIN_CELL_SAMPLES` makes its group's statistic an estimate
        from a handful of rows.
        """
        n_groups = len(compiled.group_names)
        counts = np.zeros((n_groups, 2), dtype=np.int64)
        np.add.at(counts, (groups, y01.astype(np.int64)), 1)
        small: dict[int, list] = {}
        for g, label in compiled.cells:
            if counts[g, label] < MIN_CELL_SAMPLES:
                small.setdefault(int(g), []).append(int(label))
        for g, labels in small.items():
            cells = ", ".join(
                f"{counts[g, lab]} with label {self.classes_[lab]}" for lab in labels
            )
            warnings.warn(
                f"Group {compiled.group_names[g]!r} is too small to estimate its "
                f"constraint statistics: {counts[g].sum()} training samples of "
                f"{len(y01)} ({cells}; the constraints need at least "
                f"{MIN_CELL_SAMPLES} in each (group, label) cell they read). An "
                "estimate from n samples has a standard error of the order of "
                "1/sqrt(n), so its bound will not hold reliably on new data. "
                "Merge small groups into 'other' with min_group_size, collect "
                "more samples of the group, or drop its rows.",
                SmallGroupWarning,
                # _warn_small_groups < _compile < _fit < fit < the caller.
                stacklevel=5,
            )

    def _net_kwargs(self) -> dict:
        return {
            "optimizer": LeanSGD,
            "optimizer__weight_decay": self.alpha,
            "lr": self.lr,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "verbose": self.verbose,
        }

    def _build_net(self, n_features: int, compiled, device, seed: int) -> FairNet:
        hidden = self.hidden_layer_sizes
        hidden = (
            (hidden,) if isinstance(hidden, Integral) else tuple(int(h) for h in hidden)
        )
        net = FairNet(
            MLP,
            module__n_features=n_features,
            module__hidden_layer_sizes=hidden,
            module__activation=self.activation,
            algorithm=self._algorithm,
            algorithm_params=self._algorithm_params(),
            n_constraints=0 if compiled is None else compiled.n_constraints,
            seed=seed,
            average=self.average,
            lr_schedule=self.lr_schedule,
            confidence=self.confidence,
            select=self.select,
            callbacks=copy.deepcopy(self.callbacks),
            device=str(device),
            **self._net_kwargs(),
        )
        return net.initialize()

    def _update_net(self, compiled) -> None:
        """Carry parameter changes made since the last fit into a warm start."""
        net = self.net_
        for key, value in self._net_kwargs().items():
            if key in ("lr", "optimizer__weight_decay"):
                for group in net.optimizer_.param_groups:
                    group[key.removeprefix("optimizer__")] = value
            if key != "optimizer" and "__" not in key:
                setattr(net, key, value)
        for key, value in self._algorithm_params().items():
            setattr(net.algorithm_, key, value)
        net.average = self.average
        net.lr_schedule = self.lr_schedule
        net.confidence = self.confidence
        net.select = self.select

    # -- prediction --------------------------------------------------------------
    @property
    def history_(self):
        """Per-epoch record of training (a :class:`skorch.history.History`).

        Keys: ``epoch``, ``dur`` (seconds), ``train_loss`` (mean minibatch loss),
        ``objective`` (full training loss), ``constraints`` (each smooth constraint
        row), ``max_violation``, each constraint's hard-prediction value under its
        name and ``<name>_violation``, and the algorithm's state (``multipliers``,
        ``slack``, ...).
        """
        check_is_fitted(self)
        return self.net_.history

    def _logits(self, X) -> np.ndarray:
        # Inference runs in float64 on a copy of the network: float32 matrix
        # products change in the last bits with the batch size, and predictions
        # must not depend on which other rows are predicted with them.
        module = copy.deepcopy(self.net_.module_).double().eval()
        device = next(module.parameters()).device
        out = []
        with torch.inference_mode(), torch_threads(self._n_threads):
            for i in range(0, X.shape[0], PREDICT_CHUNK):
                # A copy per chunk: X may be read-only (pandas), which torch
                # cannot share.
                chunk = torch.tensor(X[i : i + PREDICT_CHUNK], dtype=torch.float64)
                out.append(module(chunk.to(device)).cpu())
        if not out:
            return np.zeros(0)
        return torch.cat(out).numpy()

    def feasibility_report(
        self,
        X,
        y,
        sensitive_features,
        sample_weight=None,
        *,
        confidence: float = 0.95,
        n_boot: int = 200,
        random_state=None,
    ) -> pd.DataFrame:
        """Each constraint on ``(X, y)``, with a bootstrap confidence interval.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, e.g. a held-out set (transformed as for ``predict``).
        y : array-like of shape (n_samples,)
            True labels.
        sensitive_features : array-like
            Group of each sample (groups seen in ``fit``).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        confidence : float, default=0.95
            Level of the percentile interval.
        n_boot : int, default=200
            Bootstrap replicates.
        random_state : int or None, default=None
            Seeds the replicates.

        Returns
        -------
        pandas.DataFrame
            One row per constraint: ``constraint``, ``kind``, ``bound``,
            ``value`` (on hard predictions, as fairlearn computes it),
            ``ci_low``, ``ci_high``, ``violation`` and ``holds`` (the interval is
            on the feasible side of the bound). See
            :func:`fairsk.feasibility.feasibility_report`.
        """
        check_is_fitted(self)
        if self.compiled_constraints_ is None:
            raise ValueError(
                f"{type(self).__name__} was fitted without sensitive_features; "
                "there is no constraint to report on."
            )
        X = self._validate_X(X, reset=False)
        y = np.asarray(y)
        if len(y) != X.shape[0]:
            raise ValueError(f"y has {len(y)} rows but X has {X.shape[0]}.")
        labels = np.unique(y)
        unknown = labels[~np.isin(labels, self.classes_)].tolist()
        if unknown:
            raise ValueError(
                f"y has labels not seen in fit: {unknown}; the classes are "
                f"{self.classes_.tolist()}."
            )
        codes = self.group_encoder_.transform(sensitive_features, X.shape[0])
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        return self._feasibility(
            X,
            (y == self.classes_[1]).astype(np.float64),
            codes,
            sample_weight,
            confidence=confidence,
            n_boot=n_boot,
            random_state=random_state,
        )

    def _feasibility(self, X, y01, codes, sample_weight, **kwargs) -> pd.DataFrame:
        return feasibility_report(
            self.compiled_constraints_,
            self._logits(X),
            y01,
            codes,
            sample_weight,
            **kwargs,
        )

    def decision_function(self, X) -> np.ndarray:
        """Logit of the positive class ``classes_[1]`` for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Positive values predict ``classes_[1]``.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._logits(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        numpy.ndarray of shape (n_samples, 2)
            Each row sums to 1.
        """
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """Predicted class label of each sample (probability above 0.5).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(np.int64)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = True  # densified (see MAX_DENSE_ELEMENTS)
        return tags

    # -- pickling ----------------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        state["_fairsk_version"] = __version__
        return state

    def __setstate__(self, state):
        # Networks, update-rule state and compiled constraints change layout
        # between minor versions: refuse a pickle from another major.minor
        # instead of failing later, or predicting wrongly.
        state = dict(state)
        saved = state.pop("_fairsk_version", None)
        if _release(saved) != _release(__version__):
            raise IncompatibleVersionError(
                f"This {type(self).__name__} was pickled by fairsk "
                f"{saved or '(an unknown version: none recorded)'} and cannot be "
                f"loaded by fairsk {__version__}: estimators pickled by another "
                "major.minor version are incompatible. Install the matching "
                "fairsk version to load it, or refit the estimator."
            )
        super().__setstate__(state)


_COMMON_PARAMETERS = """\
constraint : str, Constraint or list of them, default="loss_gap"
        What must hold: a name from :data:`fairsk.constraints.CONSTRAINTS`
        (``"loss_gap"`` is the paper's :math:`|L_a - L_b| \\le \\delta`, as two
        inequalities; ``"demographic_parity"`` bounds the positive-rate gap: hard
        predictions forward, a sigmoid's gradient backward, the straight-through
        estimator) or a :class:`~fairsk.Constraint`.
    bound : float or list of float, default=0.005
        :math:`\\delta` of each constraint whose own bound is unset; at most
        1e18 (``MAX_BOUND``: training runs in float32). Every other real
        hyperparameter is at most float32's largest value, 3.4e38.
    pairing : {"auto", "one_vs_mean", "one_vs_each"}, default="auto"
        Compare every pair of groups, or each group with the population;
        ``"auto"`` pairs two groups directly and uses ``"one_vs_mean"`` for more.
    min_group_size : int or None, default=None
        Groups with fewer training samples are merged into one group
        ``"other"``, with a UserWarning naming each merged group and its size;
        ``None`` merges nothing. This is the only rule that changes groups. A
        group smaller than the batch is kept (its (group, label) cells are
        sampled with replacement); when a cell the constraints read has fewer
        than 10 training samples (``MIN_CELL_SAMPLES``), fit warns with a
        :class:`~fairsk.exceptions.SmallGroupWarning` naming the group and its
        size, since its statistic cannot be estimated from so few. A group
        with no positive (or no negative) samples has no rate conditional on
        that label: constraints on such a rate (``"equal_opportunity"``,
        ``"equalized_odds"``, ...) leave the group out with a UserWarning, and
        fit raises a ValueError when fewer than two groups remain;
        unconditional statistics (loss, positive rate) keep it.
        Fit also raises when a single group remains after merging.
    confidence : float or None, default=0.9
        Aim for the bound to hold on *new* data from the same population: train
        on each constraint row tightened by :math:`z_{\\text{confidence}}` standard
        errors of its estimate on the training set (re-estimated each epoch from
        the per-cell variances; a gap is never asked to go below zero; ratio
        constraints are not tightened). ``None`` trains on the bound as given.
        Small groups get larger margins. ``history_`` records them as
        ``margins``.
    validation_fraction : float or None, default=None
        Hold out this fraction of the training rows, stratified by group and
        label, to measure the objective and every constraint of the model being
        returned after each epoch (``valid_*`` entries of ``history_``) and to
        report, after fit, each constraint with a 95% bootstrap interval
        (``validation_report_``). ``None`` trains on every row.
    select : {"last", "feasible"}, default="last"
        ``"feasible"`` returns the epoch's model with the best validation
        objective among those meeting every bound on the validation set (or the
        least violating one, with a ConvergenceWarning); needs
        ``validation_fraction``. ``"last"`` returns the final (averaged) model.
    hidden_layer_sizes : tuple of int, default=(64, 32)
        Width of each hidden layer of the MLP (one logit output).
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden-layer activation.
    alpha : float, default=3e-3
        L2 penalty :math:`\\frac{\\alpha}{2}\\|\\theta\\|^2` on the weights (weight
        decay). It also keeps the network from meeting a constraint on the
        training set by memorising it, which is what lets the bound hold on new
        data.
    lr : float, default=0.05
        :math:`\\tau`, the primal step size (SGD on the network's weights).
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` anneals the primal step over the epochs of a fit,
        :math:`\\tau_e = \\tau (1 + \\cos(\\pi e / E)) / 2` (Loshchilov & Hutter,
        2017), so the final weights stop oscillating around the bound; use
        ``"constant"`` with your own ``LRScheduler`` callback.
    max_epochs : int, default=20
        Passes of the objective minibatches over the training set.
    batch_size : int, default=64
        Rows per objective minibatch, capped at the number of training rows.
    constraint_batch_size : int or None, default=None
        Rows per constraint sample, split evenly over the (group, label) cells the
        constraints read (drawn with replacement within each cell), capped at the
        number of training rows; ``None`` uses ``batch_size``.
    average : float or None, default=0.5
        Return the average of the weights at the end of each epoch after this
        fraction of ``max_epochs`` (stochastic weight averaging, Izmailov et al.
        2018): it removes the last iterate's oscillation around the bound.
        ``None`` returns the last iterate.
    device : str or torch.device, default="auto"
        ``"auto"`` trains on CUDA when available, else on the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and every draw; an int gives identical
        predictions on the CPU across runs.
    warm_start : bool, default=False
        Continue training the fitted network (and multipliers) for ``max_epochs``
        more epochs instead of starting over.
    callbacks : list of skorch callbacks or None, default=None
        E.g. ``EarlyStopping(monitor="train_loss")``, ``ProgressBar()``,
        ``Checkpoint(f_algorithm="algorithm.pt", monitor=None)``,
        ``LRScheduler(...)``; they see the engine (``net_``) as skorch's net.
        Ctrl-C (SIGINT) stops training and ``fit`` returns, as in skorch, with
        the last finished epoch's model, a :class:`~fairsk.FitInterruptedWarning`
        and ``interrupted_ = True``; a callback raising KeyboardInterrupt itself
        (``EarlyStopping``) ends training as if ``max_epochs`` ended there.
        To resume an interrupted fit, checkpoint every epoch with
        ``cp = Checkpoint(monitor=None, f_algorithm="algorithm.pt", dirname=d)``
        (``f_algorithm`` saves the update rule's state: multipliers, anchors,
        averages and the random generator) and refit a new estimator with the
        same parameters and ``callbacks=[cp, LoadInitState(cp)]``: it trains the
        remaining epochs and returns what the uninterrupted fit returns (the
        model kept by ``select="feasible"`` is not checkpointed).
    verbose : int, default=0
        Print one line per epoch when positive."""

_COMMON_ATTRIBUTES = """\
classes_ : numpy.ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the positive class.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : numpy.ndarray of shape (`n_features_in_`,)
        Column names, when ``X`` was a DataFrame with string column names.
    groups_ : list
        Group labels, in code order.
    constraint_names_ : list of str
        A readable name for each constraint row.
    net_ : fairsk.engine.FairNet
        The skorch net that trained the model (``net_.module_`` is the MLP).
    history_ : skorch.history.History
        Per-epoch record: ``train_loss``, ``objective``, ``constraints`` and
        ``max_violation`` (the training set, hard predictions), each constraint's
        value ``<name>`` and ``<name>_violation``; ``avg_*`` for the averaged
        weights once averaging starts; ``valid_*`` on the validation rows;
        ``margins`` (the confidence margins), ``multipliers``, ``slack``,
        ``dur`` (seconds), ``selected`` on the epoch ``select`` returned, and
        ``interrupted`` on the last row of a fit stopped by Ctrl-C.
    group_encoder_ : fairsk.groups.GroupEncoder or None
        Maps ``sensitive_features`` to group codes (intersections of several
        columns, small groups merged per ``min_group_size``); ``None`` when fit
        had no groups.
    n_iter_ : int
        Epochs trained (that finished, when the fit was interrupted).
    interrupted_ : bool
        True when Ctrl-C (SIGINT) stopped training: ``fit``
        returned, with a :class:`~fairsk.FitInterruptedWarning`, the weights of
        the last finished epoch (its last iterate: weight averaging and
        ``select="feasible"`` not applied), and the last row of ``history_``
        records ``"interrupted": True``. False after a fit that ran to the end.
    compiled_constraints_ : fairsk.constraints.CompiledConstraints or None
        The constraints compiled against the training groups.
    validation_report_ : pandas.DataFrame or None
        :meth:`feasibility_report` on the validation rows, when
        ``validation_fraction`` is set.
    best_epoch_ : int or None
        The epoch ``select="feasible"`` returned."""


def fill_doc(cls):
    """Insert the shared parameter and attribute docs into ``cls.__doc__``."""
    cls.__doc__ = cls.__doc__.replace("%(common_parameters)s", _COMMON_PARAMETERS)
    cls.__doc__ = cls.__doc__.replace("%(common_attributes)s", _COMMON_ATTRIBUTES)
    return cls
