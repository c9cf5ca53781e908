"""Balancers by name, for the CLI and config files: ``get("geco", target_mse=0.01)``.

``get("warmup+geco", steps=2000, target_mse=0.02)`` builds a :class:`Chain` in that order; each
parameter goes to the one element that takes it (a name two elements take is an error: build
the chain in Python then, e.g. ``chain(Warmup(steps=2000), Capacity(steps=50000))``)."""

from __future__ import annotations

from ..errors import UserError
from ..registry import Registry
from .base import Balancer, Chain

_REGISTRY = Registry("balancer")
register = _REGISTRY.register
names = _REGISTRY.names
parameters = _REGISTRY.parameters


def get(name: str | Balancer, **params) -> Balancer:
    """A balancer by name with keyword parameters; an instance passes through."""
    if isinstance(name, Balancer):
        return name
    if "+" in name:
        return _get_chain([part.strip() for part in name.split("+")], params)
    return _REGISTRY.create(name, **params)


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
    return Chain(*(_REGISTRY.create(part, **given[part]) for part in parts))


def chain(*balancers: str | Balancer) -> Chain:
    """``Chain`` of balancers given as instances or names (with default parameters)."""
    return Chain(*(get(b) for b in balancers))
