"""Pictures of a trained model as PNG bytes: reconstructions, prior samples, latent traversals.

Pixels go straight to Pillow (no chart axes): small images such as 8×8 digits are enlarged
with nearest-neighbour so each pixel stays a crisp square.
"""

from __future__ import annotations

import io

import torch
from PIL import Image
from torch import Tensor

from ..models.imaging import Invert, image_grid, in_data_units, prior_samples, reconstructions

TARGET_WIDTH = 720  # px: a grid is enlarged by the whole factor that comes closest to this
TRAVERSAL_VALUES = torch.linspace(-3, 3, 9)  # z_j in prior standard deviations
TRAVERSAL_DIMS = 6


def is_image_shape(shape) -> bool:
    """(C, H, W) with one or three channels; anything else (tables, (D,)) has no picture."""
    return len(shape) == 3 and shape[0] in (1, 3)


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


def top_dims(kl_per_dim: list[float], k: int = TRAVERSAL_DIMS) -> list[int]:
    """The k dims with the largest KL (ties to the lower index): the ones the code uses most."""
    order = sorted(range(len(kl_per_dim)), key=lambda j: (-kl_per_dim[j], j))
    return order[:k]


@torch.no_grad()
def traversal_png(model, likelihood, base: Tensor, dims: list[int], invert: Invert = None) -> bytes:
    """One row per dim j: decode the base code with z_j set to each of −3 … 3, others fixed."""
    values = TRAVERSAL_VALUES
    z = base.reshape(1, -1).repeat(len(dims) * len(values), 1)
    for row, j in enumerate(dims):
        z[row * len(values) : (row + 1) * len(values), j] = values
    device = next(model.parameters()).device
    images = likelihood.mean(model.decode(z.to(device)).float())
    return grid_png(in_data_units(images, invert), nrow=len(values))
