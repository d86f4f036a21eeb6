r"""Primal optimizers: a lean SGD, and the Moreau-envelope smoothing of SSL-ALM.

:class:`LeanSGD` takes the step

.. math::

    g \leftarrow \nabla_\theta + \alpha\,\theta, \qquad
    v \leftarrow m\,v + g, \qquad \theta \leftarrow \theta - \tau\,v

(plain SGD when the momentum :math:`m = 0`; :math:`\alpha` is the L2 weight decay).
:class:`MoreauEnvelope` wraps any optimizer and adds the proximal pull of SSL-ALM's
smoothing to the gradient it steps on.

Speed lives here, in one place. ``torch.optim.Optimizer.step`` runs its profiling
and hook wrappers on every call (tens of µs on a CPU, a tenth of a whole training
step of the paper's 64-32 MLP at batch 64), and ``torch.optim.SGD`` regroups its
parameters by device and dtype each time; :func:`take_step` calls the optimizers
defined here through their hook-free :meth:`LeanSGD.update`, and any other
optimizer through its ``step()``.
"""

from __future__ import annotations

import torch

__all__ = ["LeanSGD", "MoreauEnvelope", "take_step"]


def take_step(optimizer: torch.optim.Optimizer) -> None:
    """Take ``optimizer``'s step with the gradients in ``.grad``.

    The optimizers of this module step through their ``update`` (no hooks, no
    profiler records); any other :class:`torch.optim.Optimizer` through
    ``step()``, as a user would call it.

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> w.grad = torch.tensor([1.0])
    >>> take_step(torch.optim.SGD([w], lr=0.5))
    >>> w.detach().tolist()
    [0.5]
    """
    update = getattr(optimizer, "update", None)
    if update is None:
        optimizer.step()
        return
    update()
    # What ``step`` would record: learning-rate schedulers check it.
    optimizer._opt_called = True


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class _Flat:
    """Parameters whose values and gradients each live in one contiguous buffer.

    The parameters keep their identity (they stay the module's and the
    optimizer's leaves); their ``.data`` and ``.grad`` become views into
    ``data`` and ``grad``, so that an update is a few operations on two vectors
    rather than a few per tensor. Autograd accumulates into an existing ``.grad``
    in place, so the views survive a backward pass; :meth:`intact` tells when
    someone replaced them (then the per-tensor path takes over).
    """

    def __init__(self, params: list[torch.Tensor]):
        self.params = params
        with torch.no_grad():
            self.data = torch.cat([p.detach().reshape(-1) for p in params])
        self.grad = torch.zeros_like(self.data)
        self.grads, offset = [], 0
        for p in params:
            n = p.numel()
            p.data = self.data[offset : offset + n].view_as(p)
            g = self.grad[offset : offset + n].view_as(p)
            if p.grad is not None:
                g.copy_(p.grad)
            self.grads.append(g)
            offset += n
        self.reattach()
        self.ptr = self.data.data_ptr()

    def reattach(self) -> None:
        for p, g in zip(self.params, self.grads, strict=True):
            p.grad = g

    def adopt(self, groups: list[dict]) -> None:
        """Follow ``groups``: their parameter lists and sizes (coefficients anew)."""
        self.lists = [g["params"] for g in groups]
        self.sizes = [sum(p.numel() for p in ps) for ps in self.lists]
        self.key = None

    def intact(self, groups: list[dict]) -> bool:
        """Whether ``groups`` still hold these parameters and their views."""
        lists = self.lists
        return (
            len(groups) == len(lists)
            and all(g["params"] is p for g, p in zip(groups, lists, strict=True))
            and self.params[0].data_ptr() == self.ptr
            and all(p.grad is g for p, g in zip(self.params, self.grads, strict=True))
        )

    def coefficients(self, groups: list[dict]) -> tuple:
        """Each group's ``lr``, ``momentum`` and ``weight_decay``, spread.

        Rebuilt only when a value changed (a learning-rate schedule changes
        ``lr`` once an epoch by default), not at every step.
        """
        key = tuple((g["lr"], g["momentum"], g["weight_decay"]) for g in groups)
        if key != self.key:
            self.key = key
            self.coefs = tuple(self.per_element(v) for v in zip(*key, strict=True))
        return self.coefs

    def per_element(self, values: tuple[float, ...]) -> torch.Tensor | float:
        """One value per parameter group, spread over that group's elements."""
        if len(set(values)) == 1:
            return values[0]
        return torch.cat(
            [
                self.data.new_full((n,), v)
                for n, v in zip(self.sizes, values, strict=True)
            ]
        )


