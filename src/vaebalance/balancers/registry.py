"""Balancers by name, for the CLI and config files: ``get("geco", target_mse=0.01)``."""

from __future__ import annotations

import inspect

from ..errors import UserError, unknown_choice
from .base import Balancer

_REGISTRY: dict[str, type[Balancer]] = {}


def register(cls: type[Balancer]) -> type[Balancer]:
    """Class decorator: make ``cls`` selectable by ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    return sorted(_REGISTRY)


def parameters(name: str) -> dict[str, object]:
    """The parameters of balancer ``name`` with their defaults."""
    if name not in _REGISTRY:
        raise unknown_choice("balancer", name, _REGISTRY)
    sig = inspect.signature(_REGISTRY[name].__init__)
    return {p.name: p.default for p in list(sig.parameters.values())[1:]}


def get(name: str | Balancer, **params) -> Balancer:
    """A balancer by name with keyword parameters; an instance passes through."""
    if isinstance(name, Balancer):
        return name
    valid = parameters(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise UserError(
            f"balancer {name!r} takes no parameter {', '.join(unknown)}; "
            f"valid: {', '.join(valid) or 'none'}"
        )
    return _REGISTRY[name](**params)
