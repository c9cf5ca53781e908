"""Pictures of a model: reconstructions, prior samples and grids (for TensorBoard and reports).

A model trained on standardized data (``data.standardize``) works in standardized units; the
functions here take ``invert`` (e.g. ``Standardization.invert``), which maps its outputs back
to the units of the data as given, so pictures show pixels, not z-scores.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Invert = Callable[[Tensor], Tensor] | None


def in_data_units(x: Tensor, invert: Invert) -> Tensor:
    """``invert(x)``, or ``x`` when there is nothing to invert."""
    return x if invert is None else invert(x)


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
def reconstructions(model, likelihood, x: Tensor, invert: Invert = None) -> Tensor:
    """Decoder means at the posterior means of ``x`` (as the model sees it): what the model
    makes of each input, in the data's units when ``invert`` is given."""
    mu, _ = model.encode(x)
    return in_data_units(likelihood.mean(model.decode(mu).float()), invert)


@torch.no_grad()
def prior_samples(model, likelihood, n: int, seed: int = 0, invert: Invert = None) -> Tensor:
    """Decoder means at ``n`` draws z ~ N(0, I) (means, not noisy samples, as is customary),
    in the data's units when ``invert`` is given."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, model.latent_dim, generator=g)
    device = next(model.parameters()).device
    return in_data_units(likelihood.mean(model.decode(z.to(device)).float()), invert)
