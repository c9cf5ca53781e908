"""``build_model``: a :class:`~.vae.VAE` from a :class:`~.config.ModelConfig`, for examples of
a given shape; importing this module registers the architectures."""

from __future__ import annotations

from .config import ARCHITECTURES, ModelConfig, check_model_config
from .conv import Conv
from .mlp import MLP, mlp_decoder
from .vae import VAE

for _arch in (MLP, Conv):
    ARCHITECTURES.register(_arch)


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
