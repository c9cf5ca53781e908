"""Components selectable by name — likelihoods, balancers, model architectures — for Python,
the CLI and configs.

A component's parameters are its constructor's keyword arguments: the registry lists them with
their defaults and their annotated types, so config files and ``--set`` are parsed and checked
against the constructor's own signature before anything runs.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Mapping

from .errors import UserError, unknown_choice


class Registry:
    """Named classes of one kind. ``provider``: the module whose import registers them, when
    that is not the registry's own (the balancers register from ``vaebalance.balancers``, a
    layer above the objective that holds this registry); it is imported on the first look-up
    that needs a class, so that ``from vaebalance import ELBOLoss`` finds them without the
    package importing everything up front (the light commands start without torch).

    ``catalogue``: the provider's components as plain data, ``{name: {parameter: (type,
    default)}}``, so that names, parameters and types are answered without importing the
    provider (and torch with it) — what a config needs to be read and checked. A test keeps
    each catalogue equal to what the classes' signatures say; once the provider is imported,
    the classes answer."""

    def __init__(
        self,
        kind: str,
        provider: str | None = None,
        catalogue: Mapping[str, Mapping[str, tuple[object, object]]] | None = None,
    ):
        self.kind = kind
        self.provider = provider
        self.catalogue = dict(catalogue or {})
        self._classes: dict[str, type] = {}

    @property
    def _loaded(self) -> dict[str, type]:
        if self.provider is not None:
            provider, self.provider = self.provider, None
            importlib.import_module(provider)
        return self._classes

    def _described(self, name: str) -> Mapping[str, tuple[object, object]] | None:
        """The catalogue's entry for ``name`` while the provider is not yet imported and no
        class of that name was registered; None when the classes must answer."""
        if self.provider is None or name in self._classes:
            return None
        return self.catalogue.get(name)

    def register(self, cls: type) -> type:
        """Class decorator: make ``cls`` selectable by ``cls.name``."""
        self._classes[cls.name] = cls
        return cls

    def classes(self) -> dict[str, type]:
        """Every registered class by name (the provider imported)."""
        return dict(self._loaded)

    def names(self) -> list[str]:
        if self.provider is not None and self.catalogue:
            return sorted({*self.catalogue, *self._classes})
        return sorted(self._loaded)

    def cls(self, name: str) -> type:
        classes = self._classes if name in self._classes else self._loaded
        if name not in classes:
            raise unknown_choice(self.kind, name, classes)
        return classes[name]

    def _signature(self, name: str) -> list[inspect.Parameter]:
        sig = inspect.signature(self.cls(name).__init__)
        return [
            p
            for p in list(sig.parameters.values())[1:]
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def parameters(self, name: str) -> dict[str, object]:
        """The parameters of component ``name`` with their defaults."""
        if (described := self._described(name)) is not None:
            return {key: default for key, (_, default) in described.items()}
        return {p.name: p.default for p in self._signature(name)}

    def types(self, name: str) -> dict[str, object]:
        """The annotated type of each parameter of ``name`` (``object`` where unannotated)."""
        if (described := self._described(name)) is not None:
            return {key: type_ for key, (type_, _) in described.items()}
        hints = typing.get_type_hints(self.cls(name).__init__)
        return {p.name: hints.get(p.name, object) for p in self._signature(name)}

    def create(self, name: str, **params):
        """An instance of ``name``; a parameter it does not take is a UserError listing those
        it does."""
        valid = self.parameters(name)
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise UserError(
                f"{self.kind} {name!r} takes no parameter {', '.join(unknown)}; "
                f"valid: {', '.join(valid) or 'none'}"
            )
        return self.cls(name)(**params)
