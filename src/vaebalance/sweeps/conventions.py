"""The seven ways of weighting the KL against the reconstruction that ``study dims`` compares.

Each convention is a loss people write, stated as the vaebalance config that optimizes exactly
that objective, and its **effective β**: the weight on the KL summed over the J latent dims
against SSE/2, the negative log-likelihood (up to a constant) of a Gaussian decoder with unit
σ summed over the K input elements. β = 1 is the ELBO of that decoder; a loss ``SSE + w·KL``
has β = w/2 and is the ELBO of a decoder with σ² = β (``objective/explain.py``).

============================  ===================================  ==========================
convention                    loss as written                      effective β
============================  ===================================  ==========================
``normalized``                MSE (mean over K) + 0.1·KL (mean J)  0.1·K/(2J)  — grows with K/J
``mean-sum``                  MSE (mean over K) + KL (sum over J)  K/2          — grows with K
``elbo-unit-sigma``           SSE/2 + KL (both sums)               1
``sigma-vae``                 Gaussian NLL with learned σ, β = 1   σ² at the end (Rybkin 2021)
``geco``                      KL s.t. MSE ≤ target (σ = 1)         1/λ at the end (Rezende 2018)
``controlvae``                NLL (σ = 1) + β·KL, KL held at c·J   β at the end (Shao 2020)
``continuous-bernoulli``      CB NLL + KL, β = 1                   — (not a Gaussian decoder)
============================  ===================================  ==========================

The fixed β are computed by :func:`~vaebalance.objective.explain.explain` from the loss as
written (``FIXED``), never by a formula of their own, so the study measures what ``vaebalance
explain`` says. The adaptive ones report the β they ended at (the same conversion, with the
learned σ or the balancer's multiplier as the loss's scale or weight).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import unknown_choice
from ..objective.explain import explain
from ..schema import RunMetrics

# The fixed-weight conventions as ``explain`` takes them (the loss as people write it).
FIXED: dict[str, dict] = {
    "normalized": {"recon": "mse", "recon_reduction": "mean", "kl_reduction": "mean",
                   "kl_weight": 0.1},
    "mean-sum": {"recon": "mse", "recon_reduction": "mean", "kl_reduction": "sum",
                 "kl_weight": 1.0},
    "elbo-unit-sigma": {"recon": "sse", "recon_reduction": "sum", "kl_reduction": "sum",
                        "kl_weight": 1.0, "recon_scale": 0.5},
}  # fmt: skip
CONVENTIONS = (*FIXED, "sigma-vae", "geco", "controlvae", "continuous-bernoulli")
UNIT_SIGMA = {"likelihood.name": "gaussian", "likelihood.sigma": "1"}


@dataclass(frozen=True)
class Targets:
    """What the target-stating conventions aim for, the same in every (K, J) cell.

    Attributes:
        mse_per_element: GECO's target MSE per input element (data units²).
        kl_nats_per_dim: ControlVAE's KL target per latent dim: the target is this × J nats.
    """

    mse_per_element: float
    kl_nats_per_dim: float


def settings(convention: str, input_dim: int, latent_dim: int, targets: Targets) -> dict:
    """The config values (dotted key → raw value, as ``--set`` takes them) of one cell."""
    if convention in FIXED:
        beta = fixed_beta(convention, input_dim, latent_dim)
        return {**UNIT_SIGMA, "balancer.name": "constant", "balancer.beta": repr(beta)}
    if convention == "sigma-vae":
        return {"likelihood.name": "gaussian-learned", "balancer.name": "constant",
                "balancer.beta": "1"}  # fmt: skip
    if convention == "geco":
        return {**UNIT_SIGMA, "balancer.name": "geco",
                "balancer.target_mse": repr(targets.mse_per_element)}  # fmt: skip
    if convention == "controlvae":
        target = targets.kl_nats_per_dim * latent_dim
        return {**UNIT_SIGMA, "balancer.name": "control", "balancer.target_kl": repr(target)}
    if convention == "continuous-bernoulli":
        return {"likelihood.name": "continuous-bernoulli", "balancer.name": "constant",
                "balancer.beta": "1"}  # fmt: skip
    raise unknown_choice("convention", convention, CONVENTIONS)


def fixed_beta(convention: str, input_dim: int, latent_dim: int) -> float:
    """The effective β of a fixed-weight convention, as ``vaebalance explain`` derives it."""
    return explain(**FIXED[convention], input_dim=input_dim, latent_dim=latent_dim).beta


def effective_beta(
    convention: str, input_dim: int, latent_dim: int, metrics: RunMetrics | None
) -> float | None:
    """The effective β of a finished cell: fixed, or what the learned scale or the balancer's
    multiplier ended at (``metrics`` is the run's :class:`~vaebalance.schema.RunMetrics`);
    ``None`` where it is not defined (continuous Bernoulli) or was not recorded."""
    if convention in FIXED:
        return fixed_beta(convention, input_dim, latent_dim)
    if convention == "sigma-vae":  # SSE/(2σ²) + KL: recon scale 1/(2σ²) on the SSE
        sigma = metrics.decoder_scale if metrics is not None else None
        if not isinstance(sigma, (int, float)) or sigma <= 0:
            return None
        loss = {"recon": "sse", "recon_reduction": "sum", "kl_reduction": "sum",
                "kl_weight": 1.0, "recon_scale": 1 / (2 * sigma**2)}  # fmt: skip
        return explain(**loss, input_dim=input_dim, latent_dim=latent_dim).beta
    if convention in ("geco", "controlvae"):  # SSE/2 + β·KL with the balancer's final β
        state = metrics.balancer_state if metrics is not None else None
        weight = state.get("beta") if isinstance(state, Mapping) else None
        if not isinstance(weight, (int, float)) or weight <= 0:
            return None
        loss = {**FIXED["elbo-unit-sigma"], "kl_weight": float(weight)}
        return explain(**loss, input_dim=input_dim, latent_dim=latent_dim).beta
    return None
