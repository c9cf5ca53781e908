"""Encoder/decoder families and the :class:`VAE` container; ``build_model`` from a config.

Architectures register by name (``mlp``, ``conv``); each says how to build an encoder giving
``[B, 2J]`` and a decoder giving the likelihood's output for examples of a given shape. A new
architecture is a class with ``name``, ``encoder`` and ``decoder`` in its own file, registered
in :data:`ARCHITECTURES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError, unknown_choice
from ..registry import Registry
from .conv import Conv
from .linear import Linear as Linear
from .mlp import MLP, mlp_decoder
from .vae import VAE as VAE

ARCHITECTURES = Registry("model arch")
for _arch in (MLP, Conv):
    ARCHITECTURES.register(_arch)
DECODERS = ("mirror", "linear")


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "mlp"  # an architecture name: "mlp", or "conv" (images only)
    latent_dim: int = 16  # J
    hidden: tuple[int, ...] = (512, 256)  # MLP widths, encoder order; the decoder mirrors them
    channels: tuple[int, ...] = (32, 64, 128)  # conv channels per stride-2 stage
    decoder: str = "mirror"  # "linear": an affine decoder (exact likelihoods, e.g. pPCA)


def check_model_config(config: ModelConfig) -> None:
    """Range checks that need neither the data nor the likelihood."""
    if config.arch not in ARCHITECTURES.names():
        raise unknown_choice("model arch", config.arch, ARCHITECTURES.names())
    if config.decoder not in DECODERS:
        raise unknown_choice("decoder", config.decoder, DECODERS)
    if config.latent_dim < 1:
        raise UserError(f"model.latent_dim must be ≥ 1, got {config.latent_dim}")
    if any(h < 1 for h in (*config.hidden, *config.channels)):
        raise UserError("model widths (hidden, channels) must all be ≥ 1")


def build_model(config: ModelConfig, shape: tuple[int, ...], outputs_per_element: int = 1) -> VAE:
    """A VAE for examples of ``shape`` whose decoder feeds a likelihood with that many outputs."""
    check_model_config(config)
    arch = ARCHITECTURES.cls(config.arch)(config)
    j, p = config.latent_dim, outputs_per_element
    encoder = arch.encoder(shape, j)
    if config.decoder == "linear":
        decoder = mlp_decoder(shape, (), j, p)
    else:
        decoder = arch.decoder(shape, j, p)
    return VAE(encoder, decoder, j)
