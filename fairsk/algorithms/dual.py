r"""Multiplier (dual) update rules for the Lagrangian algorithms.

A rule owns *how* the multipliers :math:`\lambda \in \mathbb{R}^m` move and which
weights :math:`w` multiply the constraint gradients in the primal step

.. math:: G_\theta = \nabla f(\theta;\xi) + J_\theta(\zeta^1)^\top w ,

while the algorithm (:class:`~fairsk.algorithms.lagrangian.SSLALM`) owns
:math:`\lambda`, the slack variables, the smoothing anchor and the primal step --
as :mod:`torch.optim` separates parameters from the rule that moves them, and
cooper separates multipliers from their optimisers. Each step the algorithm calls
:meth:`DualUpdate.step` with two independent constraint estimates: :math:`c^1`
(sample :math:`\zeta^1`, the one whose gradient is taken) and :math:`c^2` (sample
:math:`\zeta^2`, used without gradient so that products such as
:math:`\rho\,c\,\nabla c` are estimated without bias). For rules with
``uses_slack = True`` both include the slack, :math:`\tilde c = c + s`, and
:math:`w` is also the slack's gradient; the other rules treat the inequalities
directly and the algorithm leaves the slack at zero. Every step runs on the
device without a host synchronisation.

The rules (:math:`c^1, c^2` the two estimates, :math:`k` the step count,
:math:`\Pi` clipping to :math:`[0, \lambda_{\max}]`):

``"ascent"`` (:class:`GradientAscent`, slack)
    :math:`\lambda \leftarrow \lambda + \eta c^1`, reset every
    :math:`\lambda_j \ge \lambda_{\max}` to 0; :math:`w = \lambda + \rho c^2`.
``"momentum"`` (:class:`Momentum`, slack)
    :math:`v \leftarrow \beta v + c^1`, :math:`\lambda \leftarrow \lambda + \eta v`,
    the same reset (of :math:`\lambda_j` and :math:`v_j`);
    :math:`w = \lambda + \rho c^2`.
``"augmented"`` (:class:`Augmented`)
    :math:`\lambda \leftarrow \Pi(\lambda + \eta c^1)`;
    :math:`w = [\lambda + \rho c^2]_+`.
``"ialm"`` (:class:`IncreasingPenalty`)
    as ``"augmented"`` with :math:`\rho_k = \min(\rho\, b^k, \rho_{\max})`.
``"nupi"`` (:class:`NuPI`)
    :math:`\lambda \leftarrow \Pi(\lambda + (\kappa_i + \kappa_p(1-\nu)) c^1 -
    \kappa_p (1-\nu) \xi)`, :math:`\xi \leftarrow \nu \xi + (1-\nu) c^1`;
    :math:`w = \lambda`.
``"pbm"`` (:class:`PenaltyBarrier`)
    :math:`u \leftarrow u\,(1 + \gamma(\varphi'(c^1/p) - 1))` clipped to
    :math:`[u_{\min}, \lambda_{\max}]`; :math:`w = u\,\varphi'(c^2/p)`.

Hyperparameters named ``dual_lr`` (:math:`\eta`), ``penalty`` (:math:`\rho`) and
``multiplier_max`` (:math:`\lambda_{\max}`) default to ``None``: the rule then
uses the value of the algorithm (the estimator's parameter of the same name), so
that ``dual_update="nupi"`` combines with a grid search over ``dual_lr``. Rules
expose ``get_params``/``set_params`` so that an estimator's
``dual_update__proportional`` is grid-searchable and :func:`sklearn.base.clone`
works.

References
----------
.. [1] J. Huang, Y. Zhang, A. Alacaoglu. Stochastic Smoothed Primal-Dual Algorithms
   for Nonconvex Optimization with Linear Inequality Constraints. arXiv:2504.07607,
   2025 (the ``"ascent"`` rule with slack and safeguard).
.. [2] B. T. Polyak. Some methods of speeding up the convergence of iteration
   methods. USSR Comput. Math. Math. Phys. 4(5), 1964 (heavy-ball momentum).
.. [3] R. T. Rockafellar. A dual approach to solving nonlinear programming problems
   by unconstrained optimization. Math. Programming 5, 1973 (the augmented
   Lagrangian of inequality constraints,
   :math:`\frac{1}{2\rho}\sum_j([\lambda_j + \rho c_j]_+^2 - \lambda_j^2)`).
.. [4] M. F. Sahin, A. Eftekhari, A. Alacaoglu, F. Latorre, V. Cevher. An Inexact
   Augmented Lagrangian Framework for Nonconvex Optimization with Nonlinear
   Constraints. NeurIPS 2019 (increasing penalty, iALM).
.. [5] M. Sohrabi, J. Ramirez, T. H. Zhang, S. Lacoste-Julien, J. Gallego-Posada.
   On PI Controllers for Updating Lagrange Multipliers in Constrained
   Optimization. ICML 2024 (nuPI).
.. [6] A. Ben-Tal, M. Zibulevsky. Penalty/Barrier Multiplier Methods for Convex
   Programming Problems. SIAM J. Optim. 7(2), 1997 (PBM, the quadratic-logarithmic
   penalty-barrier function).
.. [7] A. Stooke, J. Achiam, P. Abbeel. Responsive Safety in Reinforcement Learning
   by PID Lagrangian Methods. ICML 2020 (PI control of the multipliers; nuPI with
   ``ema=0``).
.. [8] E. G. Birgin, J. M. Martínez. Practical Augmented Lagrangian Methods for
   Constrained Optimization. SIAM, 2014 (safeguarded, bounded multipliers).

Examples
--------
>>> import torch
>>> rule = make_dual_update(NuPI(proportional=1.0, ema=0.5)).setup(2)
>>> rule.configure(dual_lr=0.5)  # what SSLALM does with its own dual_lr
>>> lam = torch.zeros(2)
>>> rule.step(lam, torch.tensor([0.5, -0.5]), torch.tensor([0.5, -0.5])).tolist()
[0.5, 0.0]
"""

