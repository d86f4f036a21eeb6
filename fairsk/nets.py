"""The network every fairsk classifier trains: an MLP with one logit."""

from __future__ import annotations

import itertools
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
    r"""Fully connected network ``d → h₁ → … → h_k → 1`` returning one logit per row.

    Parameters
    ----------
    n_features : int
        Width of the input.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer; empty for logistic regression.
    activation : {"relu", "tanh", "logistic", "identity"}
        Activation after each hidden layer.
    generator : torch.Generator or None, default=None
        Draws the initial weights, with :class:`torch.nn.Linear`'s default law
        (weights and biases uniform on :math:`\\pm 1/\\sqrt{\text{fan-in}}`);
        ``None`` uses torch's global generator, as ``nn.Linear`` does. fairsk
        passes a local generator seeded by ``random_state``, so fits running
        side by side in threads do not share a random stream.

    Notes
    -----
    The layers are registered as an :class:`torch.nn.Sequential` (so the
    ``state_dict`` reads ``layers.0.weight``, ...), but :meth:`forward` calls
    :func:`torch.nn.functional.linear` on them directly: each ``Module.__call__``
    costs a few microseconds of hooks, a visible share of a step at this size.

    Examples
    --------
    >>> import torch
    >>> net = MLP(3, (4, 2))
    >>> net(torch.zeros(5, 3)).shape
    torch.Size([5])
    """

    #: The engine passes ``generator`` (see :class:`~fairsk.engine.FairNet`).
    seeded = True

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int] = (64, 32),
        activation: str = "relu",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        widths = [n_features, *(int(h) for h in hidden_layer_sizes), 1]
        for fan_in, fan_out in itertools.pairwise(widths):
            layer = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
            bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
            with torch.no_grad():
                for p in (layer.weight, layer.bias):
                    p.uniform_(-bound, bound, generator=generator)
            layers += [layer, ACTIVATIONS[activation]()]
        layers.pop()  # no activation after the output
        self.layers = nn.Sequential(*layers)
        self._linear = tuple(m for m in layers if isinstance(m, nn.Linear))
        self._act = _FUNCTIONS[activation]

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
