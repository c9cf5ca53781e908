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
from dataclasses import dataclass, field

from ..errors import UserError, check, unknown_choice

RECONS = ("mse", "sse", "bce")
REDUCTIONS = ("sum", "mean")
DEFAULT_RECON_REDUCTION = {"mse": "mean", "sse": "sum", "bce": "mean"}  # PyTorch's defaults


@dataclass(frozen=True)
class Suggestion:
    """A way to train a stated objective: config settings (dotted keys, as ``--set`` takes
    them) and the same in a user's own loop (a Python line)."""

    what: str
    config: dict
    python: str

    def text(self) -> str:
        settings = " ".join(f"{k}={v}" for k, v in self.config.items())
        return f"  - {self.what}: {settings} (in your own loop: {self.python})"


@dataclass(frozen=True)
class Explanation:
    """What a convention optimizes; ``text`` is the plain-words version, ``suggestions`` the
    ways to train with a principled weight instead (or to keep exactly this objective)."""

    beta: float
    sigma: float | None
    sigma_squared: float | None
    reference: str
    text: str
    suggestions: tuple[Suggestion, ...] = field(default=())

    def to_json(self) -> dict:
        return {
            "beta": self.beta,
            "sigma": self.sigma,
            "sigma_squared": self.sigma_squared,
            "reference": self.reference,
        }


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
    data_range: float | None = None,
    data_std: float | None = None,
) -> Explanation:
    """Explain ``recon_scale · Rec + kl_weight · KL`` with the given reductions.

    ``data_range`` (max − min) and ``data_std`` (the spread of the values) put the implied σ on
    the data's scale: a σ near the data's own spread says the decoder may call all variation
    noise. Without them the data are taken to lie in [0, 1], and the text says so.

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
        suggestions = _bce_suggestions(beta_s)
        text = _bce_text(conv, beta_s, recon_reduction, kl_reduction, input_dim, latent_dim)
        return Explanation(
            beta=beta_s,
            sigma=None,
            sigma_squared=None,
            reference="beta multiplies the KL summed over latent dims in the Bernoulli ELBO "
            "(BCE summed over input elements); beta = 1 is the ELBO",
            text=_with_suggestions(text, suggestions),
            suggestions=suggestions,
        )
    sigma2 = beta_s / 2
    suggestions = _gauss_suggestions(sigma2, data_range, data_std)
    note = range_note(math.sqrt(sigma2), data_range, data_std)
    text = _gauss_text(conv, beta_s, sigma2, (recon_reduction, kl_reduction), input_dim,
                       latent_dim, note)  # fmt: skip
    return Explanation(
        beta=sigma2,
        sigma=math.sqrt(sigma2),
        sigma_squared=sigma2,
        reference="beta multiplies the KL summed over latent dims in the ELBO of a Gaussian "
        "decoder with sigma = 1 (NLL = SSE/2 + const); the same loss is exactly the beta = 1 "
        "ELBO of a Gaussian decoder with the given sigma",
        text=_with_suggestions(text, suggestions),
        suggestions=suggestions,
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

    Used by the ``constant`` balancer's ``mean_weight``. A likelihood whose NLL is a fixed
    multiple c of a hand-written summed loss S (its :meth:`~Likelihood.convention`: BCE for the
    Bernoulli family, SSE for a Gaussian of fixed σ with c = 1/(2σ²)) turns "S + β_S·KL" into
    "NLL + c·β_S·KL", so β = c·β_S.
    """
    convention = likelihood.convention()
    if convention is None:
        raise UserError(
            f"a weight in the mean-over-pixels convention has no fixed meaning with likelihood "
            f"{likelihood.name!r} (its scale is not fixed); use bernoulli, continuous-bernoulli or "
            "gaussian with a fixed sigma, or set beta"
        )
    beta_s = effective_beta(
        convention.recon, recon_reduction, kl_reduction, kl_weight, input_dim, latent_dim
    )
    return convention.scale * beta_s


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


