"""Latent statistics: active units (Burda et al. 2016) with the unbiased variance of μ_j, and
the moments of the aggregate posterior."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaebalance.evaluation.latent import ACTIVE_UNITS_THRESHOLD, active_units


def test_variances_are_the_unbiased_sample_variances():
    g = torch.Generator().manual_seed(4)
    mu = torch.randn(7, 5, generator=g) * torch.tensor([0.01, 0.1, 1.0, 3.0, 0.0])
    _, variance = active_units(mu)
    want = np.var(mu.double().numpy(), axis=0, ddof=1)  # Σ(μ − μ̄)² / (N − 1)
    np.testing.assert_allclose(variance.numpy(), want, rtol=1e-12, atol=0)
    assert variance.dtype == torch.float64


def test_a_unit_at_the_threshold_counts_only_with_n_minus_one():
    """Unit 0 has Σ(μ − μ̄)² = 4·0.0108 over N = 5: 0.0108 with N − 1, 0.00864 with N."""
    spread = 0.0108 * 4 / 2
    column = torch.tensor([-1.0, 1.0, 0.0, 0.0, 0.0], dtype=torch.float64) * spread**0.5
    mu = torch.stack([column, torch.zeros(5, dtype=torch.float64)], 1)
    count, variance = active_units(mu)
    assert variance[0].item() == pytest.approx(0.0108, rel=1e-12)
    assert ACTIVE_UNITS_THRESHOLD == 0.01 and count == 1


def test_the_threshold_is_strict():
    """A_j > threshold, not ≥: [0, 2] has unbiased variance exactly 2."""
    mu = torch.tensor([[0.0, 0.0, 0.0], [2.0, 2.1, 1.9]])
    count, variance = active_units(mu, threshold=2.0)
    assert variance[0].item() == 2.0
    assert count == 1  # only the 2.1 column: 2.205 > 2 > 1.805
    assert active_units(mu, threshold=1.0)[0] == 3


@pytest.mark.parametrize("shape", [(1, 3), (4,), (2, 3, 1)])
def test_needs_two_examples_of_a_vector(shape):
    from vaebalance.errors import UserError

    with pytest.raises(UserError, match="need mu"):
        active_units(torch.zeros(shape))


def test_moment_kl_is_the_gaussian_kl_of_the_moments_and_a_lower_bound_on_the_marginal_kl():
    from vaebalance.evaluation.latent import moment_kl

    # One latent dim, q(z) = ½ N(−2, 0.5²) + ½ N(2, 0.5²): mean 0, variance 4 + 0.25.
    mu = torch.tensor([[-2.0], [2.0]])
    logvar = torch.full((2, 1), math.log(0.25))
    v = 4.25
    assert moment_kl(mu, logvar) == pytest.approx(0.5 * (v - 1 - math.log(v)), rel=1e-8)
    # The marginal KL by numerical integration on a fine grid is larger.
    z = torch.linspace(-12, 12, 200_001, dtype=torch.float64)
    q = 0.5 * (torch.distributions.Normal(-2.0, 0.5).log_prob(z).exp()
               + torch.distributions.Normal(2.0, 0.5).log_prob(z).exp())  # fmt: skip
    p = torch.distributions.Normal(0.0, 1.0).log_prob(z).exp()
    exact = float(torch.trapezoid(q * (q.log() - p.log()), z))
    assert exact > moment_kl(mu, logvar) + 0.1