from __future__ import annotations

import inspect
import math
import textwrap
from numbers import Real
from typing import ClassVar

import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from ..settings import Setting, check_settings, make_init, parameters_doc

__all__ = [
    "DUAL_UPDATES",
    "INHERITED_SETTINGS",
    "Augmented",
    "DualUpdate",
    "GradientAscent",
    "IncreasingPenalty",
    "Momentum",
    "NuPI",
    "PenaltyBarrier",
    "make_dual_update",
    "quadratic_log_barrier",
    "quadratic_log_barrier_slope",
]

_POSITIVE = [Interval(Real, 0, None, closed="neither")]
_NON_NEGATIVE = [Interval(Real, 0, None, closed="left")]
_FRACTION = [Interval(Real, 0, 1, closed="left")]  # [0, 1)
_UNIT = [Interval(Real, 0, 1, closed="right")]  # (0, 1]

#: The hyperparameters a rule takes from its algorithm when its own is ``None``:
#: their one declaration (the Lagrangian algorithms and estimators include it).
INHERITED_SETTINGS = {
    "dual_lr": Setting(0.05, _POSITIVE, "float", r":math:`\eta`, the multiplier step."),
    "penalty": Setting(
        1.0, _NON_NEGATIVE, "float", r":math:`\rho`, the augmented-Lagrangian penalty."
    ),
    "multiplier_max": Setting(
        10.0,
        _POSITIVE,
        "float",
        r":math:`\lambda_{\max}`: a multiplier reaching it is reset to 0.",
    ),
}
#: Their defaults.
INHERITED = {name: s.default for name, s in INHERITED_SETTINGS.items()}


def _inherited(symbol: str, source: str = "value", constraints=None) -> Setting:
    """Declare a rule's own value of an inherited setting (checked once resolved)."""
    doc = f"{symbol}; ``None`` takes the algorithm's {source}."
    return Setting(None, constraints or _NON_NEGATIVE, "float or None", doc)


#: The inherited settings as a rule declares them (and the check of their
#: resolved values, for rules that do not declare them).
_FROM_ALGORITHM = {
    "dual_lr": _inherited(r":math:`\eta`"),
    "penalty": _inherited(r":math:`\rho`"),
    "multiplier_max": _inherited(r":math:`\lambda_{\max}`"),
}