def _gauss_text(conv, beta_s, sigma2, reductions, k, j, note: str) -> str:
    sigma = math.sqrt(sigma2)
    example = (
        f"If your reconstructions reach an MSE of 0.01 per element, a calibrated decoder has "
        f"σ² ≈ 0.01, so this loss weights the KL about {sigma2 / 0.01:.3g}× more than the ELBO "
        f"of that decoder."
    )
    return "\n".join(
        [
            f"Your loss: {conv}, with K = {k} input elements and J = {j} latent dims.",
            f"It is {beta_s:.6g}·KL_sum + SSE up to a positive factor, i.e. exactly the negative "
            f"ELBO (β = 1) of a Gaussian decoder with σ² = {sigma2:.6g} (σ = {sigma:.6g}), or "
            f"the β-ELBO with β = {sigma2:.6g} for a unit-variance Gaussian decoder.",
            note,
            example,
            _sensitivity(*reductions),
            _ADVICE,
        ]
    )


def range_note(sigma: float, data_range: float | None, data_std: float | None) -> str:
    """The implied σ against the data's range and spread, in words."""
    r = data_range or 1.0
    where = f"data with a range of {r:.3g}" if data_range else "data in [0, 1] (assumed)"
    if sigma > 0.5 * r:
        return (
            f"For {where}, a σ of {sigma:.3g} says the decoder expects noise wider than half the "
            "range of a value: reconstructions count for little, the KL dominates, and outputs "
            "come out blurry while the latent space is smooth."
        )
    if data_std and sigma >= data_std:
        return (
            f"For {where} and a spread (std) of {data_std:.3g}, a σ of {sigma:.3g} lets the "
            "decoder call all of the data's variation noise: the KL dominates and "
            "reconstructions are blurry."
        )
    spread = f" (the data's spread is {data_std:.3g})" if data_std else ""
    return (
        f"For {where}, σ = {sigma:.3g} is a plausible noise level{spread}; the balance depends "
        "on how close it is to your reconstruction error."
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
            "Bernoulli is (likelihood.name=continuous-bernoulli).",
            _sensitivity(recon_reduction, kl_reduction),
            _ADVICE,
        ]
    )


def _with_suggestions(text: str, suggestions: tuple[Suggestion, ...]) -> str:
    return "\n".join([text, *(s.text() for s in suggestions)])


def _gauss_suggestions(sigma2: float, data_range=None, data_std=None) -> tuple[Suggestion, ...]:
    sigma = math.sqrt(sigma2)
    target = geco_example_target(data_range, data_std)
    return (
        Suggestion(
            "let the decoder learn σ (σ-VAE) and keep β = 1",
            {"likelihood.name": "gaussian-learned"},
            'ELBOLoss("gaussian-learned")',
        ),
        Suggestion(
            "or state a reconstruction goal and let GECO find the weight",
            {"balancer.name": "geco", "balancer.target_mse": target},
            f'ELBOLoss("gaussian-learned", balancer=GECO(target_mse={target:.3g}))',
        ),
        Suggestion(
            "or state a rate in nats and let ControlVAE find the weight",
            {"balancer.name": "control", "balancer.target_kl": 25},
            'ELBOLoss("gaussian-learned", balancer=ControlVAE(target_kl=25))',
        ),
        Suggestion(
            "to keep exactly this objective (β = 1 at this σ)",
            {"likelihood.name": "gaussian", "likelihood.sigma": float(f"{sigma:.6g}")},
            f'ELBOLoss("gaussian", sigma={sigma:.6g})',
        ),
    )


def geco_example_target(data_range: float | None, data_std: float | None) -> float:
    """An MSE target on the data's scale: 5% of the data's variance (reconstructions that
    explain 95% of it), else 1% of the squared range; 0.01 for data in [0, 1]."""
    if data_std:
        return float(f"{0.05 * data_std**2:.3g}")
    return float(f"{0.01 * (data_range or 1.0) ** 2:.3g}")


def _bce_suggestions(beta: float) -> tuple[Suggestion, ...]:
    return (
        Suggestion(
            "keep β = 1 (the ELBO) and sums",
            {"likelihood.name": "bernoulli", "balancer.name": "constant"},
            'ELBOLoss("bernoulli")',
        ),
        Suggestion(
            "or state a reconstruction goal and let GECO find the weight",
            {"balancer.name": "geco", "balancer.target_mse": 0.01},
            'ELBOLoss("bernoulli", balancer=GECO(target_mse=0.01))',
        ),
        Suggestion(
            "to keep exactly this objective",
            {"likelihood.name": "bernoulli", "balancer.beta": float(f"{beta:.6g}")},
            f'ELBOLoss("bernoulli", balancer=Constant(beta={beta:.6g}))',
        ),
    )
