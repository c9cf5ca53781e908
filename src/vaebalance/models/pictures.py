"""Pictures of a trained model as PNG bytes: reconstructions, prior samples, latent traversals.

Pixels go straight to Pillow (no chart axes): small images such as 8×8 digits are enlarged
with nearest-neighbour so each pixel stays a crisp square. Which examples, codes and dims a
run's report shows is decided by :mod:`vaebalance.runs.pictures`, which also keeps the PNGs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import torch
from PIL import Image
from torch import Tensor

from .imaging import Invert, image_grid, in_data_units, prior_samples, reconstructions

TARGET_WIDTH = 720  # px: a grid is enlarged by the whole factor that comes closest to this


def grid_png(images: Tensor, nrow: int) -> bytes:
    """``[N, C, H, W]`` images in [0, 1] as one PNG grid."""
    grid = image_grid(images.float().cpu(), nrow=nrow)
    c, h, w = grid.shape
    pixels = (grid.clamp(0, 1) * 255).round().to(torch.uint8)
    array = pixels[0].numpy() if c == 1 else pixels.permute(1, 2, 0).numpy()
    image = Image.fromarray(array)  # uint8 [H, W] is greyscale, [H, W, 3] is RGB
    scale = max(1, round(TARGET_WIDTH / w))
    if scale > 1:
        image = image.resize((w * scale, h * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def reconstruction_png(model, likelihood, x: Tensor, invert: Invert = None) -> bytes:
    """Originals in the top row, their reconstructions (decoder mean at z = μ) below; ``x`` as
    the model sees it, both rows shown in the data's units (``invert`` undoes a
    standardization)."""
    recon = reconstructions(model, likelihood, x, invert)
    return grid_png(torch.cat([in_data_units(x, invert), recon]), nrow=len(x))


def samples_png(model, likelihood, n: int = 32, seed: int = 0, invert: Invert = None) -> bytes:
    return grid_png(prior_samples(model, likelihood, n, seed, invert), nrow=8)


@torch.no_grad()
def traversal_png(
    model, likelihood, base: Tensor, dims: list[int], values: Sequence[float], invert: Invert = None
) -> bytes:
    """One row per dim j: decode the base code with z_j set to each of ``values`` (in prior
    standard deviations), the others fixed."""
    values = torch.tensor(list(values), dtype=torch.float32)
    z = base.reshape(1, -1).repeat(len(dims) * len(values), 1)
    for row, j in enumerate(dims):
        z[row * len(values) : (row + 1) * len(values), j] = values
    device = next(model.parameters()).device
    images = likelihood.mean(model.decode(z.to(device)).float())
    return grid_png(in_data_units(images, invert), nrow=len(values))
