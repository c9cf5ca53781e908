"""Will the model fit? Asked before anything is allocated, so an absurd size is one line.

Training holds, per parameter, its fp32 value, its gradient and Adam's two moments: 16 bytes.
The model is first built on PyTorch's ``meta`` device, which records shapes and allocates
nothing, so a configuration that would need hundreds of GB is refused in milliseconds.
"""

from __future__ import annotations

import torch

from ..data.claims import USABLE_SHARE, available_memory, size_text
from ..errors import UserError
from ..models import build_model

BYTES_PER_PARAMETER = 16  # fp32 value + gradient + Adam's first and second moments


def parameter_count(model_cfg, shape, outputs_per_element: int) -> int:
    """Parameters of the model ``build_model`` would make, counted without allocating them."""
    with torch.device("meta"):
        model = build_model(model_cfg, shape, outputs_per_element)
    return sum(p.numel() for p in model.parameters())


def check_fits(model_cfg, shape, outputs_per_element: int) -> None:
    """A UserError, before any allocation, when training the model cannot fit in memory."""
    n = parameter_count(model_cfg, shape, outputs_per_element)
    need, memory = n * BYTES_PER_PARAMETER, available_memory()
    if need > memory.usable:
        raise UserError(
            f"the model (model.arch={model_cfg.arch}, model.latent_dim={model_cfg.latent_dim}, "
            f"input {'×'.join(map(str, shape))}) has {n:,} parameters: training needs about "
            f"{size_text(need)} for them, their gradients and Adam's moments, more than the "
            f"{size_text(memory.usable)} that may be used ({USABLE_SHARE:.0%} of the "
            f"{size_text(memory.available)} {memory.source}); choose a smaller "
            "model.latent_dim or model.hidden"
        )
