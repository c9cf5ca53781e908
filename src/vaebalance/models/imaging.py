"""Pictures of a model: reconstructions, prior samples and grids (for TensorBoard and reports)."""

from __future__ import annotations

import torch
from torch import Tensor


def image_grid(images: Tensor, nrow: int = 8, pad: int = 1) -> Tensor:
    """Tile ``[N, C, H, W]`` images in [0, 1] into one ``[C, H', W']`` image, white gaps."""
    n, c, h, w = images.shape
    ncol = min(nrow, n)
    rows = -(-n // ncol)
    grid = torch.ones(c, rows * (h + pad) + pad, ncol * (w + pad) + pad)
    for i in range(n):
        r, k = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        grid[:, top : top + h, left : left + w] = images[i].clamp(0, 1)
    return grid


@torch.no_grad()
def reconstructions(model, likelihood, x: Tensor) -> Tensor:
    """Decoder means at the posterior means: what the model makes of each input."""
    mu, _ = model.encode(x)
    return likelihood.mean(model.decode(mu).float())


@torch.no_grad()
def prior_samples(model, likelihood, n: int, seed: int = 0) -> Tensor:
    """Decoder means at ``n`` draws z ~ N(0, I) (means, not noisy samples, as is customary)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, model.latent_dim, generator=g)
    device = next(model.parameters()).device
    return likelihood.mean(model.decode(z.to(device)).float())
