"""The settings every fairsk classifier shares, declared once, and the class builder.

:func:`classifier_for` turns an update rule (a class of :mod:`fairsk.algorithms`,
which declares its own hyperparameters) into a classifier's explicit ``__init__``
signature, ``_parameter_constraints`` and *Parameters* docs: the shared settings
below, then the rule's, with the rule's preferred shared defaults
(``shared_defaults``) applied.
"""

from __future__ import annotations

import dataclasses
import textwrap
from numbers import Integral, Real

import torch
from fairlearn.reductions import Moment
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..constraints import CONSTRAINTS, Constraint
from ..nets import ACTIVATIONS
from ..settings import Setting, make_init, parameters_doc

__all__ = ["SHARED_HEAD", "SHARED_TAIL", "classifier_for"]

#: Settings before the algorithm's: what must hold, on which groups, how sure.
SHARED_HEAD = {
    "constraint": Setting(
        "loss_gap",
        [StrOptions(set(CONSTRAINTS)), Constraint, Moment, list],
        "str, Constraint, fairlearn moment or list of them",
        r"""What must hold: a name from :data:`fairsk.constraints.CONSTRAINTS`
        (``"loss_gap"`` is the paper's :math:`|L_a - L_b| \le \delta`, as two
        inequalities; ``"demographic_parity"`` bounds the positive-rate gap: hard
        predictions forward, a sigmoid's gradient backward, the straight-through
        estimator), a :class:`~fairsk.Constraint`, or one of fairlearn's
        moments, e.g. ``DemographicParity(difference_bound=0.02)``,
        ``EqualizedOdds(ratio_bound=0.8)`` or ``BoundedGroupLoss(ZeroOneLoss(),
        upper_bound=0.2)``: the same constraint, each group against the overall
        statistic as in fairlearn (:func:`fairsk.constraints.from_fairlearn`),
        with the moment's own bound (``bound`` is then not used for it).""",
    ),
    "bound": Setting(
        0.005,
        [Interval(Real, 0, None, closed="left"), list],
        "float or list of float",
        r""":math:`\delta` of each constraint whose own bound is unset (a
        :class:`~fairsk.Constraint` with ``bound``, a fairlearn moment); at most
        1e18 (``MAX_BOUND``: training runs in float32). Every other real
        hyperparameter is at most float32's largest value, 3.4e38.""",
    ),
    "pairing": Setting(
        "auto",
        [StrOptions({"auto", "one_vs_mean", "one_vs_each"})],
        '{"auto", "one_vs_mean", "one_vs_each"}',
        """Compare every pair of groups, or each group with the population;
        ``"auto"`` pairs two groups directly and uses ``"one_vs_mean"`` for more.""",
    ),
    "min_group_size": Setting(
        None,
        [Interval(Integral, 1, None, closed="left"), None],
        "int or None",
        """Groups with fewer training samples are merged into one group
        ``"other"``, with a UserWarning naming each merged group and its size;
        ``None`` merges nothing. This is the only rule that changes groups. A
        group smaller than the batch is kept (its (group, label) cells are
        sampled with replacement); when a cell the constraints read has fewer
        than 10 training samples (``MIN_CELL_SAMPLES``), fit warns with a
        :class:`~fairsk.exceptions.SmallGroupWarning` naming the group and its
        size, since its statistic cannot be estimated from so few. A group with
        no positive (or no negative) samples has no rate conditional on that
        label: constraints on such a rate (``"equal_opportunity"``,
        ``"equalized_odds"``, ...) leave the group out with a UserWarning, and
        fit raises a ValueError when fewer than two groups remain;
        unconditional statistics (loss, positive rate) keep it.
        Fit also raises when a single group remains after merging.""",
    ),
    "confidence": Setting(
        0.9,
        [Interval(Real, 0.5, 1, closed="neither"), None],
        "float or None",
        r"""Train each difference and upper-bound row on its bound tightened by a
        margin of :math:`z_{\text{confidence}}` (1.28 for 0.9) standard errors
        of the row's estimate on the training rows, re-estimated each epoch
        from the current model's per-cell variances (``history_`` records them
        as ``margins``; :class:`~fairsk.callbacks.BoundMargins`); ratio rows get
        no margin. ``None`` trains on the bound as given. The standard error is
        that of a *fixed* model's estimate: the margin covers the sampling error
        of the training rows, not the network having been fitted to those same
        rows (which makes the training value optimistic, most for small
        groups), so it does not guarantee that the bound holds on new data with
        probability ``confidence``. A gap's bound is never tightened below 0:
        when the margin exceeds the bound (a loss gap of 0.005 in a group of
        fewer than about 15,000 rows) the row is trained to a gap of 0. To know
        how the bound fares on new data, measure it there
        (``validation_fraction``, ``feasibility_report``); the user guide's page
        on constraints says what to expect of small groups.""",
    ),
    "validation_fraction": Setting(
        None,
        [Interval(Real, 0, 1, closed="neither"), None],
        "float or None",
        """Hold out this fraction of the training rows, stratified by group and
        label, to measure the objective and every constraint of the model being
        returned after each epoch (``valid_*`` entries of ``history_``), for
        skorch callbacks that monitor validation scores (``EarlyStopping``,
        ``EpochScoring``), and to report, after fit, each constraint with a 95%
        bootstrap interval (``validation_report_``). ``None`` trains on every
        row.""",
    ),
    "holdout_constraints": Setting(
        False,
        ["boolean"],
        "bool",
        """Drive the multipliers (SSL-ALM, ALM) or the switch (switching
        subgradient), and the ``confidence`` margins, by constraint estimates on
        the validation rows, which the network never fits; its gradient steps
        use the training rows (Cotter et al. 2019, *Training Well-Generalizing
        Classifiers for Fairness Metrics and Other Data-Dependent Constraints*,
        the "two-dataset" Lagrangian). Needs ``validation_fraction``; the
        end-of-fit bound check then reads the validation rows. Measured on the
        small-group protocol of ``benchmarks/bench_small_groups.py`` it did
        worse than the default (the held-out estimates are noisier than the
        training rows' optimism): see the user guide's page on constraints.""",
    ),
    "select": Setting(
        "last",
        [StrOptions({"last", "feasible"})],
        '{"last", "feasible"}',
        """``"feasible"`` returns the epoch's model with the best validation
        objective among those meeting every bound on the validation set (or the
        least violating one, with a ConvergenceWarning); needs
        ``validation_fraction`` (:class:`~fairsk.callbacks.SelectFeasible`).
        ``"last"`` returns the final (averaged) model.""",
    ),
}

