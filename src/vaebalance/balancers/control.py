"""ControlVAE (Shao et al., ICML 2020, arXiv 2004.05988): a PI controller that holds the KL
at a set point by tuning β."""

from __future__ import annotations

import math

import torch

from ..errors import check, unknown_choice
from . import logpi
from .base import Balancer, TargetStatus
from .registry import register
from .schedules import step_float

FORMS = ("log", "paper")
# The paper's code (disentangling: ki = 0.001; image generation and text use 0.0001).
PAPER = {"kp": 0.01, "ki": 0.001, "beta_min": 0.0, "beta_max": 1.0}
LOG = {"beta_min": 1e-4, "beta_max": 1e4}


@register
class ControlVAE(Balancer):
    """A PI controller on β that holds the KL (nats, summed over J) at ``target_kl``.

    ``form="log"`` (the default) runs the controller of :mod:`vaebalance.balancers.logpi` on
    log β with the relative error e = clamp(log(KL̂ / target), −1, 1)::

        log β ← clamp(log β + s·ki·clamp(L_t, −1, 1) + kp·(e_t − e_{t−1}), log β_min, log β_max)

    from β_0 = 1, β ∈ [1e-4, 1e4], ki = 0.02 (× 5000/T for runs of T > 5000 steps), s = speedup
    = 4 while the KL is above target (β rising) else 1, kp = 0, KL̂ a 20-step moving average of
    log KL (α = 0.95); the integral acts on the error left after a wait: e + ė·w while the KL
    closes on the target at slope ė (0 once it would get there within w = ½·(0.9·T − t)),
    e + ė·100 while it is above target and still growing (the model's drift, which goes on)
    (:func:`vaebalance.balancers.logpi.outlook`). Unitless gains reach a 3-nat and a 300-nat target
    alike, and β above 1 is in range: targets below the β = 1 rate are reachable by default.

    ``form="paper"`` is the paper's rule, ``β_t = kp·σ(−e_t) − ki·Σ_{s≤t} e_s + β_min`` clamped
    to [β_min, β_max] with e = target − KL̂ in nats; σ(−e) = 1/(1 + e^{e}), so the P term is
    large when the KL is above target. The paper writes −K_i·Σe with K_i > 0; its reference
    code (shj1987/ControlVAE-ICML2020) writes I ← I + Ki·e with Ki < 0: ``ki`` here is that
    code's −Ki. Defaults as in the code: kp = 0.01, ki = 0.001, β ∈ [0, 1], α = 0 (the batch
    KL). Anti-windup as in the paper: the integral moves only while β_min ≤ β_raw(t−1) ≤ β_max
    (β_raw(0) = β_min); it also moves when its step leads back inside (conditional
    integration), without which the literal rule can lock β at a bound once ki·|e| > kp.

    The target may follow a schedule from ``target_start``: a linear ramp to ``target_kl`` over
    ``target_steps`` steps, or the paper's staircase, + ``target_step`` nats every
    ``target_every`` steps up to ``target_kl`` (disentangling runs: 0.5 + 0.15 per 5000 steps).
    ``at_clamp_steps`` counts consecutive steps with β pinned at a bound; the target is
    infeasible when β is pinned and the error has not shrunk for :meth:`patience` steps.
    ``target_met``: |KL_avg / target − 1| ≤ tolerance, KL_avg a 0.99 moving average.

    Args:
        target_kl: the set point in nats, KL summed over J (required, > 0).
        form: ``"log"`` or ``"paper"``.
        kp, ki: the gains (≥ 0); beta_min, beta_max: the clamp (0 ≤ β_min < β_max; > 0 in log).
        speedup: s ≥ 1, the factor on ki while β rises (log form; default 4).
        alpha: α ∈ [0, 1), moving average of the KL the controller sees.
        target_start, target_steps, target_step, target_every: the optional target schedule.
        tolerance: relative band for ``target_met`` (default 0.03).
    """

    name = "control"
    params = ("target_kl", "form", "kp", "ki", "speedup", "beta_min", "beta_max", "alpha",
              "target_start", "target_steps", "target_step", "target_every",
              "tolerance")  # fmt: skip

    def __init__(
        self,
        target_kl: float | None = None,
        form: str = "log",
        kp: float | None = None,
        ki: float | None = None,
        speedup: float = logpi.SPEEDUP,
        beta_min: float | None = None,
        beta_max: float | None = None,
        alpha: float | None = None,
        target_start: float | None = None,
        target_steps: int | None = None,
        target_step: float | None = None,
        target_every: int | None = None,
        tolerance: float = 0.03,
    ):
        super().__init__()
        check(target_kl is not None, "control needs target_kl, the target KL in nats")
        check(0 < target_kl < math.inf, f"control: target_kl must be > 0 nats, got {target_kl:g}")
        if form not in FORMS:
            raise unknown_choice("control form", form, FORMS)
        bounds = PAPER if form == "paper" else LOG
        beta_min = bounds["beta_min"] if beta_min is None else beta_min
        beta_max = bounds["beta_max"] if beta_max is None else beta_max
        if form == "paper":
            kp, ki = (PAPER["kp"] if kp is None else kp), (PAPER["ki"] if ki is None else ki)
            alpha = 0.0 if alpha is None else alpha
        check(
            all(g is None or g >= 0 for g in (kp, ki)),
            f"control: kp, ki must be ≥ 0, got {kp}, {ki}",
        )
        check(1 <= speedup < math.inf, f"control: speedup must be ≥ 1, got {speedup}")
        check(0 <= beta_min < beta_max < math.inf, "control: need 0 ≤ beta_min < beta_max < inf")
        check(form == "paper" or beta_min > 0, "control: the log form needs beta_min > 0")
        check(alpha is None or 0 <= alpha < 1, f"control: alpha must be in [0, 1), got {alpha}")
        _check_schedule(target_kl, target_start, target_steps, target_step, target_every)
        check(tolerance >= 0, f"control: tolerance must be ≥ 0, got {tolerance}")
        self.target_kl, self.form, self.kp, self.ki = target_kl, form, kp, ki
        self.speedup = speedup
        self.beta_min, self.beta_max, self.alpha = beta_min, beta_max, alpha
        self.target_start, self.target_steps = target_start, target_steps
        self.target_step, self.target_every, self.tolerance = target_step, target_every, tolerance
        beta0 = beta_min if form == "paper" else min(max(1.0, beta_min), beta_max)
        self.register_buffer("beta", torch.tensor(float(beta0)))
        self.register_buffer("beta_raw", torch.tensor(float(beta0)))
        self.register_buffer("integral", torch.tensor(0.0))  # paper: −ki·Σe; log: log β
        self.register_buffer("kl_ma", torch.tensor(0.0))  # what the paper's controller sees
        self.register_buffer("log_kl_fast", torch.tensor(0.0))  # what the log controller sees
        self.register_buffer("log_kl_slow", torch.tensor(0.0))  # for the slope
        self.register_buffer("kl_avg", torch.tensor(0.0))  # 0.99 average, for report()
        self.register_buffer("target", torch.tensor(float(target_kl)))  # the last set point
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        self.register_buffer("at_clamp_steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("stalled_steps", torch.zeros((), dtype=torch.long))
        if form == "log":
            self.integral.fill_(math.log(beta0))

    def gains(self) -> tuple[float, float]:
        """(ki, kp): the given values, else the defaults for the bound run's length."""
        total = self.context.total_steps if self.context is not None else None
        ki = self.ki if self.ki is not None else logpi.default_ki(total)
        return ki, (self.kp or 0.0)

    def schedule_steps(self) -> int | None:
        """Steps until the scheduled target reaches ``target_kl`` (None without a schedule)."""
        if self.target_start is None:
            return None
        if self.target_steps is not None:
            return self.target_steps
        stairs = math.ceil((self.target_kl - self.target_start) / self.target_step)
        return max(0, stairs) * self.target_every

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
                self._update(stats)
        return weights.replace(beta=weights.beta * self.beta.clone())

    def _update(self, stats):
        ki, kp = self.gains()
        kl = stats.rate.to(self.kl_ma)
        first = self.updates == 0
        self.kl_avg.copy_(torch.where(first, kl, 0.99 * self.kl_avg + 0.01 * kl))
        self.target.copy_(self.target_at(stats.step))
        log_target = logpi.log_of(self.target)
        h = logpi.horizon(None if self.form == "paper" else self.alpha)
        e_prev = (self.log_kl_fast - log_target).clamp(-logpi.E_MAX, logpi.E_MAX)
        logpi.average(self.log_kl_fast, self.log_kl_slow, logpi.log_of(kl), first, h)
        total = self.context.total_steps if self.context is not None else None
        left, coming = logpi.outlook(self.log_kl_fast, self.log_kl_slow, h, log_target,
                                     stats.step, total, rise_above=True)  # fmt: skip
        if self.form == "paper":
            a = self.alpha
            self.kl_ma.copy_(torch.where(first, kl, a * self.kl_ma + (1 - a) * kl))
            pinned = self._paper_step(ki, kp)
        else:
            ki = ki * torch.where(self.log_kl_fast > log_target, self.speedup, 1.0)
            lo, hi = logpi.bounds(self.beta_min, self.beta_max)
            e = (self.log_kl_fast - log_target).clamp(-logpi.E_MAX, logpi.E_MAX)
            logpi.step(self.integral, self.log_kl_fast, log_target, ki, left, lo, hi, kp,
                       torch.where(first, e, e_prev))  # fmt: skip
            pinned = (self.integral <= lo) | (self.integral >= hi)
            self.kl_ma.copy_(torch.exp(self.log_kl_fast))
            self.beta.copy_(torch.exp(self.integral))
            self.beta_raw.copy_(self.beta)
        self.at_clamp_steps.copy_(torch.where(pinned, self.at_clamp_steps + 1, 0))
        logpi.count_stall(self.stalled_steps, pinned, coming)
        self.updates += 1

    def _paper_step(self, ki, kp):
        e = self.target - self.kl_ma
        d_i = -ki * e
        lo, hi, prev = self.beta_min, self.beta_max, self.beta_raw
        inside = (prev >= lo) & (prev <= hi)
        integrate = inside | ((prev > hi) & (d_i < 0)) | ((prev < lo) & (d_i > 0))
        self.integral.add_(torch.where(integrate, d_i, torch.zeros_like(d_i)))
        raw = kp * torch.sigmoid(-e) + self.integral + lo
        self.beta_raw.copy_(raw)
        self.beta.copy_(raw.clamp(lo, hi))
        return (raw <= lo) | (raw >= hi)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # State written by 0.1 (the paper's form only): start the new buffers afresh.
        if prefix + "kl_ma" in state_dict and prefix + "stalled_steps" not in state_dict:
            for name in ("log_kl_fast", "log_kl_slow", "stalled_steps"):
                state_dict[prefix + name] = getattr(self, name).clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _met(self, kl_avg: float, target: float) -> bool:
        return abs(kl_avg - target) <= self.tolerance * target

    def status(self):
        seen = int(self.updates) > 0
        kl_avg, target = float(self.kl_avg), float(self.target)
        return TargetStatus(
            target="target_kl",
            value=target,
            reached=kl_avg if seen else None,
            met=self._met(kl_avg, target) if seen else None,
            pinned=int(self.at_clamp_steps) > 0,
            infeasible=int(self.stalled_steps) >= self.patience(),
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


def _check_schedule(target_kl, target_start, target_steps, target_step, target_every):
    ramp, stairs = target_steps is not None, (target_step, target_every) != (None, None)
    if target_start is None:
        check(not (ramp or stairs), "control: a target schedule needs target_start")
        return
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