class LeanSGD(torch.optim.Optimizer):
    r"""Stochastic gradient descent with optional momentum and weight decay.

    The same update as :class:`torch.optim.SGD` (no dampening, no Nesterov). The
    parameters' values and gradients are gathered into one buffer each at the
    first step, so that the update costs two or three vector operations whatever
    the number of tensors; a regular :class:`torch.optim.Optimizer` otherwise:
    ``param_groups``, ``state_dict`` and learning-rate schedulers work as usual.
    :meth:`zero_grad` zeroes the gradients (their buffer) rather than dropping
    them.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups.
    lr : float
        :math:`\tau`.
    momentum : float, default=0.0
        :math:`m` (heavy ball, as ``torch.optim.SGD`` without dampening).
    weight_decay : float, default=0.0
        :math:`\alpha`, the L2 penalty's coefficient.

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    >>> opt = LeanSGD([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = torch.tensor([1.0, 1.0])
    >>> opt.step()
    >>> w.detach().tolist()
    [0.85, 1.8]
    """

    def __init__(
        self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ):
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}.")
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}
        super().__init__(params, defaults)
        self.flat: _Flat | None = None

    def __setstate__(self, state):
        super().__setstate__(state)
        self.flat = None  # gathered again at the next step

    def _flat(self) -> _Flat | None:
        """Return the gathered buffers (built at first use); ``None`` if unusable."""
        groups, flat = self.param_groups, self.flat
        if flat is not None and flat.intact(groups):  # the case at every step
            return flat
        params = [p for g in groups for p in g["params"]]
        if flat is None or not _same(flat.params, params):
            same = len({(p.device, p.dtype) for p in params}) == 1
            if not same or any(p.is_sparse for p in params):
                return None
            flat = self.flat = _Flat(params)
            self._adopt_momentum()
        flat.adopt(groups)
        return flat if flat.intact(groups) else None

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Zero the gradients (in their buffer, which backward adds into)."""
        flat = self.flat if self.flat is not None else self._flat()
        if flat is None:
            for group in self.param_groups:
                for p in group["params"]:
                    p.grad = None
            return
        flat.grad.zero_()
        if not flat.intact(self.param_groups):  # someone dropped or replaced them
            flat.reattach()

    def step(self, closure=None):
        """Take one step with the gradients currently in ``.grad``."""
        self.update()

    def update(self) -> None:
        """Update the parameters, without the hooks ``step`` runs."""
        flat = self._flat()
        if flat is None:
            with torch.no_grad():
                self._per_tensor_update()
            return
        self._flat_update(flat)

    def _flat_update(self, flat: _Flat) -> None:
        """Update on the gathered buffers (``flat`` checked by the caller)."""
        lr, momentum, decay = flat.coefficients(self.param_groups)
        g, x = flat.grad, flat.data
        if isinstance(decay, torch.Tensor):  # e.g. none on the slack
            g = torch.addcmul(g, decay, x)
        elif decay:
            g = torch.add(g, x, alpha=decay)
        if isinstance(momentum, torch.Tensor) or momentum:
            g = flat.momentum.mul_(momentum).add_(g)
        if isinstance(lr, torch.Tensor):
            x.addcmul_(g, lr, value=-1.0)
        else:
            x.add_(g, alpha=-lr)

    def _adopt_momentum(self) -> None:
        """Keep the momentum in one buffer, each parameter's state a view of it."""
        flat = self.flat
        flat.momentum = torch.zeros_like(flat.data)
        offset = 0
        for p in flat.params:
            view = flat.momentum[offset : offset + p.numel()].view_as(p)
            saved = self.state[p].get("momentum_buffer")
            if saved is not None:
                view.copy_(saved)
            self.state[p]["momentum_buffer"] = view
            offset += p.numel()

    def load_state_dict(self, state_dict) -> None:
        """Load the state; the momentum goes back into its buffer."""
        super().load_state_dict(state_dict)
        if self.flat is not None:
            self._adopt_momentum()

    def _per_tensor_update(self) -> None:
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            if group["weight_decay"]:
                grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
            if group["momentum"]:
                fresh = [p for p in params if "momentum_buffer" not in self.state[p]]
                for p in fresh:
                    self.state[p]["momentum_buffer"] = torch.zeros_like(p)
                bufs = [self.state[p]["momentum_buffer"] for p in params]
                torch._foreach_mul_(bufs, group["momentum"])
                torch._foreach_add_(bufs, grads)
                grads = bufs
            torch._foreach_add_(params, grads, alpha=-group["lr"])


