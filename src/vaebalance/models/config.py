"""What a model is made of, as a config: plain data, no torch (``vaebalance diagnose`` and
``report`` read and check a run's config without building anything).

The architectures register by name in :data:`ARCHITECTURES` as :mod:`.build` is imported;
:data:`ARCHITECTURE_NAMES` lists the built-in ones so that a config is checked before that
(``tests/models/test_models.py`` keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError, unknown_choice
from ..registry import Registry

ARCHITECTURE_NAMES = ("conv", "mlp")  # an architecture's classes take no parameters by name
ARCHITECTURES = Registry(
    "model arch",
    provider="vaebalance.models.build",
    catalogue={name: {} for name in ARCHITECTURE_NAMES},
)
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
