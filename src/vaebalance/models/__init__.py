"""Encoder/decoder families and the :class:`VAE` container; ``build_model`` from a config."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError, unknown_choice
from .conv import conv_decoder, conv_encoder
from .mlp import mlp_decoder, mlp_encoder
from .vae import VAE as VAE

ARCHS = ("mlp", "conv")
DECODERS = ("mirror", "linear")


@dataclass
class ModelConfig:
    arch: str = "mlp"  # "mlp" or "conv" (images only)
    latent_dim: int = 16  # J
    hidden: tuple[int, ...] = (512, 256)  # MLP widths, encoder order; the decoder mirrors them
    channels: tuple[int, ...] = (32, 64, 128)  # conv channels per stride-2 stage
    decoder: str = "mirror"  # "linear": an affine decoder (exact likelihoods, e.g. pPCA)


def build_model(config: ModelConfig, shape: tuple[int, ...], outputs_per_element: int = 1) -> VAE:
    """A VAE for examples of ``shape`` whose decoder feeds a likelihood with that many outputs."""
    if config.arch not in ARCHS:
        raise unknown_choice("model arch", config.arch, ARCHS)
    if config.decoder not in DECODERS:
        raise unknown_choice("decoder", config.decoder, DECODERS)
    if config.latent_dim < 1:
        raise UserError(f"model.latent_dim must be ≥ 1, got {config.latent_dim}")
    if any(h < 1 for h in (*config.hidden, *config.channels)):
        raise UserError("model widths (hidden, channels) must all be ≥ 1")
    if config.arch == "conv" and not config.channels:
        raise UserError("model.channels needs at least one stage for the conv model")
    j, p = config.latent_dim, outputs_per_element
    if config.arch == "conv":
        encoder = conv_encoder(shape, config.channels, j)
    else:
        encoder = mlp_encoder(shape, config.hidden, j)
    if config.decoder == "linear":
        decoder = mlp_decoder(shape, (), j, p)
    elif config.arch == "conv":
        decoder = conv_decoder(shape, config.channels, j, p)
    else:
        decoder = mlp_decoder(shape, config.hidden, j, p)
    return VAE(encoder, decoder, j)
