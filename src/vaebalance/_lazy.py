"""Lazy exports for a package (PEP 562): names that load their submodule on first use.

The light commands (``explain``, ``diagnose``, ``report`` of a finished run) must not import
torch, yet ``from vaebalance.evaluation import evaluate_model`` must keep working. A package
lists its torch-backed names with the submodule that defines each, and gets a module
``__getattr__`` that imports the submodule when the name is first asked for.
"""

from __future__ import annotations

import importlib


def exports(namespace: dict, table: dict[str, str]):
    """``(__getattr__, __dir__)`` for the package whose ``globals()`` is ``namespace``: each name
    in ``table`` (name → relative submodule) is imported on first access and then cached.

    Caching overwrites: importing a submodule binds its name in the package, so a function
    named like its module (``evaluation.diagnose_model``) must replace the module there."""
    package = namespace["__name__"]

    def __getattr__(name: str):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(table[name], package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *table})

    return __getattr__, __dir__
