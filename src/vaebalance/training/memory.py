"""Will the model fit? Asked before anything is allocated, so an absurd size is one line.

Training holds, per parameter, its fp32 value, its gradient and Adam's two moments: 16 bytes.
The model is first built on PyTorch's ``meta`` device, which records shapes and allocates
nothing, so a configuration that would need hundreds of GB is refused in milliseconds.
"""

from __future__ import annotations

import os

import torch

from ..errors import UserError
from ..models import build_model

BYTES_PER_PARAMETER = 16  # fp32 value + gradient + Adam's first and second moments
HEADROOM = 0.8  # of the memory available now; the data and activations need the rest


def available_bytes() -> int | None:
    """Memory the kernel says is available now (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def parameter_count(model_cfg, shape, outputs_per_element: int) -> int:
    """Parameters of the model ``build_model`` would make, counted without allocating them."""
    with torch.device("meta"):
        model = build_model(model_cfg, shape, outputs_per_element)
    return sum(p.numel() for p in model.parameters())


def check_fits(model_cfg, shape, outputs_per_element: int) -> None:
    """A UserError, before any allocation, when training the model cannot fit in memory."""
    n = parameter_count(model_cfg, shape, outputs_per_element)
    need, available = n * BYTES_PER_PARAMETER, available_bytes()
    if available is not None and need > HEADROOM * available:
        raise UserError(
            f"the model (model.arch={model_cfg.arch}, model.latent_dim={model_cfg.latent_dim}, "
            f"input {'×'.join(map(str, shape))}) has {n:,} parameters: training needs about "
            f"{_gib(need)} for them, their gradients and Adam's moments, more than the "
            f"{_gib(available)} of memory available; choose a smaller model.latent_dim or "
            "model.hidden"
        )


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"
