"""Translate a loss convention as people write it into the objective it really optimizes.

A loss written as ``L = c · Rec + w · KL`` with some reductions is, up to a positive factor that
only rescales the learning rate, ``S + β_S · KL_sum`` where S is the reconstruction summed over
the K input elements (SSE, or BCE summed) and KL_sum the KL summed over the J latent dims:

    β_S = w · ρ_K / (c · ρ_J),   ρ_K = K if Rec is a mean over elements else 1,
                                 ρ_J = J if KL is a mean over latent dims else 1.

Reducing over the batch by a mean or a sum scales both terms alike and leaves β_S unchanged.

- BCE summed is the Bernoulli NLL, so ``bce`` optimizes the β-ELBO with β = β_S.
- Gaussian NLL with scale σ is SSE / (2σ²) + const, so ``mse``/``sse`` is exactly a positive
  multiple of the negative ELBO (β = 1) of a Gaussian decoder with σ² = β_S / 2; against a
  unit-variance Gaussian decoder it is the β-ELBO with β = β_S / 2 (= σ²).

References: Higgins et al. 2017 (normalized β = β·J/K); Rybkin et al. 2021 (σ-VAE: sum over
pixels, learn σ).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ..errors import UserError, check, unknown_choice

RECONS = ("mse", "sse", "bce")
REDUCTIONS = ("sum", "mean")
DEFAULT_RECON_REDUCTION = {"mse": "mean", "sse": "sum", "bce": "mean"}  # PyTorch's defaults


@dataclass(frozen=True)
class Explanation:
    """What a convention optimizes; ``text`` is the plain-words version."""

    beta: float
    sigma: float | None
    sigma_squared: float | None
    reference: str
    text: str

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("text")
        return d


def effective_beta(
    recon: str,
    recon_reduction: str | None,
    kl_reduction: str,
    kl_weight: float,
    input_dim: int,
    latent_dim: int,
    recon_scale: float = 1.0,
) -> float:
    """β_S: the weight on the summed KL against the summed reconstruction (module docstring)."""
    if recon not in RECONS:
        raise unknown_choice("reconstruction loss", recon, RECONS)
    recon_reduction = recon_reduction or DEFAULT_RECON_REDUCTION[recon]
    for what, value in (("recon reduction", recon_reduction), ("kl reduction", kl_reduction)):
        if value not in REDUCTIONS:
            raise unknown_choice(what, value, REDUCTIONS)
    check(
        recon != "sse" or recon_reduction == "sum", "sse is a sum over elements; use mse for a mean"
    )
    for what, value in (("input dim K", input_dim), ("latent dim J", latent_dim)):
        check(
            isinstance(value, int) and value > 0, f"{what} must be a positive integer, got {value}"
        )
    for what, value in (("kl weight", kl_weight), ("recon scale", recon_scale)):
        check(math.isfinite(value) and value > 0, f"{what} must be > 0 and finite, got {value}")
    rho_k = input_dim if recon_reduction == "mean" else 1
    rho_j = latent_dim if kl_reduction == "mean" else 1
    return kl_weight * rho_k / (recon_scale * rho_j)


def explain(
    recon: str = "mse",
    recon_reduction: str | None = None,
    kl_reduction: str = "sum",
    kl_weight: float = 1.0,
    input_dim: int = 784,
    latent_dim: int = 32,
    recon_scale: float = 1.0,
) -> Explanation:
    """Explain ``recon_scale · Rec + kl_weight · KL`` with the given reductions.

    Example (the question practitioners ask most):
        >>> e = explain("mse", "mean", "mean", 0.1, input_dim=784, latent_dim=32)
        >>> round(e.sigma_squared, 4), round(e.beta, 4)
        (1.225, 1.225)
    """
    recon_reduction = recon_reduction or (DEFAULT_RECON_REDUCTION.get(recon))
    beta_s = effective_beta(
        recon, recon_reduction, kl_reduction, kl_weight, input_dim, latent_dim, recon_scale
    )
    conv = _describe(recon, recon_reduction, kl_reduction, kl_weight, recon_scale)
    if recon == "bce":
        return Explanation(
            beta=beta_s,
            sigma=None,
            sigma_squared=None,
            reference="beta multiplies the KL summed over latent dims in the Bernoulli ELBO "
            "(BCE summed over input elements); beta = 1 is the ELBO",
            text=_bce_text(conv, beta_s, recon_reduction, kl_reduction, input_dim, latent_dim),
        )
    sigma2 = beta_s / 2
    return Explanation(
        beta=sigma2,
        sigma=math.sqrt(sigma2),
        sigma_squared=sigma2,
        reference="beta multiplies the KL summed over latent dims in the ELBO of a Gaussian "
        "decoder with sigma = 1 (NLL = SSE/2 + const); the same loss is exactly the beta = 1 "
        "ELBO of a Gaussian decoder with the given sigma",
        text=_gauss_text(
            conv, beta_s, sigma2, recon_reduction, kl_reduction, input_dim, latent_dim
        ),
    )


def beta_for_likelihood(
    kl_weight: float,
    input_dim: int,
    latent_dim: int,
    likelihood,
    recon_reduction="mean",
    kl_reduction="mean",
) -> float:
    """β in vaebalance's objective (D + β·R, D the likelihood's NLL) for a user's weight.

    Used by the ``constant`` balancer's ``mean_weight``: the Bernoulli family takes the BCE row;
    a Gaussian with fixed σ takes the MSE row divided by 2σ² (its NLL is SSE/(2σ²)).
    """
    name = getattr(likelihood, "name", likelihood)
    if name in ("bernoulli", "continuous-bernoulli"):
        return effective_beta(
            "bce", recon_reduction, kl_reduction, kl_weight, input_dim, latent_dim
        )
    if name == "gaussian" and not likelihood.learn_scale:
        beta_s = effective_beta(
            "mse", recon_reduction, kl_reduction, kl_weight, input_dim, latent_dim
        )
        return beta_s / (2 * likelihood.sigma**2)
    raise UserError(
        f"a weight in the mean-over-pixels convention has no fixed meaning with likelihood "
        f"{name!r}; use bernoulli, continuous-bernoulli or gaussian with a fixed sigma, or set beta"
    )


def _describe(recon, recon_reduction, kl_reduction, w, c) -> str:
    scale = "" if c == 1 else f"{c:g} · "
    return (
        f"loss = {scale}{recon.upper()} ({recon_reduction} over input elements) "
        f"+ {w:g} · KL ({kl_reduction} over latent dims)"
    )


def _sensitivity(recon_reduction, kl_reduction) -> str:
    parts = []
    if recon_reduction == "mean":
        parts.append("grows in proportion to K (an image twice as wide and high: ×4)")
    if kl_reduction == "mean":
        parts.append("shrinks in proportion to J (twice the latent dims: half the weight)")
    if not parts:
        return "Both terms are sums, so this weight means the same thing for any K and J."
    return "The effective weight " + " and ".join(parts) + ", although your code did not change."


_ADVICE = (
    "Should you use reduce_sum or reduce_mean? Sum over input elements and over latent "
    "dimensions: that sum is the log-likelihood and the KL, and only then does a weight mean "
    "the same thing for every K and J. Mean over the batch: it scales both terms alike and "
    "changes nothing but the step size (Adam barely notices). How do you weight the KL? Not by "
    "trial and error:"
)


def _gauss_text(conv, beta_s, sigma2, recon_reduction, kl_reduction, k, j) -> str:
    sigma = math.sqrt(sigma2)
    example = (
        f"If your reconstructions reach an MSE of 0.01 per element, a calibrated decoder has "
        f"σ² ≈ 0.01, so this loss weights the KL about {sigma2 / 0.01:.3g}× more than the ELBO "
        f"of that decoder."
    )
    range_note = (
        "For data in [0, 1], a σ this large says the decoder expects noise wider than the whole "
        "range of a pixel: reconstructions count for little, the KL dominates, and images come "
        "out blurry while the latent space is smooth."
        if sigma > 0.5
        else "For data in [0, 1], this σ is a plausible noise level; the balance depends on "
        "how close it is to your reconstruction error."
    )
    return "\n".join(
        [
            f"Your loss: {conv}, with K = {k} input elements and J = {j} latent dims.",
            f"It is {beta_s:.6g}·KL_sum + SSE up to a positive factor, i.e. exactly the negative "
            f"ELBO (β = 1) of a Gaussian decoder with σ² = {sigma2:.6g} (σ = {sigma:.6g}), or "
            f"the β-ELBO with β = {sigma2:.6g} for a unit-variance Gaussian decoder.",
            range_note,
            example,
            _sensitivity(recon_reduction, kl_reduction),
            _ADVICE,
            "  - let the decoder learn σ (σ-VAE) and keep β = 1: "
            "`vaebalance train --likelihood gaussian-learned`, or "
            '`ELBOLoss("gaussian-learned")` in your own loop;',
            "  - or state a goal and let a controller find the weight: "
            "`--balancer geco --set balancer.target_mse=0.01` (a reconstruction target) or "
            "`--balancer control --set balancer.target_kl=25` (a rate in nats);",
            f"  - to keep exactly this objective: `--likelihood gaussian --set likelihood.sigma="
            f"{sigma:.6g}` (β = 1), or `--likelihood gaussian --set balancer.beta={sigma2:.6g}`.",
        ]
    )


def _bce_text(conv, beta, recon_reduction, kl_reduction, k, j) -> str:
    verdict = (
        "the ELBO itself"
        if math.isclose(beta, 1.0)
        else f"a β-VAE with β = {beta:.6g}"
        + (" (KL weighted more than in the ELBO)" if beta > 1 else " (KL weighted less)")
    )
    return "\n".join(
        [
            f"Your loss: {conv}, with K = {k} input elements and J = {j} latent dims.",
            f"Up to a positive factor it is BCE_sum + {beta:.6g}·KL_sum: the Bernoulli β-ELBO "
            f"with β = {beta:.6g}, i.e. {verdict}.",
            "BCE summed over elements is the exact Bernoulli negative log-likelihood for binary "
            "data; for grey values in (0, 1) it is not a normalized density — the continuous "
            "Bernoulli is (`--likelihood continuous-bernoulli`).",
            _sensitivity(recon_reduction, kl_reduction),
            _ADVICE,
            '  - keep β = 1 (the ELBO) and sums: `ELBOLoss("bernoulli")`;',
            "  - or state a goal: `--balancer geco --set balancer.target_mse=0.01` or "
            "`--balancer control --set balancer.target_kl=25`;",
            f"  - to keep exactly this objective: `--likelihood bernoulli --set balancer.beta="
            f"{beta:.6g}`.",
        ]
    )
