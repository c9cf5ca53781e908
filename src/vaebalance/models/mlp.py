"""Fully connected encoders and decoders, for images (flattened) and for feature vectors."""

from __future__ import annotations

import math

from torch import nn

from .linear import Linear


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def mlp_encoder(shape: tuple[int, ...], hidden: tuple[int, ...], latent_dim: int) -> nn.Module:
    """x [B, *shape] → [B, 2J]."""
    return nn.Sequential(nn.Flatten(), mlp([math.prod(shape), *hidden, 2 * latent_dim]))


def mlp_decoder(
    shape: tuple[int, ...], hidden: tuple[int, ...], latent_dim: int, outputs_per_element: int
) -> nn.Module:
    """z [B, J] → [B, P·C, H, W] (or [B, P·D]); ``hidden`` in encoder order, mirrored here.

    With ``hidden=()`` the decoder is linear (an affine map, as in probabilistic PCA).
    """
    out_shape = (shape[0] * outputs_per_element, *shape[1:])
    net = mlp([latent_dim, *reversed(hidden), math.prod(out_shape)])
    return nn.Sequential(net, nn.Unflatten(1, out_shape))


class MLP:
    """Fully connected encoder and mirrored decoder (``model.hidden`` widths)."""

    name = "mlp"

    def __init__(self, config):
        self.hidden = tuple(config.hidden)

    def encoder(self, shape, latent_dim):
        return mlp_encoder(shape, self.hidden, latent_dim)

    def decoder(self, shape, latent_dim, outputs_per_element):
        return mlp_decoder(shape, self.hidden, latent_dim, outputs_per_element)
