"""KL warm-up (Bowman et al. 2016, "KL cost annealing"; Sønderby et al. 2016, "deterministic
warm-up"): β rises from ``beta_start`` to ``beta`` over the first ``steps`` optimizer steps."""

from __future__ import annotations

import math

from ..errors import check
from .base import Balancer
from .registry import register
from .schedules import check_shape, check_steps, ramp, step_float


@register
class Warmup(Balancer):
    """``β_t = β_0 + (β − β_0)·f(min(t / T, 1))``, then ``β`` for t ≥ T.

    t is the number of optimizer steps taken before this one (``stats.step``), T = ``steps`` and f
    the ramp ``shape`` (see :mod:`.schedules`; "linear" is Sønderby et al.'s, "sigmoid" the
    S-curve of Bowman et al.). In a :class:`Chain` it multiplies the incoming β by β_t, so
    ``Chain(Warmup(), GECO(...))`` fades GECO's β in; alone the incoming β is 1 and β_t is exact.
    No state: the schedule is a function of the step, which the objective checkpoints.

    Args:
        beta_start: β_0 (default 0).
        beta: the final β (default 1).
        steps: T, the length of the ramp in optimizer steps (default 10000).
        shape: "linear" (default), "sigmoid" or "cosine".
    """

    name = "warmup"
    params = ("beta_start", "beta", "steps", "shape")

    def __init__(
        self, beta_start: float = 0.0, beta: float = 1.0, steps: int = 10000, shape: str = "linear"
    ):
        super().__init__()
        for what, v in (("beta_start", beta_start), ("beta", beta)):
            check(math.isfinite(v) and v >= 0, f"warmup: {what} must be ≥ 0, got {v}")
        check_steps("warmup", steps)
        check_shape("warmup", shape)
        self.beta_start, self.beta, self.steps, self.shape = beta_start, beta, steps, shape

    def value(self, step):
        """β_t for an int64 step tensor."""
        f = ramp(step_float(step) / self.steps, self.shape)
        return self.beta_start + (self.beta - self.beta_start) * f

    def schedule_steps(self) -> int:
        return self.steps

    def forward(self, stats, term, training):
        return term.replace(beta=term.beta * self.value(stats.step))
