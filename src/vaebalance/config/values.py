"""Values from the command line or a config file, parsed and checked against a field's type."""

from __future__ import annotations

import json
import types
import typing

from ..errors import UserError


def coerce(value: object, hint, name: str):
    """Parse ``value`` (a CLI string or a JSON value) as type ``hint``."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        value = value if hint is str else parsed
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, hint, name)
    if origin is tuple:
        return _coerce_tuple(value, hint, name)
    if hint is object:
        return value
    if hint is bool and isinstance(value, bool):
        return value
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is int and _is_integral(value):
        return int(value)
    if hint is str and isinstance(value, str):
        return value
    if hint is dict and isinstance(value, dict):
        return value
    raise UserError(f"{name} must be {_type_name(hint)}; got {value!r}")


def _is_integral(value) -> bool:
    """An int, or a float with no fraction (JSON reads ``1e4`` as 10000.0)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _coerce_union(value, hint, name: str):
    options = typing.get_args(hint)
    if value is None and type(None) in options:
        return None
    for option in options:
        if option is type(None):
            continue
        try:
            return coerce(value, option, name)
        except UserError:
            continue
    raise UserError(f"{name} must be {_type_name(hint)}; got {value!r}")


def _coerce_tuple(value, hint, name: str) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise UserError(f"{name} must be a list like [1, 2]; got {value!r}")
    args = typing.get_args(hint)
    if not (len(args) == 2 and args[1] is Ellipsis) and len(value) != len(args):
        raise UserError(f"{name} must have {len(args)} values; got {value!r}")
    return tuple(coerce(v, args[0], name) for v in value)


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
