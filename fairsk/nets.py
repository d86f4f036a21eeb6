"""The network every fairsk classifier trains: an MLP with one logit."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ACTIVATIONS", "MLP"]

#: Hidden-layer activations, named as in :class:`sklearn.neural_network.MLPClassifier`.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


class MLP(nn.Module):
    """Fully connected network ``d → h₁ → … → h_k → 1`` returning one logit per row.

    Parameters
    ----------
    n_features : int
        Width of the input.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer; empty for logistic regression.
    activation : {"relu", "tanh", "logistic", "identity"}
        Activation after each hidden layer.
    generator : torch.Generator or None
        Source of the initial weights (see :meth:`reset_parameters`); ``None``
        draws from torch's global generator, as :class:`torch.nn.Linear` does.

    Notes
    -----
    The layers are registered as an :class:`torch.nn.Sequential` (so the
    ``state_dict`` reads ``layers.0.weight``, ...), but :meth:`forward` calls
    :func:`torch.nn.functional.linear` on them directly: each ``Module.__call__``
    costs a few microseconds of hooks, a visible share of a step at this size.

    The layers are created without drawing anything (``torch.nn.utils.skip_init``)
    and initialised once, by :meth:`reset_parameters`, from ``generator``: a fit
    that passes its own generator never touches torch's global one, so fits
    running side by side in threads cannot take each other's draws.

    Examples
    --------
    >>> import torch
    >>> net = MLP(3, (4, 2))
    >>> net(torch.zeros(5, 3)).shape
    torch.Size([5])

    The same seed gives the same network, whatever else draws meanwhile:

    >>> a = MLP(3, (4,), generator=torch.Generator().manual_seed(0))
    >>> _ = torch.rand(10)  # the global generator moves; the network does not care
    >>> b = MLP(3, (4,), generator=torch.Generator().manual_seed(0))
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    True
    """

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int] = (64, 32),
        activation: str = "relu",
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden_layer_sizes:
            linear = nn.utils.skip_init(nn.Linear, width, int(size))
            layers += [linear, ACTIVATIONS[activation]()]
            width = int(size)
        layers.append(nn.utils.skip_init(nn.Linear, width, 1))
        self.layers = nn.Sequential(*layers)
        self._linear = tuple(m for m in layers if isinstance(m, nn.Linear))
        self._act = _FUNCTIONS[activation]
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        r"""Draw the initial weights as ``nn.Linear`` does, from ``generator``.

        Layer by layer, the weight from :func:`torch.nn.init.kaiming_uniform_`
        with ``a=√5`` (uniform on :math:`\pm 1/\sqrt{\text{fan\_in}}`), then the
        bias uniform on :math:`\pm 1/\sqrt{\text{fan\_in}}`: the distribution
        and the order of draws of :meth:`torch.nn.Linear.reset_parameters`, so a
        generator seeded like the global one gives the same numbers.
        """
        for lin in self._linear:
            nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5), generator=generator)
            fan_in = lin.weight.shape[1]
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(lin.bias, -bound, bound, generator=generator)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the logit of each row of ``X`` (shape ``(n,)``)."""
        *hidden, last = self._linear
        act = self._act
        for lin in hidden:
            X = act(F.linear(X, lin.weight, lin.bias))
        return F.linear(X, last.weight, last.bias).squeeze(-1)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


_FUNCTIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "logistic": torch.sigmoid,
    "identity": _identity,
}
