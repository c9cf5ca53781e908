"""The objective with stated units: likelihoods, KL, the ELBO loss, units and ``explain``.

``explain`` and the presets are plain arithmetic and load eagerly without torch; the names
that need torch load on first use (PEP 562), so ``vaebalance explain`` starts fast.
"""

# ruff: noqa: F401  (the names under TYPE_CHECKING are re-exports, loaded lazily)
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

# Eager and torch-free. Importing the function after its module also keeps the attribute
# ``objective.explain`` the function (as before), not the submodule of the same name.
from .explain import Explanation as Explanation
from .explain import explain as explain
from .presets import PresetExplanation as PresetExplanation
from .presets import explain_preset as explain_preset

_LAZY = {
    "ELBOLoss": ".elbo",
    "LossOutput": ".elbo",
    "kl_divergence": ".kl",
    "kl_normal_std": ".kl",
    "LossExplanation": ".loss_explain",
    "explain_loss": ".loss_explain",
    "load_loss_function": ".loss_explain",
}

if TYPE_CHECKING:
    from .elbo import ELBOLoss, LossOutput
    from .kl import kl_divergence, kl_normal_std
    from .loss_explain import LossExplanation, explain_loss, load_loss_function


__getattr__, __dir__ = exports(globals(), _LAZY)
