"""vaebalance: VAEs whose objective has stated units, a KL weight set by principle, and the
measurements that show the balance between reconstruction and latent structure.

The names below are loaded on first use (PEP 562 module ``__getattr__``): ``import vaebalance``
and the light commands (``vaebalance explain``, ``--help``, ``--version``) start without
importing torch, which alone takes over a second; ``from vaebalance import ELBOLoss`` and
``vaebalance.train`` work as before.
"""

# ruff: noqa: F401  (the names under TYPE_CHECKING are re-exports, loaded lazily)
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__ as __version__
from .errors import UserError as UserError

# public name → (module, attribute in it; None: the module itself)
_LAZY = {
    "balancers": (".balancers", None),
    "likelihoods": (".likelihoods", None),
    "diagnose": (".evaluation", "diagnose"),
    "diagnose_model": (".evaluation.diagnose_model", "diagnose_model"),
    "evaluate_model": (".evaluation", "evaluate_model"),
    "ELBOLoss": (".objective.elbo", "ELBOLoss"),
    "LossOutput": (".objective.elbo", "LossOutput"),
    "explain": (".objective.explain", "explain"),
    "explain_loss": (".objective.loss_explain", "explain_loss"),
    "explain_preset": (".objective.presets", "explain_preset"),
    "kl_divergence": (".objective.kl", "kl_divergence"),
    "kl_normal_std": (".objective.kl", "kl_normal_std"),
    "evaluate": (".runs", "evaluate_run"),
    "load_run": (".runs", "load_run"),
    "train": (".runs", "train"),
}

if TYPE_CHECKING:  # for type checkers and IDEs: the eager imports the table above stands for
    from . import balancers, likelihoods
    from .evaluation import diagnose, diagnose_model, evaluate_model
    from .objective import (
        ELBOLoss,
        LossOutput,
        explain,
        explain_loss,
        explain_preset,
        kl_divergence,
        kl_normal_std,
    )
    from .runs import evaluate_run as evaluate
    from .runs import load_run, train

__all__ = sorted([*_LAZY, "UserError"])


def __getattr__(name: str):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = importlib.import_module(module, __name__)
    if attr is not None:
        value = getattr(value, attr)
    # Cache it: later look-ups are plain attribute reads. A submodule import (e.g. of
    # vaebalance.runs) may already have bound a *submodule* of the same name (vaebalance.train
    # is the function, not the module vaebalance.training), so always overwrite.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
