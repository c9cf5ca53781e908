"""How much of the latent space a model uses: active units, per-dim KL, I(x; z), TC, KL(q(z)‖p(z)).

All functions take the posterior parameters μ, log σ² ([N, J]) of the evaluation examples, so
they work for any encoder. The aggregate posterior is the mixture over those N examples,

    q(z) = (1/N) Σ_m q(z | x_m),

the "whole evaluation set as one batch" form of the estimators of He et al. 2019 and Chen et
al. 2018. Its densities are evaluated at one sample z_n ~ q(z|x_n) per example, in blocks of
rows, so memory stays O(block · N · J) while the work is O(N² J).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..errors import check
from ..objective.kl import kl_normal_std
from ..objective.kl import moment_kl as kl_moments
from ..schema import Evaluation

ACTIVE_UNITS_THRESHOLD = 0.01  # Burda et al. 2016: a unit is active if Cov_x(E_q[z_j]) > 10⁻²
_LOG_2PI = math.log(2 * math.pi)
_BLOCK_BYTES = 32 * 2**20  # the [rows, N, J] log-density block of the aggregate estimators


def active_units(mu: Tensor, threshold: float = ACTIVE_UNITS_THRESHOLD) -> tuple[int, Tensor]:
    """Active units (Burda, Grosse & Salakhutdinov 2016, §5.2): A_j = Cov_x(E_{q(z|x)}[z_j]).

    For a Gaussian posterior E_q[z_j] = μ_j, so A_j is the variance of μ_j over the examples
    (unbiased, N − 1 in the denominator, as in He et al.'s ``calc_au``). Unit j is active if
    A_j > ``threshold``; an inactive unit's posterior mean ignores x, whatever its KL says.

    Returns:
        The number of active units and the variances A ([J], float64).
    """
    check(mu.dim() == 2 and mu.shape[0] >= 2, f"need mu [N ≥ 2, J]; got {tuple(mu.shape)}")
    variance = mu.double().var(dim=0, unbiased=True)
    return int((variance > threshold).sum()), variance


def kl_per_dim(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(q(z_j|x) ‖ N(0, 1)) averaged over the examples, [J] nats; sums to the mean rate."""
    return kl_normal_std(mu.double(), logvar.double()).mean(0)


def aggregate_posterior_metrics(
    mu: Tensor,
    logvar: Tensor,
    *,
    generator: torch.Generator | None = None,
    eps: Tensor | None = None,
) -> Evaluation:
    """I(x; z), total correlation, KL(q(z)‖p(z)) and dimension-wise KL of the aggregate posterior.

    With z_n = μ_n + σ_n ε_n (one sample per example), log q̂(z) = logsumexp_m log q(z|x_m) − log N
    and log q̂_j(z_j) the same per dimension:

    - ``mutual_info_nats``, He, Spokoyny, Neubig & Berg-Kirkpatrick 2019 ("Lagging inference
      networks and posterior collapse", ``calc_mi``): I(x; z) = E_x[−H(q(z|x))] − E[log q(z)],
      estimated as E_n[log q(z_n|x_n) − log q̂(z_n)]. He et al. use the closed-form entropy
      for the first term; its Monte Carlo value at the same z_n has the same expectation but
      cancels most of the noise of the second (for a collapsed model the two are nearly equal
      sample by sample, so the estimate is ≈ 0 instead of ± √(J/2N)) and makes the bound
      below hold exactly.
    - ``total_correlation_nats``, Chen, Li, Grosse & Duvenaud 2018 (β-TCVAE):
      KL(q(z) ‖ Π_j q(z_j)) ≈ E_n[log q̂(z_n) − Σ_j log q̂_j(z_nj)].
    - ``aggregate_kl_nats``: KL(q(z) ‖ p(z)) ≈ E_n[log q̂(z_n) − log p(z_n)], p = N(0, I), the
      "marginal KL" of ELBO surgery (Hoffman & Johnson 2016): mean rate = I(x; z) + this.
    - ``dimwise_kl_nats``: Σ_j KL(q(z_j) ‖ p(z_j)), the third term of Chen et al.'s decomposition.
    - ``moment_kl_nats``: Σ_j KL(N(m_j, v_j) ‖ N(0, 1)) = Σ_j ½(m_j² + v_j − 1 − log v_j), with
      m_j and v_j = Var_n(μ_nj) + E_n[σ²_nj] the mean and variance of q(z_j). For a given mean
      and variance the Gaussian has the largest entropy, so this is a lower bound on
      KL(q(z_j) ‖ p(z_j)) for the Gaussian prior; it needs only two moments, so unlike the
      estimates above it has no log N ceiling and no large-N requirement.

    Known biases (state them next to the numbers):

    - The evaluation set is the minibatch of Chen et al.'s minibatch-weighted sampling (MWS),
      with weights 1/N. MWS is biased and the bias shrinks as the batch grows (Chen et al.); here
      it shrinks with N, so numbers are comparable between models only at the same N. (The
      training-time code, rtqichen/beta-tcvae ``vae_quant.py``, subtracts log(B·N) rather than
      log B, which moves TC by (J − 1)·log N; that constant does not matter for gradients but
      would for a reported number, so it is not used here.)
    - The MI estimate keeps the example's own component in q̂: it is the InfoNCE bound with
      critic q(z|x) (van den Oord et al. 2018; Poole et al. 2019). In expectation over draws of
      the evaluation set it is a *lower* bound on I(x; z) (biased downward) and it never exceeds
      log N (q̂(z_n) ≥ q(z_n|x_n)/N), where it saturates when posteriors are sharp and well
      separated. Near I(x; z) = 0 it is noisy around 0 and can come out slightly negative (He
      et al.'s closed-form version more so: jxhe/vae-lagging-encoder#8).
    - Mean rate = I(x; z) + KL(q(z)‖p(z)) (ELBO surgery), so the aggregate-KL estimate carries
      the MI bias with the opposite sign: biased upward by about as much as MI is biased down.
    - TC and the dimension-wise KL inherit the finite-N bias with different sizes for the joint
      (saturates at log N) and the marginals (do not), so TC can be biased either way and can
      come out slightly negative for nearly independent dimensions.

    Args:
        mu, logvar: [N, J] posterior parameters of the evaluation examples.
        generator: the source of ε (``randn(N, J)``) when ``eps`` is not given.
        eps: [N, J] standard normal noise, to reuse draws.

    Returns:
        A partial :class:`~vaebalance.schema.Evaluation` (a mapping) with ``mutual_info_nats``,
        ``total_correlation_nats``, ``aggregate_kl_nats``, ``dimwise_kl_nats`` and
        ``mutual_info_bound_nats`` (= log N).
    """
    check(
        mu.dim() == 2 and mu.shape == logvar.shape and mu.shape[0] >= 1,
        f"mu and logvar must both be [N ≥ 1, J]; got {tuple(mu.shape)}, {tuple(logvar.shape)}",
    )
    n, latent_dim = mu.shape
    if eps is None:
        eps = torch.randn(n, latent_dim, generator=generator)
    mu, logvar = mu.float(), logvar.float()
    eps = eps.to(mu)
    z = mu + torch.exp(0.5 * logvar) * eps
    log_qz, log_qz_marginals = _log_aggregate_densities(z, mu, logvar)
    log_n = math.log(n)
    log_qz = log_qz - log_n
    log_qz_marginals = log_qz_marginals - latent_dim * log_n
    z = z.double().cpu()
    log_pz = -0.5 * (z.pow(2) + _LOG_2PI).sum(1)
    # log q(z_n|x_n): (z − μ)²/σ² = ε², so no cancellation.
    log_qz_x = -0.5 * (eps.double().cpu().pow(2) + logvar.double().cpu() + _LOG_2PI).sum(1)
    return Evaluation(
        mutual_info_nats=float((log_qz_x - log_qz).mean()),
        total_correlation_nats=float((log_qz - log_qz_marginals).mean()),
        aggregate_kl_nats=float((log_qz - log_pz).mean()),
        dimwise_kl_nats=float((log_qz_marginals - log_pz).mean()),
        moment_kl_nats=moment_kl(mu, logvar),
        mutual_info_bound_nats=log_n,
    )


def moment_kl(mu: Tensor, logvar: Tensor) -> float:
    """Σ_j KL(N(m_j, v_j) ‖ N(0, 1)) of the aggregate posterior's per-dimension moments."""
    mu, var = mu.double(), logvar.double().exp()
    return kl_moments(mu.mean(0), mu.var(0, unbiased=False) + var.mean(0))


def _log_aggregate_densities(z: Tensor, mu: Tensor, logvar: Tensor) -> tuple[Tensor, Tensor]:
    """logsumexp_m log q(z_n|x_m) and Σ_j logsumexp_m log q(z_nj|x_m), each [N] float64 (CPU).

    The joint is one fp64 matrix product per block of rows: Σ_j (z_nj − μ_mj)²/σ²_mj expands
    into [z², z] · [1/σ², −2μ/σ²]ᵀ + Σ μ²/σ², and fp64 keeps the cancellation harmless. The
    marginals need all N·N·J terms (the O(N² J) part): densities in fp32 in the direct form,
    summed with a matrix-vector product, no log-sum-exp — one dimension's own component
    exp(−ε²/2)/σ is far above the floor, and exponents are clamped at −80 so nothing denormal
    slows the CPU down.
    """
    n, latent_dim = mu.shape
    zd, md, lvd = z.double(), mu.double(), logvar.double()
    inv_var = torch.exp(-lvd)
    lhs = torch.cat([zd * zd, zd], 1)  # [N, 2J]
    rhs_t = torch.cat([-0.5 * inv_var, md * inv_var], 1).T.contiguous()  # [2J, N]
    const = (-0.5 * (md * md * inv_var + lvd + _LOG_2PI)).sum(1)  # [N]
    z_t, mu_t = z.T.contiguous(), mu.T.contiguous()  # [J, N]: rows of one dim are contiguous
    neg_half_inv_var = (-0.5 * torch.exp(-logvar)).T.contiguous()[:, None, :]
    norm = torch.exp(-0.5 * (logvar + _LOG_2PI)).T.contiguous()[:, :, None]  # 1/(σ√2π)
    rows = max(1, min(n, _BLOCK_BYTES // (4 * n * latent_dim)))
    buf = torch.empty(latent_dim * rows * n)  # reused: a fresh 32 MB per block means page faults
    log_qz = torch.empty(n, dtype=torch.float64)
    log_qz_marginals = torch.empty(n, dtype=torch.float64)
    for r0 in range(0, n, rows):
        r1 = min(n, r0 + rows)
        log_qz[r0:r1] = torch.logsumexp(torch.addmm(const, lhs[r0:r1], rhs_t), dim=1)
        d = buf[: latent_dim * (r1 - r0) * n].view(latent_dim, r1 - r0, n)
        torch.sub(z_t[:, r0:r1, None], mu_t[:, None, :], out=d)
        d.square_().mul_(neg_half_inv_var).clamp_(min=-80.0).exp_()
        density = torch.bmm(d, norm).squeeze(2)  # [J, b]: Σ_m q(z_nj | x_m)
        log_qz_marginals[r0:r1] = density.double().clamp_min(1e-300).log().sum(0)
    return log_qz, log_qz_marginals