#: Settings after the algorithm's: the network, the primal step, the loop.
SHARED_TAIL = {
    "module": Setting(
        None,
        [None, type, nn.Module],
        "torch.nn.Module class or instance, or None",
        """The network, as skorch takes it: a class (built with the
        ``module__*`` keyword arguments; ``n_features`` is passed when it takes
        one) or an instance (copied at each fit, so that every fit starts from
        its weights). It must return one logit per row, shape ``(n,)`` or
        ``(n, 1)``. ``None`` is :class:`~fairsk.nets.MLP` with
        ``hidden_layer_sizes`` and ``activation``, initialised from
        ``random_state``; a module drawing its initial weights from torch's
        global generator gets it seeded from ``random_state`` too, but random
        layers (dropout) draw from it during training.""",
    ),
    "hidden_layer_sizes": Setting(
        (64, 32),
        ["array-like", Interval(Integral, 1, None, closed="left")],
        "tuple of int",
        "Width of each hidden layer of the default MLP (one logit output).",
    ),
    "activation": Setting(
        "relu",
        [StrOptions(set(ACTIVATIONS))],
        '{"relu", "tanh", "logistic", "identity"}',
        "Hidden-layer activation of the default MLP.",
    ),
    "optimizer": Setting(
        None,
        [None, type],
        "torch.optim.Optimizer class or None",
        """The primal step's optimizer (``optimizer__*`` are its arguments, as
        in skorch), for the algorithms that allow it (their docs say which);
        ``None`` is SGD (:class:`~fairsk.optim.LeanSGD`).""",
    ),
    "alpha": Setting(
        3e-3,
        [Interval(Real, 0, None, closed="left")],
        "float",
        r"""L2 penalty :math:`\frac{\alpha}{2}\|\theta\|^2` on the weights (the
        optimizer's weight decay). It also keeps the network from meeting a
        constraint on the training set by memorising it.""",
    ),
    "lr": Setting(
        0.05,
        [Interval(Real, 0, None, closed="neither")],
        "float",
        r":math:`\tau`, the primal step size.",
    ),
    "lr_schedule": Setting(
        "cosine",
        [StrOptions({"constant", "cosine"})],
        '{"cosine", "constant"}',
        r"""``"cosine"`` anneals the primal step over the epochs of a fit,
        :math:`\tau_e = \tau (1 + \cos(\pi e / E)) / 2` (Loshchilov & Hutter,
        2017; :class:`~fairsk.callbacks.CosineLR`), so the final weights stop
        oscillating around the bound; use ``"constant"`` with your own
        ``LRScheduler`` callback.""",
    ),
    "max_epochs": Setting(
        20,
        [Interval(Integral, 1, None, closed="left")],
        "int",
        "Passes of the objective minibatches over the training set.",
    ),
    "batch_size": Setting(
        64,
        [Interval(Integral, 1, None, closed="left")],
        "int",
        "Rows per objective minibatch, capped at the number of training rows.",
    ),
    "constraint_batch_size": Setting(
        None,
        [Interval(Integral, 1, None, closed="left"), None],
        "int or None",
        """Rows per constraint sample, split evenly over the (group, label) cells
        the constraints read (drawn with replacement within each cell), capped at
        the number of training rows; ``None`` uses ``batch_size``.""",
    ),
    "average": Setting(
        0.5,
        [Interval(Real, 0, 1, closed="left"), None],
        "float or None",
        """Return the average of the weights at the end of each epoch after this
        fraction of ``max_epochs`` (stochastic weight averaging, Izmailov et al.
        2018; :class:`~fairsk.callbacks.WeightAveraging`): it removes the last
        iterate's oscillation around the bound. ``None`` returns the last
        iterate.""",
    ),
    "device": Setting(
        "auto",
        [str, torch.device, None],
        "str or torch.device",
        """``"auto"`` trains on CUDA when available, else on the CPU.""",
    ),
    "random_state": Setting(
        None,
        ["random_state"],
        "int, RandomState instance or None",
        """Seeds the initialisation and every draw (local generators, never
        torch's global one); an int gives identical predictions on the CPU
        across runs and across threads.""",
    ),
    "warm_start": Setting(
        False,
        ["boolean"],
        "bool",
        """Continue training the fitted network (and multipliers) for
        ``max_epochs`` more epochs instead of starting over.""",
    ),
    "callbacks": Setting(
        None,
        [list, None],
        "list of skorch callbacks or None",
        """skorch callbacks, with skorch's semantics: ``EpochScoring``,
        ``BatchScoring``, ``EarlyStopping`` (with ``validation_fraction``),
        ``GradientNormClipping``, ``LRScheduler`` (with
        ``lr_schedule="constant"``), ``Checkpoint``, ``LoadInitState``,
        ``ProgressBar``, your own; an instance you pass is the one that runs
        (it records what it sees); name one, ``("es", EarlyStopping())``, to
        set its parameters as ``callbacks__es__patience``. They run after
        fairsk's own (:mod:`fairsk.callbacks`) and see the engine (``net_``) as
        skorch's net. Ctrl-C (SIGINT) stops training and ``fit`` returns, as in
        skorch, with the last finished epoch's model, a
        :class:`~fairsk.exceptions.FitInterruptedWarning` and ``interrupted_ =
        True``; a callback raising KeyboardInterrupt itself (``EarlyStopping``)
        ends training as if ``max_epochs`` ended there. To resume an interrupted
        fit, checkpoint every epoch with
        ``cp = Checkpoint(monitor=None, f_algorithm="algorithm.pt",
        dirname=d)`` (``f_algorithm`` saves the update rule's state:
        multipliers, averages and the random generator) and refit a new
        estimator with the same parameters and ``callbacks=[cp,
        LoadInitState(cp)]``: it trains the remaining epochs and returns what
        the uninterrupted fit returns.""",
    ),
    "verbose": Setting(
        0, ["verbose"], "int", "Print one line per epoch when positive."
    ),
}


