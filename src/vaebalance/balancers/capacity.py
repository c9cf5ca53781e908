"""Capacity annealing (Burgess et al. 2018, "Understanding disentangling in β-VAE",
arXiv 1804.03599, Eq. 8)."""

from __future__ import annotations

import math

from ..errors import check
from .base import Balancer
from .registry import register
from .schedules import check_steps, step_float


@register
class Capacity(Balancer):
    """``loss = D + γ·|R − C(t)|`` with a capacity C(t) = min(C_max, C_max·t / T) nats.

    R is the KL summed over the J latent dims (C is meaningless for other reductions), t the
    number of optimizer steps taken before this one. The published defaults are those of the
    paper's dSprites runs and of its reference code (1Konny/Beta-VAE, disentanglement_lib):
    γ = 1000, C_max = 25 nats reached after T = 100000 steps. Sets the rate term's capacity to C(t) and
    multiplies the incoming β by γ (so a warm-up before it scales γ). No state.

    Args:
        gamma: γ > 0, the weight on |R − C| (default 1000).
        c_max: C_max > 0 in nats (default 25).
        steps: T, the steps over which C rises linearly from 0 (default 100000).
    """

    name = "capacity"
    params = ("gamma", "c_max", "steps")

    def __init__(self, gamma: float = 1000.0, c_max: float = 25.0, steps: int = 100000):
        super().__init__()
        check(math.isfinite(gamma) and gamma > 0, f"capacity: gamma must be > 0, got {gamma:g}")
        check(
            math.isfinite(c_max) and c_max > 0, f"capacity: c_max must be > 0 nats, got {c_max:g}"
        )
        check_steps("capacity", steps)
        self.gamma, self.c_max, self.steps = gamma, c_max, steps

    def value(self, step):
        """C(t) in nats for an int64 step tensor."""
        return (self.c_max * step_float(step) / self.steps).clamp(max=self.c_max)

    def schedule_steps(self) -> int:
        return self.steps

    def forward(self, stats, term, training):
        return term.replace(beta=term.beta * self.gamma, capacity=self.value(stats.step))
