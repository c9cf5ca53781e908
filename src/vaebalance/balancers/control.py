"""ControlVAE (Shao et al., ICML 2020, arXiv 2004.05988): a PI controller that holds the KL
at a set point by tuning β."""

from __future__ import annotations

import math

import torch

from ..errors import check
from .base import Balancer, TargetStatus
from .registry import register
from .schedules import step_float


@register
class ControlVAE(Balancer):
    """``β_t = kp·σ(−e_t) − ki·Σ_{s≤t} e_s + β_min``, clamped to [β_min, β_max], e = target − KL.

    σ(−e) = 1/(1 + e^{e}), so the P term is large when the KL is above target. The paper writes
    −K_i·Σe with K_i > 0; its reference code (shj1987/ControlVAE-ICML2020) writes I ← I + Ki·e with
    Ki < 0: ``ki`` here is that code's −Ki. KL̂ is the batch KL summed over J (the paper), or its
    moving average KL̂ ← α·KL̂ + (1 − α)·KL if ``alpha`` > 0. β_t uses the current batch's KL and
    weights the current step, as in the reference code. Anti-windup as in the paper: the integral
    moves only while β_min ≤ β_raw(t−1) ≤ β_max (the unclamped value, β_raw(0) = β_min); it also
    moves when its step leads back inside (standard conditional integration), without which the
    literal rule can lock β at a bound for ever once ki·|e| > kp.

    The target may follow a schedule from ``target_start``: a linear ramp to ``target_kl`` over
    ``target_steps`` steps, or the paper's staircase, + ``target_step`` nats every
    ``target_every`` steps up to ``target_kl`` (disentangling runs: 0.5 + 0.15 per 5000 steps).
    Defaults kp = 0.01, ki = 0.001 (the disentangling code; 0.0001 for image generation),
    β ∈ [0, 1]. ``at_clamp_steps`` counts consecutive steps with β pinned at a bound; with
    ``target_met`` False (|KL_avg / target − 1| > tolerance, KL_avg a 0.99 moving average) for
    a whole epoch, the target is not reachable within [β_min, β_max].

    Args:
        target_kl: the set point in nats, KL summed over J (required, > 0).
        kp, ki: the gains (≥ 0). beta_min, beta_max: the clamp (0 ≤ β_min < β_max).
        alpha: α ∈ [0, 1), moving average of the KL the controller sees (default 0: batch KL).
        target_start, target_steps, target_step, target_every: the optional target schedule.
        tolerance: relative band for ``target_met`` (default 0.05).
    """

    name = "control"
    params = ("target_kl", "kp", "ki", "beta_min", "beta_max", "alpha", "target_start",
              "target_steps", "target_step", "target_every", "tolerance")  # fmt: skip

    def __init__(
        self,
        target_kl: float | None = None,
        kp: float = 0.01,
        ki: float = 0.001,
        beta_min: float = 0.0,
        beta_max: float = 1.0,
        alpha: float = 0.0,
        target_start: float | None = None,
        target_steps: int | None = None,
        target_step: float | None = None,
        target_every: int | None = None,
        tolerance: float = 0.05,
    ):
        super().__init__()
        check(target_kl is not None, "control needs target_kl, the target KL in nats")
        check(0 < target_kl < math.inf, f"control: target_kl must be > 0 nats, got {target_kl:g}")
        check(kp >= 0 and ki >= 0, f"control: kp and ki must be ≥ 0, got {kp}, {ki}")
        check(0 <= beta_min < beta_max < math.inf, "control: need 0 ≤ beta_min < beta_max < inf")
        check(0 <= alpha < 1, f"control: alpha must be in [0, 1), got {alpha}")
        ramp, stairs = target_steps is not None, (target_step, target_every) != (None, None)
        if target_start is None:
            check(not (ramp or stairs), "control: a target schedule needs target_start")
        else:
            check(target_start >= 0, f"control: target_start must be ≥ 0, got {target_start}")
            check(ramp != stairs, "control: give target_steps, or target_step and target_every")
            if ramp:
                check(target_steps >= 1, "control: target_steps must be ≥ 1")
            else:
                check(
                    None not in (target_step, target_every) and target_step > 0 < target_every,
                    "control: the staircase needs target_step > 0 and target_every ≥ 1",
                )
                check(target_start <= target_kl, "control: target_start must be ≤ target_kl")
        check(tolerance >= 0, f"control: tolerance must be ≥ 0, got {tolerance}")
        self.target_kl, self.kp, self.ki = target_kl, kp, ki
        self.beta_min, self.beta_max, self.alpha = beta_min, beta_max, alpha
        self.target_start, self.target_steps = target_start, target_steps
        self.target_step, self.target_every, self.tolerance = target_step, target_every, tolerance
        self.register_buffer("beta", torch.tensor(float(beta_min)))
        self.register_buffer("beta_raw", torch.tensor(float(beta_min)))
        self.register_buffer("integral", torch.tensor(0.0))  # −ki·Σe
        self.register_buffer("kl_ma", torch.tensor(0.0))  # what the controller sees
        self.register_buffer("kl_avg", torch.tensor(0.0))  # 0.99 average, for report()
        self.register_buffer("target", torch.tensor(float(target_kl)))  # the last set point
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        self.register_buffer("at_clamp_steps", torch.zeros((), dtype=torch.long))

    def target_at(self, step):
        """The set point (nats) for an int64 step tensor."""
        t, c, c0 = step_float(step), self.target_kl, self.target_start
        if c0 is None:
            return torch.full_like(t, c)
        if self.target_steps is not None:
            return c0 + (c - c0) * (t / self.target_steps).clamp(max=1.0)
        n = torch.div(step, self.target_every, rounding_mode="floor").to(t)
        return (c0 + self.target_step * n).clamp(max=c)

    def forward(self, stats, weights, training):
        if training:
            with torch.no_grad():
                kl = stats.rate.to(self.kl_ma)
                first = self.updates == 0
                for buf, a in ((self.kl_ma, self.alpha), (self.kl_avg, 0.99)):
                    buf.copy_(torch.where(first, kl, a * buf + (1 - a) * kl))
                self.target.copy_(self.target_at(stats.step))
                e = self.target - self.kl_ma
                d_i = -self.ki * e
                lo, hi, prev = self.beta_min, self.beta_max, self.beta_raw
                inside = (prev >= lo) & (prev <= hi)
                integrate = inside | ((prev > hi) & (d_i < 0)) | ((prev < lo) & (d_i > 0))
                self.integral.add_(torch.where(integrate, d_i, torch.zeros_like(d_i)))
                raw = self.kp * torch.sigmoid(-e) + self.integral + lo
                pinned = (raw <= lo) | (raw >= hi)
                self.beta_raw.copy_(raw)
                self.beta.copy_(raw.clamp(lo, hi))
                self.at_clamp_steps.copy_(torch.where(pinned, self.at_clamp_steps + 1, 0))
                self.updates += 1
        return weights.replace(beta=weights.beta * self.beta.clone())

    def status(self):
        seen = int(self.updates) > 0
        kl_avg, target = float(self.kl_avg), float(self.target)
        return TargetStatus(
            target="target_kl",
            value=target,
            reached=kl_avg if seen else None,
            met=abs(kl_avg - target) <= self.tolerance * target if seen else None,
            pinned=int(self.at_clamp_steps) > 0,
            infeasible=int(self.at_clamp_steps) >= self.patience(),
            multiplier=("beta", float(self.beta)),
        )

    def report(self):
        seen = int(self.updates) > 0
        kl_avg, target = float(self.kl_avg), float(self.target)
        return {
            "beta": float(self.beta),
            "kl_ma": kl_avg if seen else None,
            "target_kl": target,
            "at_clamp_steps": int(self.at_clamp_steps),
        }