class DualUpdate(nn.Module):
    r"""Base class of the multiplier update rules.

    ``__init__`` only stores hyperparameters (scikit-learn style); :meth:`setup`
    allocates the state buffers for ``m`` constraints, :meth:`configure` resolves
    the inherited hyperparameters, :meth:`step` updates the multipliers in place
    and returns the primal weights. The rules of this module declare their
    hyperparameters once, in :attr:`settings`: their keyword-only ``__init__``,
    the validation in :meth:`configure` and the *Parameters* section of their
    docstrings are written from it. A rule may instead write its own
    ``__init__``, as a scikit-learn estimator does.

    Examples
    --------
    A custom rule: projected ascent with the plain Lagrangian's weights
    :math:`w = \lambda` (no slack, no penalty term). Its ``None`` hyperparameters
    take the algorithm's values in :meth:`configure`:

    >>> import torch
    >>> from fairsk.algorithms import DualUpdate
    >>> class Projected(DualUpdate):
    ...     name = "projected"
    ...
    ...     def __init__(self, *, dual_lr=None, multiplier_max=None):
    ...         super().__init__()
    ...         self.dual_lr = dual_lr
    ...         self.multiplier_max = multiplier_max
    ...
    ...     def step(self, multipliers, c1, c2):
    ...         multipliers.add_(c1, alpha=self.hp["dual_lr"])
    ...         multipliers.clamp_(0.0, self.hp["multiplier_max"])
    ...         return multipliers.clone()
    >>> rule = Projected(dual_lr=0.5).setup(2)
    >>> lam = torch.zeros(2)
    >>> rule.step(lam, torch.tensor([0.5, -0.5]), torch.zeros(2)).tolist()
    [0.25, 0.0]

    The Lagrangian classifiers take a rule as ``dual_update``; the fitted one is
    ``net_.algorithm_.dual``:

    >>> from fairsk import SSLALMClassifier
    >>> from fairsk.datasets import make_fair_classification
    >>> X, y, A = make_fair_classification(200, random_state=0)
    >>> clf = SSLALMClassifier(dual_update=Projected(), dual_lr=0.1, bound=0.5,
    ...                        hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    >>> rule = clf.fit(X, y, sensitive_features=A).net_.algorithm_.dual
    >>> type(rule).__name__, rule.hp["dual_lr"], rule.hp["multiplier_max"]
    ('Projected', 0.1, 10.0)
    >>> bool((clf.net_.algorithm_.multipliers >= 0).all())
    True
    """

    #: Name accepted by :func:`make_dual_update`.
    name: ClassVar[str] = ""
    #: Whether the constraint estimates passed to :meth:`step` include the slack.
    uses_slack: ClassVar[bool] = False
    #: The rule's hyperparameters, each declared once (default, validity, doc).
    settings: ClassVar[dict[str, Setting]] = {}

    def __init__(self):
        super().__init__()
        self.n_constraints: int | None = None
        self.hp: dict = {}

    def __init_subclass__(cls, **kwargs):
        """Write the ``__init__`` and the *Parameters* of a rule's ``settings``."""
        super().__init_subclass__(**kwargs)
        if "settings" not in cls.__dict__:
            return
        store = make_init({name: s.default for name, s in cls.settings.items()})

        def __init__(self, **params):
            DualUpdate.__init__(self)
            store(self, **params)

        __init__.__signature__ = inspect.signature(store)
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = __init__
        doc = textwrap.indent(parameters_doc(cls.settings), "    ").lstrip()
        cls.__doc__ = cls.__doc__.replace("%(parameters)s", doc)

    # -- scikit-learn style parameters -------------------------------------------
    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self")

    def get_params(self, deep: bool = True) -> dict:
        """Hyperparameters, as :meth:`sklearn.base.BaseEstimator.get_params`."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params) -> DualUpdate:
        """Set hyperparameters (takes effect at the next :meth:`configure`)."""
        valid = self._get_param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}; "
                    f"valid parameters are {valid}."
                )
            setattr(self, key, value)
        return self

    def extra_repr(self) -> str:
        """Hyperparameters, for the module's repr."""
        return ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())

    # -- lifecycle -----------------------------------------------------------------
    def setup(self, n_constraints: int) -> DualUpdate:
        """Allocate the state for ``n_constraints`` rows; return ``self``."""
        self.n_constraints = int(n_constraints)
        self.configure()
        return self

    def configure(self, **inherited) -> None:
        """Resolve hyperparameters: own value, else ``inherited``, else default.

        Called by the algorithm before each fit with its ``dual_lr``, ``penalty``
        and ``multiplier_max`` (so warm-start changes of those take effect). The
        resolved values are checked against :attr:`settings` (``ValueError``
        when invalid).
        """
        hp = self.get_params()
        for name, default in INHERITED.items():
            if name in hp and hp[name] is None:
                hp[name] = inherited.get(name, default)
        table = {**_FROM_ALGORITHM, **self.settings}
        table = {name: s for name, s in table.items() if name in hp}
        check_settings(table, {name: hp[name] for name in table}, type(self).__name__)
        self.hp = hp

    # -- the update ----------------------------------------------------------------
    def step(
        self, multipliers: torch.Tensor, c1: torch.Tensor, c2: torch.Tensor
    ) -> torch.Tensor:
        r"""Update ``multipliers`` in place from ``c1``; return the weights ``w``.

        Parameters
        ----------
        multipliers : torch.Tensor of shape (m,)
            :math:`\lambda`, updated in place.
        c1, c2 : torch.Tensor of shape (m,)
            Constraint estimates on two independent samples (with the slack
            added when :attr:`uses_slack`); read only: they may be views of the
            algorithm's differentiable estimates.

        Returns
        -------
        torch.Tensor of shape (m,)
            Weights of the constraint gradients in the primal step: a new tensor
            (not the state), which the algorithm may modify in place.
        """
        raise NotImplementedError

    def summary(self) -> dict:
        """Scalars for the per-epoch history (read once per epoch)."""
        return {}

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """State the engine checks for finiteness."""
        return {}


