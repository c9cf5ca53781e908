"""Balancers by name, for the CLI and config files: ``get("geco", target_mse=0.01)``.

``get("warmup+geco", steps=2000, target_mse=0.02)`` builds a :class:`Chain` in that order; each
parameter goes to the one element that takes it (a name two elements take is an error: build
the chain in Python then, e.g. ``chain(Warmup(steps=2000), Capacity(steps=50000))``)."""

from __future__ import annotations

import inspect

from ..errors import UserError, unknown_choice
from .base import Balancer, Chain

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
    return {
        p.name: p.default
        for p in list(sig.parameters.values())[1:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def get(name: str | Balancer, **params) -> Balancer:
    """A balancer by name with keyword parameters; an instance passes through."""
    if isinstance(name, Balancer):
        return name
    if "+" in name:
        return _get_chain([part.strip() for part in name.split("+")], params)
    valid = parameters(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise UserError(
            f"balancer {name!r} takes no parameter {', '.join(unknown)}; "
            f"valid: {', '.join(valid) or 'none'}"
        )
    return _REGISTRY[name](**params)


def _get_chain(parts: list[str], params: dict) -> Chain:
    takes = {part: parameters(part) for part in parts}
    given: dict[str, dict] = {part: {} for part in parts}
    for key, value in params.items():
        owners = [part for part in parts if key in takes[part]]
        if len(owners) != 1:
            why = "several of" if owners else "none of"
            raise UserError(
                f"parameter {key!r} fits {why} {', '.join(owners or parts)}; "
                f"build the chain in Python with vaebalance.balancers.chain(...)"
            )
        given[owners[0]][key] = value
    return Chain(*(_REGISTRY[part](**given[part]) for part in parts))


def chain(*balancers: str | Balancer) -> Chain:
    """``Chain`` of balancers given as instances or names (with default parameters)."""
    return Chain(*(get(b) for b in balancers))
