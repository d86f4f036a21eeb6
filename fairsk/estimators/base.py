"""The scikit-learn side shared by every fairsk classifier.

:class:`BaseFairClassifier` validates input the scikit-learn way (declarative
``_parameter_constraints``, :func:`~sklearn.utils.validation.validate_data`), turns
sensitive features into group codes, compiles the constraints against those groups,
moves the training set to the device and hands it to the skorch engine
(:class:`~fairsk.engine.FairNet`) with the subclass's update rule and fairsk's
callbacks. A subclass is its update rule: :func:`classifier_for` writes its
signature, validation and parameter docs from the declared settings.

The class is composed of three parts: this module holds the parameters (routed
``module__*`` / ``optimizer__*`` arguments, named callbacks), ``fit``, the
building of the engine and pickling; the steps that prepare a fit's input and
record what it leaves (``fairsk/estimators/_preparation.py``) and the fitted
model's predictions and reports (``fairsk/estimators/_prediction.py``) are
mixins of their own.
"""

from __future__ import annotations

import copy
import inspect
import re

import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from skorch.helper import predefined_split

from .._version import __version__
from ..batched import StackedMLP
from ..callbacks import default_callbacks
from ..engine import FairNet, torch_threads
from ..nets import MLP
from ..optim import LeanSGD
from ..problem import logits_of
from ._prediction import PredictionMixin
from ._preparation import FitPreparationMixin
from ._settings import classifier_for
from .inputs import check_float32_range, check_hidden_layer_sizes

__all__ = ["BaseFairClassifier", "IncompatibleVersionError", "classifier_for"]

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


class BaseFairClassifier(
    PredictionMixin, FitPreparationMixin, ClassifierMixin, BaseEstimator
):
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
    """Insert the shared *Attributes* section into ``cls.__doc__``.

    At ``%(attributes)s`` when the docstring has it, else before *See Also*.
    """
    if "%(attributes)s" not in cls.__doc__:
        section = "Attributes\n    ----------\n    %(attributes)s\n\n    See Also"
        cls.__doc__ = cls.__doc__.replace("See Also", section, 1)
    cls.__doc__ = cls.__doc__.replace("%(attributes)s", ATTRIBUTES_DOC)
    return cls