class GradientAscent(DualUpdate):
    r"""Stochastic multiplier ascent with an augmented term (``"ascent"``).

    .. math::

        \lambda \leftarrow \lambda + \eta\,\tilde c^1, \quad
        \lambda_j \leftarrow 0 \text{ where } \lambda_j \ge \lambda_{\max}, \quad
        w = \lambda + \rho\,\tilde c^2,

    with :math:`\tilde c = c + s` (slack). This is the multiplier step of SSL-ALM
    (Huang, Zhang & Alacaoglu 2025) and the default of the Lagrangian estimators;
    ``penalty=0`` gives the plain Lagrangian.

    Parameters
    ----------
    %(parameters)s

    References
    ----------
    .. [1] J. Huang, Y. Zhang, A. Alacaoglu. Stochastic Smoothed Primal-Dual
       Algorithms for Nonconvex Optimization with Linear Inequality Constraints.
       arXiv:2504.07607, 2025 (SSL-ALM; the multiplier step, the safeguard and
       the weights :math:`\lambda + \rho\,\tilde c^2`).

    Examples
    --------
    >>> import torch
    >>> rule = GradientAscent(dual_lr=0.5, penalty=2.0).setup(1)
    >>> lam = torch.zeros(1)
    >>> rule.step(lam, torch.tensor([0.5]), torch.tensor([0.25])).tolist()
    [0.75]
    >>> lam.tolist()
    [0.25]
    """

    name = "ascent"
    uses_slack = True
    settings = dict(_FROM_ALGORITHM)

    def step(self, multipliers, c1, c2):
        """Ascend, apply the reset safeguard, return ``λ + ρ c2``."""
        hp = self.hp
        multipliers.add_(c1, alpha=hp["dual_lr"])
        multipliers.masked_fill_(multipliers >= hp["multiplier_max"], 0.0)
        return torch.add(multipliers, c2, alpha=hp["penalty"])


class Momentum(GradientAscent):
    r"""Multiplier ascent with heavy-ball momentum (``"momentum"``).

    .. math::

        v \leftarrow \beta v + \tilde c^1, \quad
        \lambda \leftarrow \lambda + \eta v, \quad
        (\lambda_j, v_j) \leftarrow (0, 0) \text{ where } \lambda_j \ge
        \lambda_{\max}, \quad w = \lambda + \rho\,\tilde c^2,

    Polyak's (1964) heavy ball applied to the dual ascent (PyTorch's SGD momentum
    convention, no dampening); ``momentum=0`` is exactly ``"ascent"``. Unprojected,
    it equals nuPI with :math:`\nu = \beta`, :math:`\kappa_i = \eta/(1-\beta)`,
    :math:`\kappa_p = -\eta\beta/(1-\beta)^2` (a *negative* proportional gain, as
    Sohrabi et al. 2024 observe).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    velocity : torch.Tensor of shape (m,)
        :math:`v`, starts at 0.

    References
    ----------
    .. [1] B. T. Polyak. Some methods of speeding up the convergence of iteration
       methods. USSR Comput. Math. Math. Phys. 4(5), 1964 (the heavy ball).
    .. [2] M. Sohrabi, J. Ramirez, T. H. Zhang, S. Lacoste-Julien,
       J. Gallego-Posada. On PI Controllers for Updating Lagrange Multipliers in
       Constrained Optimization. ICML 2024 (momentum as nuPI with a
       negative proportional gain).
    .. [3] J. Huang, Y. Zhang, A. Alacaoglu. Stochastic Smoothed Primal-Dual
       Algorithms for Nonconvex Optimization with Linear Inequality Constraints.
       arXiv:2504.07607, 2025 (the ascent, safeguard and weights it extends).

    Examples
    --------
    >>> import torch
    >>> rule = Momentum(momentum=0.5, dual_lr=1.0, penalty=0.0).setup(1)
    >>> lam, c = torch.zeros(1), torch.ones(1)
    >>> [rule.step(lam, c, c).item() for _ in range(3)]
    [1.0, 2.5, 4.25]
    """

    name = "momentum"
    settings = {
        "momentum": Setting(0.5, _FRACTION, "float", r":math:`\beta \in [0, 1)`."),
        **_FROM_ALGORITHM,
    }

    def setup(self, n_constraints):
        """Allocate the velocity."""
        self.register_buffer("velocity", torch.zeros(int(n_constraints)))
        return super().setup(n_constraints)

    def step(self, multipliers, c1, c2):
        """Heavy-ball ascent with the reset safeguard; return ``λ + ρ c2``."""
        hp = self.hp
        v = self.velocity
        v.mul_(hp["momentum"]).add_(c1)
        multipliers.add_(v, alpha=hp["dual_lr"])
        reset = multipliers >= hp["multiplier_max"]
        multipliers.masked_fill_(reset, 0.0)
        v.masked_fill_(reset, 0.0)
        return torch.add(multipliers, c2, alpha=hp["penalty"])

    def state_tensors(self):
        """Return the velocity (it must stay finite)."""
        return {"dual_velocity": self.velocity}


