"""The network every fairsk classifier trains: an MLP with one logit."""

from __future__ import annotations

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

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int] = (64, 32),
        activation: str = "relu",
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, int(size)), ACTIVATIONS[activation]()]
            width = int(size)
        layers.append(nn.Linear(width, 1))
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
