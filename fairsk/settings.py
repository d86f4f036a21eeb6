"""Each hyperparameter declared once: its default, its validation and its doc line.

A :class:`Setting` is the single home of one hyperparameter. The update rules
(:mod:`fairsk.algorithms`) declare theirs in a ``settings`` table; the estimators
(:mod:`fairsk.estimators`) add the settings every classifier shares. From these
tables come the estimators' explicit ``__init__`` signatures (which scikit-learn's
``get_params`` reads), their ``_parameter_constraints`` (which ``fit`` checks with
scikit-learn's own validation), the *Parameters* section of their docstrings, and
the defaults the benchmark and the docs print. Nothing is written twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sklearn.utils._param_validation import validate_parameter_constraints

__all__ = ["Setting", "check_settings", "make_init", "parameters_doc"]


@dataclass(frozen=True)
class Setting:
    r"""One hyperparameter.

    Parameters
    ----------
    default : object
        The default value.
    constraints : list
        What values are valid, in scikit-learn's ``_parameter_constraints``
        language (``Interval``, ``StrOptions``, types, ``None``...).
    type : str
        The numpydoc type line (``"float"``, ``'{"a", "b"}'``).
    doc : str
        What it does (numpydoc description; a formula or reference where it is
        an algorithm's parameter).

    Examples
    --------
    >>> from numbers import Real
    >>> from sklearn.utils._param_validation import Interval
    >>> s = Setting(0.05, [Interval(Real, 0, None, closed="neither")], "float",
    ...             r":math:`\eta`, the multiplier step.")
    >>> s.default
    0.05
    """

    default: Any
    constraints: list = field(default_factory=list)
    type: str = "object"
    doc: str = ""


def check_settings(
    settings: Mapping[str, Setting], values: Mapping[str, Any], caller: str
) -> dict[str, Any]:
    """Fill in defaults and validate ``values`` against ``settings``.

    Raises scikit-learn's ``InvalidParameterError`` (a ValueError) naming the
    parameter, or a TypeError for an unknown name.

    Examples
    --------
    >>> from numbers import Real
    >>> from sklearn.utils._param_validation import Interval
    >>> table = {"rate": Setting(0.5, [Interval(Real, 0, 1, closed="both")])}
    >>> check_settings(table, {}, "f")
    {'rate': 0.5}
    >>> check_settings(table, {"rate": 2.0}, "f")
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: The 'rate' parameter
    of f must be a float in the range [0.0, 1.0]. Got 2.0 instead.
    """
    unknown = sorted(set(values) - set(settings))
    if unknown:
        raise TypeError(
            f"{caller} got unexpected settings {unknown}; valid ones are "
            f"{sorted(settings)}."
        )
    out = {name: values.get(name, s.default) for name, s in settings.items()}
    validate_parameter_constraints(
        {name: s.constraints for name, s in settings.items()}, out, caller
    )
    return out


def parameters_doc(settings: Mapping[str, Setting], indent: str = "    ") -> str:
    """Write the numpydoc *Parameters* entries of ``settings``, with defaults.

    Examples
    --------
    >>> print(parameters_doc({"rate": Setting(0.5, [], "float", "The rate.")}))
    rate : float, default=0.5
        The rate.
    """
    lines = []
    for name, s in settings.items():
        default = f'"{s.default}"' if isinstance(s.default, str) else repr(s.default)
        lines.append(f"{name} : {s.type}, default={default}")
        body = inspect.cleandoc(s.doc)
        lines += [indent + line if line else "" for line in body.splitlines()]
    return "\n".join(lines)


def make_init(defaults: Mapping[str, Any], extra_prefixes: tuple[str, ...] = ()):
    """Build an ``__init__`` with an explicit keyword-only signature.

    scikit-learn reads an estimator's parameters from its ``__init__``
    signature, so each classifier needs one that names every parameter with its
    default. This writes it from the declarations (as :mod:`dataclasses` writes
    its ``__init__``): it only stores the arguments. ``extra_prefixes`` admits
    routed keyword arguments (``module__*``, ``optimizer__*``), stored as they
    are, as skorch does.

    Examples
    --------
    >>> init = make_init({"a": 1, "b": (2, 3)})
    >>> str(inspect.signature(init))
    '(self, *, a=1, b=(2, 3))'
    """
    args = "".join(f", {name}=_defaults[{name!r}]" for name in defaults)
    body = "".join(f"\n    self.{name} = {name}" for name in defaults)
    src = (
        f"def __init__(self, *{args}, **kwargs):{body}"
        "\n    _routed(self, kwargs, _prefixes)"
    )
    namespace = {"_defaults": dict(defaults), "_routed": _routed}
    namespace["_prefixes"] = tuple(extra_prefixes)
    exec(src, namespace)
    init = namespace["__init__"]
    # The routed arguments are not parameters of their own: scikit-learn reads
    # the signature without them (``get_params`` adds those that are set).
    sig = inspect.signature(init)
    init.__signature__ = sig.replace(
        parameters=[p for p in sig.parameters.values() if p.kind != p.VAR_KEYWORD]
    )
    return init


def _routed(obj, kwargs: dict, prefixes: tuple[str, ...]) -> None:
    for key, value in kwargs.items():
        if not any(key.startswith(p + "__") for p in prefixes):
            raise TypeError(
                f"{type(obj).__name__}.__init__() got an unexpected keyword argument "
                f"{key!r}"
                + (
                    f" (routed arguments start with {[p + '__' for p in prefixes]})"
                    if prefixes
                    else ""
                )
            )
        setattr(obj, key, value)
