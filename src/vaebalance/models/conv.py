"""Convolutional encoders and decoders for 1- or 3-channel images from 8×8 to 64×64.

Each stage halves (encoder) or doubles (decoder) the spatial size with a 4×4 kernel, stride 2,
padding 1, so sizes must be divisible by 2 per stage; the stack stops at 4×4 or when a size
turns odd, and a fully connected layer maps the last feature map to the latent parameters.
"""

from __future__ import annotations

from torch import nn

from ..errors import UserError
from .linear import Linear

MIN_SIZE, MAX_SIZE = 8, 64


def stages_for(shape: tuple[int, ...], max_stages: int) -> int:
    """How many stride-2 stages an image of ``shape`` (C, H, W) takes; a UserError if none."""
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise UserError(
            f"the conv model needs images of shape (C, H, W) with C = 1 or 3; got {shape}"
        )
    _, h, w = shape
    if not (MIN_SIZE <= h <= MAX_SIZE and MIN_SIZE <= w <= MAX_SIZE):
        raise UserError(f"the conv model takes images from 8×8 to 64×64; got {h}×{w}")
    n = 0
    while n < max_stages and h % 2 == 0 and w % 2 == 0 and min(h, w) // 2 >= 4:
        h, w, n = h // 2, w // 2, n + 1
    if n == 0:
        raise UserError(
            f"the conv model halves the image size at each stage; {shape[1]}×{shape[2]} is not "
            "divisible by 2 (use --model mlp, or crop/pad to an even size)"
        )
    return n


def conv_encoder(shape: tuple[int, ...], channels: tuple[int, ...], latent_dim: int) -> nn.Module:
    n = stages_for(shape, len(channels))
    layers: list[nn.Module] = []
    c_in = shape[0]
    for c in channels[:n]:
        layers += [nn.Conv2d(c_in, c, 4, 2, 1), nn.ReLU()]
        c_in = c
    h, w = shape[1] >> n, shape[2] >> n
    layers += [nn.Flatten(), Linear(c_in * h * w, 2 * latent_dim)]
    return nn.Sequential(*layers)


def conv_decoder(
    shape: tuple[int, ...], channels: tuple[int, ...], latent_dim: int, outputs_per_element: int
) -> nn.Module:
    n = stages_for(shape, len(channels))
    chans = list(reversed(channels[:n]))
    h, w = shape[1] >> n, shape[2] >> n
    layers: list[nn.Module] = [
        Linear(latent_dim, chans[0] * h * w),
        nn.ReLU(),
        nn.Unflatten(1, (chans[0], h, w)),
    ]
    for c_in, c_out in zip(chans, chans[1:]):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.ReLU()]
    layers.append(nn.ConvTranspose2d(chans[-1], shape[0] * outputs_per_element, 4, 2, 1))
    return nn.Sequential(*layers)


class Conv:
    """Stride-2 convolution stages (``model.channels``) for images of 8×8 to 64×64."""

    name = "conv"

    def __init__(self, config):
        if not config.channels:
            raise UserError("model.channels needs at least one stage for the conv model")
        self.channels = tuple(config.channels)

    def encoder(self, shape, latent_dim):
        return conv_encoder(shape, self.channels, latent_dim)

    def decoder(self, shape, latent_dim, outputs_per_element):
        return conv_decoder(shape, self.channels, latent_dim, outputs_per_element)
