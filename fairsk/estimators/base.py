"""The scikit-learn side shared by every fairsk classifier.

:class:`BaseFairClassifier` validates input the scikit-learn way (declarative
``_parameter_constraints``, :func:`~sklearn.utils.validation.validate_data`), turns
sensitive features into group codes, compiles the constraints against those groups,
moves the training set to the device and hands it to the skorch engine
(:class:`~fairsk.engine.FairNet`) with the subclass's update rule and fairsk's
callbacks. A subclass is its update rule: :func:`classifier_for` writes its
signature, validation and parameter docs from the declared settings.
"""

from __future__ import annotations

import copy
import inspect
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from skorch.helper import predefined_split

from .._version import __version__
from ..batched import StackedMLP
from ..callbacks import default_callbacks
from ..constraints import cell_mass, compile_constraints, make_constraints
from ..engine import FairNet, resolve_device, torch_threads
from ..feasibility import feasibility_report
from ..groups import GroupEncoder
from ..nets import MLP
from ..optim import LeanSGD
from ..problem import logits_of
from ..sampling import TrainingData
from ._settings import classifier_for
from .inputs import (
    check_bounds,
    check_float32_range,
    check_hidden_layer_sizes,
    compile_on_rows,
    encode_target,
    split_rows,
    validate_X,
    warn_single_class,
    warn_small_groups,
)

__all__ = ["BaseFairClassifier", "IncompatibleVersionError", "classifier_for"]