class Augmented(DualUpdate):
    r"""Augmented Lagrangian of the inequalities, without slack (``"augmented"``).

    Rockafellar's (1973) augmented Lagrangian
    :math:`f + \frac{1}{2\rho}\sum_j ([\lambda_j + \rho c_j]_+^2 - \lambda_j^2)`
    has gradient :math:`\nabla f + \sum_j [\lambda_j + \rho c_j]_+ \nabla c_j`; its
    stochastic single-loop form is

    .. math::

        \lambda \leftarrow \Pi_{[0, \lambda_{\max}]}(\lambda + \eta c^1), \qquad
        w = [\lambda + \rho\,c^2]_+ ,

    the clipping being the safeguard of safeguarded ALMs (bounded multipliers).
    The quadratic term acts only on violated (or nearly violated) constraints, so
    no slack variables are needed.

    Parameters
    ----------
    %(parameters)s

    References
    ----------
    .. [1] R. T. Rockafellar. A dual approach to solving nonlinear programming
       problems by unconstrained optimization. Math. Programming 5, 1973 (the
       augmented Lagrangian of inequality constraints and its multiplier step).
    .. [2] E. G. Birgin, J. M. Martínez. Practical Augmented Lagrangian Methods
       for Constrained Optimization. SIAM, 2014 (safeguarded, bounded
       multipliers).

    Examples
    --------
    >>> import torch
    >>> rule = Augmented(dual_lr=1.0, penalty=8.0).setup(2)
    >>> lam = torch.zeros(2)
    >>> rule.step(lam, torch.tensor([0.25, -0.25]), torch.tensor([0.125, -0.125]))
    tensor([1.2500, 0.0000])
    """

    name = "augmented"
    settings = dict(_FROM_ALGORITHM)

    def _penalty(self) -> torch.Tensor | float:
        return self.hp["penalty"]

    def step(self, multipliers, c1, c2):
        """Projected ascent; return ``[λ + ρ c2]_+``."""
        hp = self.hp
        multipliers.add_(c1, alpha=hp["dual_lr"]).clamp_(0.0, hp["multiplier_max"])
        return (multipliers + self._penalty() * c2).clamp_(min=0.0)