def classifier_for(algorithm, *, fixed: dict | None = None):
    """Class decorator: a classifier's signature, validation and docs from settings.

    Parameters
    ----------
    algorithm : type of Algorithm
        The update rule; its ``settings`` follow the shared head settings, and
        its ``shared_defaults`` replace the shared defaults.
    fixed : dict or None
        Rule settings this classifier fixes instead of exposing (ALM fixes
        ``smoothing=0``).

    Examples
    --------
    >>> import inspect
    >>> from fairsk import ALMClassifier
    >>> "smoothing" in inspect.signature(ALMClassifier).parameters
    False
    >>> ALMClassifier()._fixed
    {'smoothing': 0.0, 'anchor_rate': 1.0}
    """
    fixed = dict(fixed or {})

    def build(cls):
        shared = {**SHARED_HEAD, **SHARED_TAIL}
        for name, default in algorithm.shared_defaults.items():
            shared[name] = dataclasses.replace(shared[name], default=default)
        own = {k: s for k, s in algorithm.settings.items() if k not in fixed}
        settings = {
            **{k: shared[k] for k in SHARED_HEAD},
            **own,
            **{k: shared[k] for k in SHARED_TAIL},
        }
        cls._algorithm, cls._fixed, cls._own_settings = algorithm, fixed, list(own)
        cls._settings = settings
        cls._parameter_constraints = {k: s.constraints for k, s in settings.items()}
        cls.__init__ = make_init(
            {k: s.default for k, s in settings.items()}, ("module", "optimizer")
        )
        cls.__init__.__qualname__ = f"{cls.__name__}.__init__"
        cls.__doc__ = cls.__doc__.replace(
            "%(parameters)s",
            textwrap.indent(parameters_doc(settings), "    ").lstrip(),
        )
        return cls

    return build
