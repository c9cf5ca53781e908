"""The VAE's reparameterized draw: z = μ + exp(½ log σ²)·ε follows N(μ, σ²)."""

import torch
from torch import nn

from vaebalance.models import VAE

MU = torch.tensor([0.5, -1.0, 2.0, 0.0])
LOGVAR = torch.tensor([-2.0, 0.0, 1.5, -4.0])


class FixedPosterior(nn.Module):
    """An encoder that ignores x: every row gets the same (μ, log σ²)."""

    def forward(self, x):
        return torch.cat([MU, LOGVAR]).expand(len(x), -1)


def test_forward_draws_z_from_the_posterior_it_reports():
    n = 200_000
    vae = VAE(FixedPosterior(), nn.Identity(), latent_dim=len(MU))
    torch.manual_seed(0)
    z, mu, logvar = vae(torch.zeros(n, 1))
    assert torch.equal(mu[0], MU) and torch.equal(logvar[0], LOGVAR)
    z = z.double()
    var = LOGVAR.double().exp()
    # Standard errors at this n: √(σ²/n) for the mean, σ²·√(2/n) ≈ 0.3% for the variance.
    torch.testing.assert_close(
        z.mean(0), MU.double(), atol=float(5 * (var / n).sqrt().max()), rtol=0
    )
    torch.testing.assert_close(z.var(0), var, rtol=0.02, atol=0)


def test_the_draw_is_differentiable_in_mu_and_logvar():
    """dz/dμ = 1 and dz/d log σ² = ½ σ ε = ½ (z − μ): the pathwise gradient of the trick."""
    mu = MU.clone().requires_grad_()
    logvar = LOGVAR.clone().requires_grad_()

    class Encoder(nn.Module):
        def forward(self, x):
            return torch.cat([mu, logvar]).expand(len(x), -1)

    vae = VAE(Encoder(), nn.Identity(), latent_dim=len(MU))
    torch.manual_seed(1)
    z, _, _ = vae(torch.zeros(1, 1))
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones_like(MU))
    torch.testing.assert_close(logvar.grad, 0.5 * (z[0] - MU).detach())
