"""Evaluation: the numbers of a trained VAE with units in their names, and what they mean.

- :func:`evaluate_model`: ELBO terms, the IWAE NLL, active units, I(x; z), TC, aggregate KL,
  reconstruction MSE and PSNR on a set of examples.
- :func:`diagnose` / :func:`format_verdicts`: posterior collapse, KL domination, unused latent
  dims, an infeasible balancer target, or a healthy balance, in plain words.

``diagnose`` reads records and loads eagerly without torch (``vaebalance diagnose`` starts
fast); the measurements, which need torch, load on first use (PEP 562).
"""

# ruff: noqa: F401  (the names under TYPE_CHECKING are re-exports, loaded lazily)
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

# Importing the function after its package keeps ``evaluation.diagnose`` the function.
from .diagnose import Verdict as Verdict
from .diagnose import diagnose as diagnose
from .diagnose import format_verdicts as format_verdicts

_LAZY = {
    "diagnose_model": ".diagnose_model",
    "betavae_score": ".disentangle",
    "disentanglement": ".disentangle",
    "factor_metrics": ".disentangle",
    "factorvae_score": ".disentangle",
    "evaluate_model": ".evaluate",
    "ACTIVE_UNITS_THRESHOLD": ".latent",
    "active_units": ".latent",
    "aggregate_posterior_metrics": ".latent",
    "kl_per_dim": ".latent",
    "IWAEResult": ".likelihood",
    "importance_weighted_nll": ".likelihood",
    "plan_chunks": ".likelihood",
    "reconstruction_error": ".reconstruction",
}

if TYPE_CHECKING:
    from .diagnose_model import diagnose_model
    from .disentangle import betavae_score, disentanglement, factor_metrics, factorvae_score
    from .evaluate import evaluate_model
    from .latent import (
        ACTIVE_UNITS_THRESHOLD,
        active_units,
        aggregate_posterior_metrics,
        kl_per_dim,
    )
    from .likelihood import IWAEResult, importance_weighted_nll, plan_chunks
    from .reconstruction import reconstruction_error


__getattr__, __dir__ = exports(globals(), _LAZY)
