"""Encoder/decoder families and the :class:`VAE` container; ``build_model`` from a config.

Architectures register by name (``mlp``, ``conv``); each says how to build an encoder giving
``[B, 2J]`` and a decoder giving the likelihood's output for examples of a given shape. A new
architecture is a class with ``name``, ``encoder`` and ``decoder`` in its own file, registered
in :mod:`.build` and named in :data:`.config.ARCHITECTURE_NAMES`.

The config (:mod:`.config`) is plain data and loads eagerly; the names that need torch load
on first use (PEP 562), so that reading a run's config does not import torch.
"""

# ruff: noqa: F401  (the names under TYPE_CHECKING are re-exports, loaded lazily)
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports
from .config import ARCHITECTURES as ARCHITECTURES
from .config import DECODERS as DECODERS
from .config import ModelConfig as ModelConfig
from .config import check_model_config as check_model_config

_LAZY = {"VAE": ".vae", "Linear": ".linear", "build_model": ".build"}

if TYPE_CHECKING:
    from .build import build_model
    from .linear import Linear
    from .vae import VAE


__getattr__, __dir__ = exports(globals(), _LAZY)
