"""Moments of the aggregate posterior."""

import math

import pytest
import torch


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
