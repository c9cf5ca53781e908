"""Shared pieces of the step schedules (warm-up, cyclical, capacity): ramp shapes on [0, 1].

Every shape f is increasing with f(0) = 0 and f(1) = 1, computed with tensor ops on the device:

- ``linear``:  f(v) = v
- ``sigmoid``: the logistic s(v) = 1 / (1 + e^{−(12v − 6)}) of Fu et al.'s notebook, rescaled to
  hit the end points exactly: f(v) = (s(v) − s(0)) / (s(1) − s(0))
- ``cosine``:  f(v) = ½ − ½·cos(πv)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..errors import check, unknown_choice

SHAPES = ("linear", "sigmoid", "cosine")
_S0 = 1 / (1 + math.exp(6.0))
_S1 = 1 / (1 + math.exp(-6.0))


def check_shape(owner: str, shape: str, allowed: tuple[str, ...] = SHAPES) -> None:
    if shape not in allowed:
        raise unknown_choice(f"{owner} shape", shape, allowed)


def check_steps(owner: str, steps: int) -> None:
    check(
        isinstance(steps, int) and steps >= 1, f"{owner}: steps must be an integer ≥ 1, got {steps}"
    )


def ramp(v: Tensor, shape: str) -> Tensor:
    """f(clamp(v, 0, 1)) for one of :data:`SHAPES`."""
    v = v.clamp(0.0, 1.0)
    if shape == "linear":
        return v
    if shape == "sigmoid":
        return (torch.sigmoid(12 * v - 6) - _S0) / (_S1 - _S0)
    return 0.5 - 0.5 * torch.cos(math.pi * v)


def step_float(step: Tensor) -> Tensor:
    """The int64 step counter as a float32 tensor on its device (exact up to 2^24 steps)."""
    return step.to(torch.float32)
