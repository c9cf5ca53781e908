"""The rate term: KL(q(z|x) ‖ p(z)) per latent dimension, in nats.

The closed form covers the common case (diagonal Gaussian posterior, standard normal prior)
without building distribution objects in the training step; :func:`kl_divergence` covers any
other pair, analytically through ``torch.distributions``' registry where it has the pair and by
Monte Carlo otherwise.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.distributions import Distribution

from ..errors import check


def kl_normal_std(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) per dimension: ``½ (μ² + σ² − 1 − log σ²)``, shape ``[B, J]``.

    Kingma & Welling 2014, appendix B. Sum over dim 1 for the per-example rate.

        >>> import math
        >>> kl = kl_normal_std(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4.0)]]))
        >>> [round(v, 4) for v in kl[0].tolist()]  # ½·1² ; ½(4 − 1 − ln 4)
        [0.5, 0.8069]
    """
    check(
        mu.shape == logvar.shape and mu.dim() == 2,
        f"mu and logvar must both be [B, J]; got {tuple(mu.shape)} and {tuple(logvar.shape)}",
    )
    # expm1: e^lv − 1 − lv cancels for |lv| ≪ 1 and went negative (−3e-8 in float32)
    return 0.5 * (mu * mu + (torch.expm1(logvar) - logvar))


def moment_kl(mean: Tensor, var: Tensor) -> float:
    """Σ_j KL(N(m_j, v_j) ‖ N(0, 1)) = Σ_j ½(m_j² + v_j − 1 − log v_j) of an aggregate
    posterior q(z) with per-dimension mean ``mean`` and variance ``var`` (each ``[J]``).

    For a given mean and variance the Gaussian has the largest entropy, so this is a lower
    bound on KL(q(z_j) ‖ N(0, 1)) for each dim; it needs only two moments of the codes, so it
    can be summed over batches (the variance of q(z_j) is Var_n μ_nj + E_n σ²_nj).

        >>> round(moment_kl(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 4.0])), 4)  # ½ + 0.8069
        1.3069
    """
    m, v = mean.double(), var.double()
    return float((0.5 * (m * m + v - 1 - v.log())).sum())


def kl_divergence(q: Distribution, p: Distribution, samples: int = 64) -> Tensor:
    """KL(q ‖ p) with q's batch shape: analytic where registered, else Monte Carlo.

    The Monte Carlo estimate averages ``log q(z) − log p(z)`` over ``samples`` draws of
    ``z ~ q`` (reparameterized where q allows it, so it can be trained through). It is unbiased
    but noisy; its standard error falls as 1/√samples. For per-dimension values, pass
    factorized distributions with batch shape ``[B, J]`` (not ``Independent``).
    """
    try:
        return torch.distributions.kl_divergence(q, p)
    except NotImplementedError:
        pass
    check(samples > 0, f"samples must be > 0, got {samples}")
    z = q.rsample((samples,)) if q.has_rsample else q.sample((samples,))
    return (q.log_prob(z) - p.log_prob(z)).mean(0)