#: Rows per chunk when predicting (bounds device memory on big inputs).
PREDICT_CHUNK = 65536
#: Routed keyword arguments, as skorch's: ``module__*`` and ``optimizer__*``.
ROUTED = ("module", "optimizer")


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

    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> from fairsk.estimators import BaseFairClassifier
    >>> X, y, A = make_fair_classification(200, random_state=0)
    >>> clf = SSLALMClassifier(bound=0.5, hidden_layer_sizes=(8,), max_epochs=2,
    ...                        random_state=0).fit(X, y, sensitive_features=A)
    >>> isinstance(clf, BaseFairClassifier)
    True
    >>> clf.groups_, clf.n_iter_, clf.predict_proba(X[:3]).shape
    (['a', 'b'], 2, (3, 2))

    A new classifier is its update rule (a class of :mod:`fairsk.algorithms`);
    :func:`classifier_for` gives it the shared parameters and the rule's, with
    their validation and docs:

    >>> from fairsk.algorithms import SSLALM
    >>> from fairsk.estimators import classifier_for
    >>> @classifier_for(SSLALM, fixed={"dual_update": "nupi"})
    ... class NuPIClassifier(BaseFairClassifier):
    ...     '''SSL-ALM with PI-controlled multipliers.
    ...
    ...     Parameters
    ...     ----------
    ...     %(parameters)s
    ...     '''
    >>> clf = NuPIClassifier(bound=0.5, dual_lr=0.1, hidden_layer_sizes=(8,),
    ...                      max_epochs=2, random_state=0)
    >>> rule = clf.fit(X, y, sensitive_features=A).net_.algorithm_.dual
    >>> type(rule).__name__, rule.hp["dual_lr"], clf.predict(X[:3]).shape
    ('NuPI', 0.1, (3,))
    """

    # Routed by Pipeline / GridSearchCV with metadata routing on, no extra call.
    __metadata_request__fit = {"sensitive_features": True}

    #: Set by :func:`classifier_for`: the update rule, the rule settings this
    #: class fixes, the names of the rule settings it exposes, all settings.
    _algorithm = None
    _fixed: dict = {}
    _own_settings: list = []
    _settings: dict = {}
    _parameter_constraints: dict = {}
    #: Whether ``fit`` requires sensitive features.
    _requires_groups = True
    #: torch CPU threads in fit and predict (see fairsk.engine.torch_threads).
    _n_threads = 1

    # -- parameters: skorch-style routed arguments and named callbacks -------------
    def get_params(self, deep: bool = True) -> dict:
        """Parameters, with the routed ``module__*`` / ``optimizer__*`` ones."""
        params = super().get_params(deep=deep)
        routed = {k: v for k, v in vars(self).items() if k.startswith(ROUTED)}
        params.update({k: v for k, v in routed.items() if "__" in k})
        return params

    def set_params(self, **params):
        """Set parameters; ``callbacks__<name>__<param>`` reaches a named callback.

        As in skorch: the callback ``("es", EarlyStopping())`` in ``callbacks``
        has its patience set by ``callbacks__es__patience=3`` (so a grid search
        can tune it); ``module__*`` and ``optimizer__*`` are routed arguments.
        """
        own = {}
        for key, value in params.items():
            if key.startswith("callbacks__"):
                self._set_callback_param(key.removeprefix("callbacks__"), value)
            elif key.startswith(tuple(p + "__" for p in ROUTED)):
                setattr(self, key, value)
            else:
                own[key] = value
        return super().set_params(**own) if own else self

    def _set_callback_param(self, key: str, value) -> None:
        name, _, param = key.partition("__")
        named = dict(
            cb for cb in (self.callbacks or []) if isinstance(cb, tuple | list)
        )
        if name not in named:
            raise ValueError(
                f"callbacks__{key}: there is no callback named {name!r} in "
                f"callbacks (named ones: {sorted(named)}); pass it as "
                f"({name!r}, callback). fairsk's own callbacks are set through "
                "the estimator's parameters (average, confidence, select, "
                "lr_schedule)."
            )
        named[name].set_params(**{param: value})

    def _routed(self, prefix: str) -> dict:
        start = prefix + "__"
        return {
            k[len(start) :]: v for k, v in vars(self).items() if k.startswith(start)
        }

    # -- fit ---------------------------------------------------------------------
    def fit(self, X, y, sensitive_features=None, sample_weight=None):
        """Train the network under the fairness constraints.

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

        Notes
        -----
        A fit either returns the fitted estimator or raises and leaves it
        unfitted: every fitted attribute is removed, including a previous fit's
        model (also with ``warm_start``), so that ``predict`` raises
        NotFittedError instead of answering with a half-built or stale model.
        Ctrl-C while training is not a failure: training stops and fit returns
        (see ``interrupted_``).
        """
        try:
            self._validate_params()
            check_float32_range(self)
            with torch_threads(self._n_threads):
                return self._fit(X, y, sensitive_features, sample_weight)
        except BaseException:
            # A fit either returns the fitted estimator or leaves it unfitted
            # (a previous fit's model too, which a warm start may have half
            # updated): predict then raises NotFittedError rather than answer.
            for name in [k for k in vars(self) if k.endswith("_") and k[0] != "_"]:
                delattr(self, name)
            raise

    def _fit(self, X, y, sensitive_features, sample_weight):
        incremental = bool(self.warm_start) and hasattr(self, "net_")
        prep = self._prepare(X, y, sensitive_features, sample_weight, incremental)
        data, valid = prep.data, prep.valid
        if incremental:
            self._update_net()
        else:
            n_features = data.X.shape[1]
            self.net_ = self._build_net(
                n_features, data.compiled, data.device, prep.seed
            )
        self.net_.train_split = None if valid is None else predefined_split(valid)
        self.net_.partial_fit(data, epochs=self.max_epochs if incremental else None)
        return self._finish(prep)

    def _prepare(
        self,
        X,
        y,
        sensitive_features,
        sample_weight,
        incremental=False,
        rows=None,
        shared=None,
    ) -> SimpleNamespace:
        """Validate and encode the input; the training (and validation) rows.

        ``rows`` (sorted) trains on those rows of ``X`` only, as a fit on
        ``X[rows]`` would, from ``shared``, ``X`` already on the device (the
        models of :func:`fairsk.batched.fit_together` share one copy of ``X``).
        Returns the :class:`~fairsk.sampling.TrainingData`, the validation data
        (or ``None``), the seed of the initialisation and the draws, and the
        validation rows for the report.
        """
        self._sparse_told = [False]
        X, y = validate_X(self, X, y, reset=not incremental, fitting=True)
        mine = slice(None) if rows is None else rows
        self.classes_, y01 = encode_target(
            self, np.asarray(y)[mine], self.classes_ if incremental else None
        )
        if rows is not None:
            y01 = (np.asarray(y) == self.classes_[1]).astype(np.float32)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        groups = self._groups(sensitive_features, X.shape[0], incremental, rows)
        for needs, what in (
            (self.select == "feasible", "select='feasible' picks the model on"),
            (self.holdout_constraints, "holdout_constraints estimates on"),
        ):
            if needs and self.validation_fraction is None:
                raise ValueError(
                    f"{what} the validation rows; set validation_fraction (e.g. 0.2)."
                )
        if self.holdout_constraints:
            self._algorithm.draws(holdout=True)  # raises when it does not apply
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if rows is not None:
            train, valid = np.asarray(rows), None
        else:
            train, valid = split_rows(self.validation_fraction, y01, groups, rng)
        # Without a validation split every row trains: pass the arrays themselves
        # (``X[arange(n)]`` would copy the whole training set).
        fit_rows = train if valid is not None or rows is not None else slice(None)

        def part(a, r):
            return None if a is None else a[r]

        g, w = part(groups, fit_rows), part(sample_weight, fit_rows)
        compiled = self._compile(g, y01[fit_rows], w, incremental)
        device = resolve_device(self.device)
        cbs = self.constraint_batch_size or self.batch_size
        if rows is not None:
            data = TrainingData(
                shared, y01, groups, sample_weight, compiled, cbs, device, rows=rows
            )
        else:
            data = TrainingData(X[fit_rows], y01[fit_rows], g, w, compiled, cbs, device)
        valid_data, report = None, None
        if valid is not None:
            vg, vw = part(groups, valid), part(sample_weight, valid)
            valid_compiled = compile_on_rows(compiled, vg, y01[valid], vw)
            held = cbs if self.holdout_constraints else None  # sampled from
            valid_data = TrainingData(
                X[valid], y01[valid], vg, vw, valid_compiled, held, device
            )
            data.holdout = valid_data if self.holdout_constraints else None
            report = (X[valid], y01[valid], vg, vw)
        return SimpleNamespace(data=data, valid=valid_data, seed=seed, report=report)

    def _finish(self, prep: SimpleNamespace):
        """Set what a fit leaves: epochs trained, interruption, the report."""
        hist = self.net_.history
        # Ctrl-C stops training and fit returns (skorch's convention), with the
        # last finished epoch's model: n_iter_ counts finished epochs.
        self.interrupted_ = bool(getattr(self.net_, "interrupted_", False))
        cut_short = self.interrupted_ and "train_loss" not in hist[-1]
        self.n_iter_ = len(hist) - int(cut_short)
        if not self.interrupted_:
            warn_single_class(self, self.net_.module_, prep.data)
        selected = [i for i, h in enumerate(hist) if h.get("selected")]
        self.best_epoch_ = selected[-1] + 1 if selected else None
        self.validation_report_ = None
        if prep.report is not None and self.compiled_constraints_ is not None:
            self.validation_report_ = self._feasibility(
                *prep.report, confidence=0.95, n_boot=200, random_state=prep.seed
            )
        return self

    def _groups(self, sensitive_features, n, incremental, rows=None):
        """Group codes; with ``rows``, encoded on those rows (others coded 0)."""
        if rows is None or sensitive_features is None:
            return self._encode_groups(sensitive_features, n, incremental)
        A = np.asarray(sensitive_features, dtype=object)
        codes = np.zeros(n, dtype=np.int64)
        codes[rows] = self._encode_groups(A[rows], len(rows), incremental)
        return codes

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
        check_bounds(self, compiled)
        if incremental and compiled.n_constraints != self.net_.algorithm_.n_constraints:
            raise ValueError(
                "warm_start fit produced a different number of constraint rows "
                f"({compiled.n_constraints} vs {self.net_.algorithm_.n_constraints}"
                "); refit from scratch with warm_start=False."
            )
        if self._algorithm.uses_constraints:
            warn_small_groups(self.classes_, compiled, groups, y01)
        self.groups_ = list(names)
        self.constraints_ = compiled.constraints
        self.constraint_names_ = list(compiled.row_names)
        self.compiled_constraints_ = compiled
        return compiled

    # -- the engine ----------------------------------------------------------------
    def _algorithm_params(self) -> dict:
        """Return the rule's settings: this estimator's values and the fixed ones."""
        return {**{k: getattr(self, k) for k in self._own_settings}, **self._fixed}

    def _callbacks(self) -> list:
        own = default_callbacks(
            average=self.average,
            confidence=self.confidence,
            select=self.select,
            lr_schedule=self.lr_schedule,
        )
        return own + list(self.callbacks or [])

    def _optimizer(self) -> tuple[type, dict]:
        optimizer = LeanSGD if self.optimizer is None else self.optimizer
        if not self._algorithm.any_optimizer and optimizer not in (
            LeanSGD,
            torch.optim.SGD,
        ):
            raise ValueError(
                f"{type(self).__name__} folds its step sizes into the gradient, "
                "which only SGD applies as the algorithm means them; it takes "
                f"optimizer=None (SGD), not {optimizer.__name__}."
            )
        return optimizer, {"weight_decay": self.alpha, **self._routed("optimizer")}

    def _module(self, n_features: int) -> tuple:
        """Return the network (class or instance) and its keyword arguments."""
        if self.module is None:
            hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
            kwargs = {"hidden_layer_sizes": hidden, "activation": self.activation}
            return MLP, {"n_features": n_features, **kwargs}
        kwargs = self._routed("module")
        if isinstance(self.module, torch.nn.Module):
            # A copy: every fit starts from the instance's weights.
            return copy.deepcopy(self.module), kwargs
        if not (
            isinstance(self.module, type) and issubclass(self.module, torch.nn.Module)
        ):
            raise TypeError(
                f"module must be a torch.nn.Module class or instance, got "
                f"{self.module!r}."
            )
        takes = inspect.signature(self.module).parameters
        if "n_features" in takes and "n_features" not in kwargs:
            kwargs["n_features"] = n_features
        return self.module, kwargs

    def _build_net(self, n_features: int, compiled, device, seed) -> FairNet:
        """Build the engine, a :class:`~fairsk.engine.FairNet`, for this estimator.

        Its network, rule, optimizer and callbacks; a list of seeds stacks one
        model per seed (:class:`~fairsk.batched.StackedMLP`).
        """
        module, module_kwargs = self._module(n_features)
        optimizer, optimizer_kwargs = self._optimizer()
        params = self._algorithm_params()
        params["n_constraints"] = 0 if compiled is None else compiled.n_constraints
        if isinstance(seed, list):
            module, params["n_models"] = StackedMLP, len(seed)
            module_kwargs.pop("n_features")
            module_kwargs["n_features"] = n_features
        net = FairNet(
            module,
            algorithm=self._algorithm,
            seed=seed,
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            callbacks=self._callbacks(),
            verbose=self.verbose,
            device=str(device),
            **{f"module__{k}": v for k, v in module_kwargs.items()},
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
            **{f"algorithm__{k}": v for k, v in params.items()},
        ).initialize()
        if not isinstance(seed, list):
            with torch.no_grad():  # one logit per row, or a clear error now
                logits_of(net.module_, torch.zeros(2, n_features, device=device))
        return net

    def _update_net(self) -> None:
        """Carry parameter changes made since the last fit into a warm start."""
        net = self.net_
        for key in ("lr", "max_epochs", "batch_size", "verbose"):
            setattr(net, key, getattr(self, key))
        for group in net.optimizer_.param_groups[:1]:
            group["lr"], group["weight_decay"] = self.lr, self.alpha
        net.algorithm_.configure(**self._algorithm_params())
        net.callbacks = self._callbacks()
        net.initialize_callbacks()

    # -- fitted attributes -----------------------------------------------------------
    @property
    def history_(self):
        """Per-epoch record of training (a :class:`skorch.history.History`)."""
        check_is_fitted(self)
        return self.net_.history

    @property
    def loss_curve_(self) -> list[float]:
        """Mean minibatch loss of each epoch (as in ``MLPClassifier``)."""
        return list(self.history_[:, "train_loss"])

    @property
    def multipliers_(self) -> pd.Series | None:
        """Final dual variable of each constraint row (``None`` without multipliers).

        Indexed by ``constraint_names_``, as fairlearn's reductions index their
        ``lambda_vecs_``.
        """
        check_is_fitted(self)
        lam = getattr(self.net_.algorithm_, "multipliers", None)
        if lam is None or not self.constraint_names_:
            return None
        return pd.Series(lam.tolist(), index=self.constraint_names_, name="multiplier")

    # -- prediction --------------------------------------------------------------
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
                out.append(logits_of(module, chunk.to(device)).cpu())
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
        X = validate_X(self, X, reset=False)
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
        y01 = (y == self.classes_[1]).astype(np.float64)
        kwargs = {"confidence": confidence, "n_boot": n_boot}
        return self._feasibility(
            X, y01, codes, sample_weight, random_state=random_state, **kwargs
        )

    def _feasibility(self, X, y01, codes, sample_weight, **kwargs) -> pd.DataFrame:
        logits = self._logits(X)
        cc = self.compiled_constraints_
        return feasibility_report(cc, logits, y01, codes, sample_weight, **kwargs)

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
        return self._logits(validate_X(self, X, reset=False))

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


ATTRIBUTES_DOC = """\
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
        The skorch net that trained the model (``net_.module_`` is the network,
        ``net_.algorithm_`` the update rule and its state).
    history_ : skorch.history.History
        Per-epoch record: ``train_loss``, ``objective``, ``constraints`` and
        ``max_violation`` (the training set, hard predictions), each constraint's
        value ``<name>`` and ``<name>_violation``; ``avg_*`` for the averaged
        weights once averaging starts; ``valid_*`` on the validation rows (and
        skorch's ``valid_loss`` and ``valid_acc``); ``margins`` (the confidence
        margins), ``multipliers``, ``slack``, ``dur`` (seconds), ``event_lr``,
        ``selected`` on the epoch ``select`` returned, and ``interrupted`` on
        the last row of a fit stopped by Ctrl-C.
    loss_curve_ : list of float
        ``train_loss`` of each epoch.
    multipliers_ : pandas.Series or None
        The final multiplier of each constraint row (Lagrangian algorithms).
    group_encoder_ : fairsk.groups.GroupEncoder or None
        Maps ``sensitive_features`` to group codes (intersections of several
        columns, small groups merged per ``min_group_size``); ``None`` when fit
        had no groups.
    n_iter_ : int
        Epochs trained (that finished, when the fit was interrupted).
    interrupted_ : bool
        True when Ctrl-C (SIGINT) stopped training: ``fit`` returned, with a
        :class:`~fairsk.exceptions.FitInterruptedWarning`, the weights of the
        last finished epoch (its last iterate: weight averaging and
        ``select="feasible"`` not applied), and the last row of ``history_``
        records ``"interrupted": True``. False after a fit that ran to the end
        or that a callback stopped (``EarlyStopping``).
    compiled_constraints_ : fairsk.constraints.CompiledConstraints or None
        The constraints compiled against the training groups.
    validation_report_ : pandas.DataFrame or None
        :meth:`feasibility_report` on the validation rows, when
        ``validation_fraction`` is set.
    best_epoch_ : int or None
        The epoch ``select="feasible"`` returned."""


def fill_doc(cls):
    """Insert the shared attribute docs into ``cls.__doc__``."""
    cls.__doc__ = cls.__doc__.replace("%(attributes)s", ATTRIBUTES_DOC)
    return cls