class IncreasingPenalty(Augmented):
    r"""Augmented Lagrangian with an increasing penalty (iALM, ``"ialm"``).

    As :class:`Augmented`, with the penalty growing geometrically along the steps,

    .. math::

        \rho_k = \min(\rho\, b^k, \rho_{\max}),

    the increasing-penalty scheme of inexact ALMs (Sahin et al. 2019): a larger
    penalty tightens feasibility as training proceeds, while the cap keeps the
    stochastic primal step stable. ``growth=1`` is :class:`Augmented`.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    n_updates : torch.Tensor
        :math:`k`, steps taken.

    References
    ----------
    .. [1] M. F. Sahin, A. Eftekhari, A. Alacaoglu, F. Latorre, V. Cevher. An
       Inexact Augmented Lagrangian Framework for Nonconvex Optimization with
       Nonlinear Constraints. NeurIPS 2019 (iALM: the augmented Lagrangian with
       an increasing penalty).
    .. [2] R. T. Rockafellar. A dual approach to solving nonlinear programming
       problems by unconstrained optimization. Math. Programming 5, 1973 (the
       augmented Lagrangian of inequality constraints).

    Examples
    --------
    >>> import torch
    >>> rule = IncreasingPenalty(growth=2.0, penalty=1.0, penalty_max=3.0).setup(1)
    >>> lam, c = torch.zeros(1), torch.zeros(1)
    >>> for _ in range(3):
    ...     _ = rule.step(lam, c, c)
    >>> rule.summary()
    {'penalty': 3.0}
    """

    name = "ialm"
    settings = {
        "growth": Setting(
            1.0002,
            [Interval(Real, 1, None, closed="left")],
            "float",
            r""":math:`b \ge 1`, the factor per step (1.0002 triples the penalty
            over 5,600 steps, 20 epochs of batch 64 on the ACS income task).""",
        ),
        "penalty_max": Setting(10.0, [Real], "float", r":math:`\rho_{\max}`."),
        **_FROM_ALGORITHM,
    }

    def setup(self, n_constraints):
        """Allocate the step counter."""
        self.register_buffer("n_updates", torch.zeros(()))
        return super().setup(n_constraints)

    def _penalty(self):
        hp = self.hp
        k = self.n_updates
        return (hp["penalty"] * torch.pow(hp["growth"], k)).clamp(
            max=max(hp["penalty_max"], hp["penalty"])
        )

    def step(self, multipliers, c1, c2):
        """Projected ascent; return ``[λ + ρ_k c2]_+``; advance ``k``."""
        w = super().step(multipliers, c1, c2)
        self.n_updates.add_(1)
        return w

    def summary(self):
        r"""Return the current penalty :math:`\rho_k`."""
        return {"penalty": float(self._penalty())}


class NuPI(DualUpdate):
    r"""nuPI: multipliers driven by a PI controller with an EMA (``"nupi"``).

    .. math::

        \lambda_{t+1} &= \Pi_{[0, \lambda_{\max}]}\big(\lambda_t
            + (\kappa_i + \kappa_p(1-\nu))\,c^1_t - \kappa_p(1-\nu)\,\xi_t\big), \\
        \xi_{t+1} &= \nu\,\xi_t + (1-\nu)\,c^1_t, \qquad \xi_0 = 0, \qquad
        w = \lambda_{t+1},

    i.e. :math:`\lambda_{t+1} = \lambda_t + \kappa_i c_t +
    \kappa_p(\xi_{t+1} - \xi_t)`: an integral term (plain ascent, step
    :math:`\kappa_i`) plus a proportional term on the EMA-filtered violation that
    damps the multipliers' oscillations (Sohrabi et al. 2024). ``proportional=0``
    is projected gradient ascent; ``ema=0`` is a PI controller, as in Stooke et al.
    (2020).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    ema_violation : torch.Tensor of shape (m,)
        :math:`\xi`.

    References
    ----------
    .. [1] M. Sohrabi, J. Ramirez, T. H. Zhang, S. Lacoste-Julien,
       J. Gallego-Posada. On PI Controllers for Updating Lagrange Multipliers in
       Constrained Optimization. ICML 2024 (nuPI, the rule implemented here).
    .. [2] A. Stooke, J. Achiam, P. Abbeel. Responsive Safety in Reinforcement
       Learning by PID Lagrangian Methods. ICML 2020 (PI control of the
       multipliers: the case ``ema=0``, without the derivative term).

    Examples
    --------
    >>> import torch
    >>> rule = NuPI(dual_lr=1.0, proportional=1.0, ema=0.5).setup(1)
    >>> lam = torch.zeros(1)
    >>> [rule.step(lam, torch.tensor([c]), None).item() for c in (1.0, 1.0, -0.5)]
    [1.5, 2.75, 1.625]
    """

    name = "nupi"
    settings = {
        "proportional": Setting(2.0, [Real], "float", r":math:`\kappa_p`."),
        "ema": Setting(0.9, _FRACTION, "float", r":math:`\nu \in [0, 1)`."),
        "dual_lr": _inherited(r":math:`\kappa_i`", "``dual_lr``"),
        "multiplier_max": _FROM_ALGORITHM["multiplier_max"],
    }

    def setup(self, n_constraints):
        """Allocate the EMA of the violations."""
        self.register_buffer("ema_violation", torch.zeros(int(n_constraints)))
        return super().setup(n_constraints)

    def step(self, multipliers, c1, c2):
        """PI update of the multipliers; return them."""
        hp = self.hp
        nu, kp = hp["ema"], hp["proportional"]
        kp1 = kp * (1.0 - nu)
        xi = self.ema_violation
        multipliers.add_(c1, alpha=hp["dual_lr"] + kp1).sub_(xi, alpha=kp1)
        multipliers.clamp_(0.0, hp["multiplier_max"])
        xi.mul_(nu).add_(c1, alpha=1.0 - nu)
        return multipliers.clone()

    def state_tensors(self):
        """Return the EMA (it must stay finite)."""
        return {"dual_ema_violation": self.ema_violation}


