"""The VAE container: any encoder giving [B, 2J] and any decoder giving the likelihood's output.

The encoder's output is split into the posterior mean and log-variance of a diagonal Gaussian
q(z|x); the decoder maps z to the parameters of p(x|z) (logits, a mean, or a mean and a log σ
per element), shaped like x with dim 1 multiplied by the likelihood's ``outputs_per_element``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class VAE(nn.Module):
    # Data-parallel training (:mod:`vaebalance.training.distributed`) sets this to
    # ``(first row, rows in the whole batch)``: each process then draws the whole batch's noise
    # and keeps its own rows, so the noise, like the result, does not depend on the number of
    # processes. None (always, in one process): the noise of this batch alone.
    noise_rows: tuple[int, int] | None = None

    def __init__(self, encoder: nn.Module, decoder: nn.Module, latent_dim: int):
        super().__init__()
        self.encoder, self.decoder, self.latent_dim = encoder, decoder, latent_dim

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior parameters (μ, log σ²), each [B, J]."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """One reparameterized sample: (decoder output, μ, log σ²)."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * self._noise(mu)
        return self.decode(z), mu, logvar

    def _noise(self, mu: Tensor) -> Tensor:
        if self.noise_rows is None:
            return torch.randn_like(mu)
        first, total = self.noise_rows
        noise = torch.randn((total, *mu.shape[1:]), dtype=mu.dtype, device=mu.device)
        return noise[first : first + len(mu)]
