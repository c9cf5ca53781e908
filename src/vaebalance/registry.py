"""Components selectable by name — likelihoods and balancers — for Python, the CLI and configs.

A component's parameters are its constructor's keyword arguments; the registry lists them
(with defaults) so config files and ``--set`` can be checked before anything runs.
"""

from __future__ import annotations

import inspect

from .errors import UserError, unknown_choice


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._classes: dict[str, type] = {}

    def register(self, cls: type) -> type:
        """Class decorator: make ``cls`` selectable by ``cls.name``."""
        self._classes[cls.name] = cls
        return cls

    def names(self) -> list[str]:
        return sorted(self._classes)

    def cls(self, name: str) -> type:
        if name not in self._classes:
            raise unknown_choice(self.kind, name, self._classes)
        return self._classes[name]

    def parameters(self, name: str) -> dict[str, object]:
        """The parameters of component ``name`` with their defaults."""
        sig = inspect.signature(self.cls(name).__init__)
        return {
            p.name: p.default
            for p in list(sig.parameters.values())[1:]
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

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