#: Joint of the quadratic-logarithmic penalty-barrier function.
PBM_JOINT = -0.5


def quadratic_log_barrier(t: torch.Tensor) -> torch.Tensor:
    r"""Ben-Tal & Zibulevsky's quadratic-logarithmic penalty-barrier function.

    .. math::

        \varphi(t) = \begin{cases}
            t + \tfrac12 t^2 & t \ge -\tfrac12 \text{ (quadratic penalty)} \\
            -\tfrac14 \log(-2t) - \tfrac38 & t < -\tfrac12 \text{ (log barrier)}
        \end{cases}

    :math:`\varphi(0) = 0`, :math:`\varphi'(0) = 1`, convex and increasing; at the
    joint :math:`t = -\frac12` both branches have value :math:`-\frac38`, slope
    :math:`\frac12` and curvature 1 (so :math:`\varphi` is :math:`C^2`), and
    :math:`\varphi'(t) \to 0` as :math:`t \to -\infty`.

    Examples
    --------
    >>> import torch
    >>> quadratic_log_barrier(torch.tensor([-0.5, 0.0, 1.0])).tolist()
    [-0.375, 0.0, 1.5]
    """
    quad = t + 0.5 * t * t
    # clamp keeps the unused branch finite (log of a non-positive number).
    log = -0.25 * torch.log((-2.0 * t).clamp(min=1.0)) - 0.375
    return torch.where(t >= PBM_JOINT, quad, log)


def quadratic_log_barrier_slope(t: torch.Tensor) -> torch.Tensor:
    r"""Slope of :func:`quadratic_log_barrier`.

    :math:`\varphi'(t) = 1 + t` for :math:`t \ge -\frac12`, else :math:`-1/(4t)`.

    Examples
    --------
    >>> import torch
    >>> quadratic_log_barrier_slope(torch.tensor([-1.0, -0.5, 0.0])).tolist()
    [0.25, 0.5, 1.0]
    """
    return torch.where(
        t >= PBM_JOINT, 1.0 + t, -0.25 / torch.minimum(t, t.new_tensor(PBM_JOINT))
    )