class MoreauEnvelope(torch.optim.Optimizer):
    r"""Smooth any optimizer's objective with a proximal pull to a moving anchor.

    Each step adds :math:`\mu (x - z)` to the gradient of every parameter
    :math:`x`, moves the anchor :math:`z \leftarrow z + \beta (x - z)` (with the
    iterate *before* the step), then lets the wrapped optimizer step. With SGD
    this is steps 5 and 6 of SSL-ALM (Huang, Zhang & Alacaoglu 2025):
    :math:`x \leftarrow x - \tau (G + \mu (x - z))`. The anchors start at the
    parameters' values when the wrapper is built (:math:`z_0 = x_0`) and are part
    of :meth:`state_dict`, so a checkpointed fit resumes exactly.

    The wrapper shares the wrapped optimizer's ``param_groups`` (a learning-rate
    scheduler acting on either acts on both), as humancompatible-train's
    ``MoreauEnvelope`` wraps a torch optimizer.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer that takes the step.
    smoothing : float, default=2.0
        :math:`\mu \ge 0`.
    anchor_rate : float, default=0.5
        :math:`\beta \in (0, 1]`.

    References
    ----------
    .. [1] J. Huang, Y. Zhang, A. Alacaoglu. Stochastic Smoothed Primal-Dual
       Algorithms for Nonconvex Optimization with Linear Inequality Constraints.
       arXiv:2504.07607, 2025.

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = MoreauEnvelope(LeanSGD([w], lr=0.1), smoothing=2.0, anchor_rate=0.5)
    >>> with torch.no_grad():
    ...     _ = w.add_(1.0)  # x = 2, z = 1: the pull is mu (x - z) = 2
    >>> w.grad = torch.tensor([0.0])
    >>> opt.step()
    >>> w.detach().tolist(), opt.anchors[0].tolist()
    ([1.7999999523162842], [1.5])
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        smoothing: float = 2.0,
        anchor_rate: float = 0.5,
    ):
        self.optimizer = optimizer
        self.smoothing = float(smoothing)
        self.anchor_rate = float(anchor_rate)
        self.defaults = optimizer.defaults
        self.params = [p for g in self.param_groups for p in g["params"]]
        with torch.no_grad():
            #: z, one buffer; ``anchors`` are its views, one per parameter.
            self.anchor = torch.cat([p.detach().reshape(-1) for p in self.params])
        sizes = [p.numel() for p in self.params]
        self.anchors = [
            z.view_as(p)
            for z, p in zip(self.anchor.split(sizes), self.params, strict=True)
        ]
        self._optimizer_step_pre_hooks = {}
        self._optimizer_step_post_hooks = {}

    @property
    def state(self):
        """The wrapped optimizer's per-parameter state."""
        return self.optimizer.state

    @property
    def param_groups(self) -> list[dict]:
        """The wrapped optimizer's parameter groups (renewed by ``load_state_dict``)."""
        return self.optimizer.param_groups

    def __getstate__(self) -> dict:
        # torch's Optimizer pickles only defaults, state and groups; this wrapper
        # is its wrapped optimizer and anchors (a scheduler's patched ``step``
        # stays behind, as torch's own optimizers leave it).
        return {
            k: v
            for k, v in self.__dict__.items()
            if k not in ("step", "_flat_seen", "_gap")
        }

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (
            f"MoreauEnvelope(smoothing={self.smoothing}, "
            f"anchor_rate={self.anchor_rate}, optimizer={self.optimizer!r})"
        )

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Zero the wrapped optimizer's gradients."""
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        """Add the proximal gradient, move the anchors, step."""
        self.update()

    def update(self) -> None:
        """:meth:`step` without the hooks."""
        optimizer, seen = self.optimizer, self.__dict__.get("_flat_seen")
        flat = optimizer._flat() if isinstance(optimizer, LeanSGD) else None
        if flat is not None and (flat is seen or _same(flat.params, self.params)):
            if flat is not seen:  # matched once, here, for the steps that follow
                self._flat_seen, self._gap = flat, torch.empty_like(self.anchor)
            # The three vector operations of the smoothing, then SGD's own on
            # the same buffers (checked once, above, for both).
            gap = torch.sub(flat.data, self.anchor, out=self._gap)  # x - z
            flat.grad.add_(gap, alpha=self.smoothing)
            self.anchor.add_(gap, alpha=self.anchor_rate)
            optimizer._flat_update(flat)
            optimizer._opt_called = True
            return
        with torch.no_grad():
            self._smooth()
        take_step(optimizer)

    def _smooth(self) -> None:
        pairs = [(p, z) for p, z in zip(self.params, self.anchors, strict=True)]
        pairs = [(p, z) for p, z in pairs if p.grad is not None]
        params, anchors = [p for p, _ in pairs], [z for _, z in pairs]
        gap = torch._foreach_sub(params, anchors)  # x - z
        torch._foreach_add_([p.grad for p in params], gap, alpha=self.smoothing)
        torch._foreach_add_(anchors, gap, alpha=self.anchor_rate)

    def state_dict(self) -> dict:
        """Return the wrapped optimizer's state and the anchors."""
        return {"optimizer": self.optimizer.state_dict(), "anchors": self.anchors}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.optimizer.load_state_dict(state_dict["optimizer"])
        with torch.no_grad():
            for z, saved in zip(self.anchors, state_dict["anchors"], strict=True):
                z.copy_(saved)
