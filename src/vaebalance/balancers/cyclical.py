"""Cyclical KL annealing (Fu et al., NAACL 2019, arXiv 1903.10145)."""

from __future__ import annotations

import math

from ..errors import check
from .base import Balancer
from .registry import register
from .schedules import check_shape, check_steps, ramp, step_float


@register
class Cyclical(Balancer):
    """M warm-ups in a row over T steps, each ramping for a fraction R of its cycle, then flat.

    With t the number of optimizer steps taken before this one (``stats.step``), P = T / M::

        τ   = mod(t, P) / P
        β_t = β_0 + (β − β_0)·f(τ / R)   if τ ≤ R,   else β      (t < T)
        β_t = β                                                  (t ≥ T: training goes on at β)

    f is the ramp ``shape`` (see :mod:`.schedules`). This is Fu et al.'s
    ``frange_cycle_linear(T, start, stop, n_cycle=M, ratio=R)`` written as a formula (their
    sigmoid and cosine variants from the paper's notebook are the other shapes); when T/M is not
    an integer their array starts cycle c at step ⌊c·T/M⌋ while the formula starts it at c·T/M,
    which differs at most by one ramp increment near cycle starts. In a
    :class:`Chain` it multiplies the incoming β by β_t; alone, β_t is exact. No state.

    Args:
        beta_start: β_0 (default 0).
        beta: the top of each cycle (default 1).
        steps: T, the total length of the cycles in optimizer steps (default 10000).
        cycles: M, the number of cycles (default 4, as in the paper).
        ratio: R ∈ (0, 1], the fraction of each cycle spent increasing (default 0.5).
        shape: "linear" (default), "sigmoid" or "cosine".
    """

    name = "cyclical"
    params = ("beta_start", "beta", "steps", "cycles", "ratio", "shape")

    def __init__(
        self,
        beta_start: float = 0.0,
        beta: float = 1.0,
        steps: int = 10000,
        cycles: int = 4,
        ratio: float = 0.5,
        shape: str = "linear",
    ):
        super().__init__()
        for what, v in (("beta_start", beta_start), ("beta", beta)):
            check(math.isfinite(v) and v >= 0, f"cyclical: {what} must be ≥ 0, got {v}")
        check_steps("cyclical", steps)
        check(
            isinstance(cycles, int) and cycles >= 1, f"cyclical: cycles must be ≥ 1, got {cycles}"
        )
        check(0 < ratio <= 1, f"cyclical: ratio must be in (0, 1], got {ratio}")
        check_shape("cyclical", shape)
        self.beta_start, self.beta, self.steps = beta_start, beta, steps
        self.cycles, self.ratio, self.shape = cycles, ratio, shape

    def value(self, step):
        """β_t for an int64 step tensor."""
        t = step_float(step)
        period = self.steps / self.cycles
        tau = (t % period) / period
        f = ramp(tau / self.ratio, self.shape)  # ramp() clamps: f = 1 for τ > R
        f = f.masked_fill(t >= self.steps, 1.0)
        return self.beta_start + (self.beta - self.beta_start) * f

    def schedule_steps(self) -> int:
        return self.steps

    def forward(self, stats, term, training):
        return term.replace(beta=term.beta * self.value(stats.step))