class PenaltyBarrier(DualUpdate):
    r"""Penalty–barrier multiplier method, PBM (``"pbm"``).

    Ben-Tal & Zibulevsky (1997) minimise
    :math:`f(\theta) + \sum_j u_j\, p\, \varphi(c_j(\theta)/p)` with
    :math:`\varphi` the quadratic-logarithmic function
    (:func:`quadratic_log_barrier`: a log barrier on the feasible side, a
    quadratic penalty beyond the joint) and update the multipliers
    multiplicatively, :math:`u_j \leftarrow u_j \varphi'(c_j/p)`: they grow while
    a constraint is violated (:math:`\varphi' > 1`) and shrink towards 0 when it
    is slack (:math:`\varphi' < 1`), so they stay positive. The stochastic form
    damps the update by :math:`\gamma`:

    .. math::

        u &\leftarrow \Pi_{[u_{\min}, \lambda_{\max}]}
            \big(u\,(1 + \gamma(\varphi'(c^1/p) - 1))\big), \qquad
        w = u\,\varphi'(c^2/p), \\
        p &\leftarrow \max(\delta_p\, p, p_{\min}),

    (:math:`\gamma = 1` is the exact multiplicative update). The multipliers
    start at ``initial_multiplier`` (the method needs :math:`u_0 > 0`).

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    barrier_scale : torch.Tensor
        The current :math:`p`.

    References
    ----------
    .. [1] A. Ben-Tal, M. Zibulevsky. Penalty/Barrier Multiplier Methods for
       Convex Programming Problems. SIAM J. Optim. 7(2), 1997 (PBM, the
       multiplicative update and the quadratic-logarithmic function).

    Examples
    --------
    >>> import torch
    >>> rule = PenaltyBarrier(dual_lr=1.0, barrier_penalty=1.0).setup(2)
    >>> lam = torch.zeros(2)
    >>> w = rule.step(lam, torch.tensor([1.0, -1.0]), torch.tensor([0.0, 0.0]))
    >>> lam.tolist(), w.tolist()
    ([2.0, 0.25], [2.0, 0.25])
    """

    name = "pbm"
    settings = {
        "barrier_penalty": Setting(
            0.25,
            [Interval(Real, 0, None, closed="neither")],
            "float",
            r""":math:`p > 0`, the scale at which a violation is measured (the
            estimator's ``penalty`` is not used: a *smaller* :math:`p` is a
            stiffer penalty). With minibatch estimates of a loss gap (standard
            deviation about 0.1), :math:`p = 0.05` makes :math:`\varphi'` and the
            multipliers swing by factors of several per step; 0.25 keeps the log
            branch for rows slack by more than 0.125.""",
        ),
        "penalty_decay": Setting(
            1.0,
            _UNIT,
            "float",
            r":math:`\delta_p \in (0, 1]`, factor applied to :math:`p` per step.",
        ),
        "penalty_min": Setting(1e-3, [Real], "float", r":math:`p_{\min}`."),
        "initial_multiplier": Setting(1.0, [Real], "float", r":math:`u_0`."),
        "multiplier_min": Setting(
            1e-6,
            [Real],
            "float",
            r":math:`u_{\min}`, keeps a multiplier able to grow again.",
        ),
        "dual_lr": _inherited(r":math:`\gamma \in (0, 1]`", "``dual_lr``", _UNIT),
        "multiplier_max": _inherited("Upper clip"),
    }

    def setup(self, n_constraints):
        """Allocate :math:`p` and a flag for the multipliers' initialisation."""
        self.register_buffer("barrier_scale", torch.full((), math.nan))
        return super().setup(n_constraints)

    def step(self, multipliers, c1, c2):
        """Damped multiplicative update; return ``u φ'(c2 / p)``."""
        hp = self.hp
        p = self.barrier_scale
        # First step (p still NaN): start u at u_0 and p at its initial value,
        # without a host sync.
        fresh = torch.isnan(p)
        p.copy_(torch.where(fresh, p.new_tensor(hp["barrier_penalty"]), p))
        multipliers.copy_(
            torch.where(
                fresh, multipliers.new_tensor(hp["initial_multiplier"]), multipliers
            )
        )
        gamma = hp["dual_lr"]
        slope1 = quadratic_log_barrier_slope(c1 / p)
        multipliers.mul_(1.0 + gamma * (slope1 - 1.0))
        multipliers.clamp_(hp["multiplier_min"], hp["multiplier_max"])
        w = multipliers * quadratic_log_barrier_slope(c2 / p)
        p.mul_(hp["penalty_decay"]).clamp_(min=hp["penalty_min"])
        return w

    def summary(self):
        """Return the current barrier scale :math:`p`."""
        return {"barrier_penalty": float(self.barrier_scale)}


#: Rules by name.
DUAL_UPDATES: dict[str, type[DualUpdate]] = {
    cls.name: cls
    for cls in (
        GradientAscent,
        Momentum,
        Augmented,
        IncreasingPenalty,
        NuPI,
        PenaltyBarrier,
    )
}


def make_dual_update(spec: str | DualUpdate | None = None) -> DualUpdate:
    """Build a fresh, unallocated rule from a name, a rule (copied) or ``None``.

    ``None`` is ``"ascent"``. A rule instance is copied through its parameters,
    so the caller's object is never modified (as :func:`sklearn.base.clone`).

    Examples
    --------
    >>> make_dual_update("nupi")
    NuPI(dual_lr=None, ema=0.9, multiplier_max=None, proportional=2.0)
    """
    if spec is None:
        spec = "ascent"
    if isinstance(spec, str):
        if spec not in DUAL_UPDATES:
            raise ValueError(
                f"Unknown dual_update {spec!r}; choose one of {sorted(DUAL_UPDATES)} "
                "or pass a fairsk.algorithms.dual.DualUpdate instance."
            )
        return DUAL_UPDATES[spec]()
    if isinstance(spec, DualUpdate):
        return type(spec)(**spec.get_params())
    raise TypeError(
        f"dual_update must be a name or a DualUpdate instance, got {type(spec)!r}."
    )
