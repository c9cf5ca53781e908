"""GECO (Rezende & Viola 2018, "Taming VAEs", arXiv 1810.00597, Algorithm 1)."""

from __future__ import annotations

import math

import torch

from ..errors import check
from . import logpi
from .base import Balancer, TargetStatus
from .registry import register


@register
class GECO(Balancer):
    """Minimize the KL subject to a reconstruction constraint ``MSE ≤ target_mse``.

    GECO's Lagrangian is R + λ·C with a multiplier λ > 0; here the loss stays ``D + β·R`` with
    β = 1/λ (the same minimizer, rescaled by 1/λ). So the constraint's gradient flows through the
    likelihood's NLL D of the *current* batch — for a fixed-σ Gaussian exactly GECO's ‖x − g(z)‖²
    constraint up to a constant factor folded into λ, for other likelihoods D is the
    reconstruction surrogate — while λ is driven by the MSE per element of the decoder mean::

        m_t   = α·m_{t−1} + (1 − α)·log mse_t           (m_1 = log mse_1; α = 0.95)
        C_t   = clamp(m_t − log target, −1, 1)           (dimensionless: one η fits any scale)
        L_t   = C_t + ė·w  while the MSE falls towards the target (0 once it would get there
                               within the wait w = ½·(0.9·T − t)),
                C_t + ė·100  while it is below target and still falling, else C_t
        log λ ← clamp(log λ + η·s·clamp(L_t, −1, 1), log λ_min, log λ_max),
                s = speedup if C_t < 0 else 1

    This is Algorithm 1 — a multiplicative λ driven by a moving average of the constraint —
    with the constraint measured as a log ratio (symmetric, unitless, ≈ mse/target − 1 near the
    target), and with the step acting only on the part of the gap the network will not close on
    its own within the wait (ė = d log MSE/dt from the 20- and 100-step averages), so λ does
    not wind up while the network is still learning to reconstruct at all; below the target
    and still falling, the gap 100 steps ahead, so β climbs back at the pace the network
    learns (:func:`vaebalance.balancers.logpi.outlook`). :mod:`vaebalance.balancers.logpi`
    derives these defaults: η = 0.02 (× 5000/T for runs of T > 5000 steps), λ ∈ [1e-4, 1e4],
    λ_0 = 1 as in the paper (β = 1, the ELBO). The step uses λ before its update (Algorithm 1).
    ``at_clamp_steps`` counts consecutive steps with λ pinned at a clamp; the target is
    infeasible when λ is pinned and the error has not shrunk for :meth:`patience` steps.

    Args:
        target_mse: the target MSE per input element of the decoder mean (required, > 0).
        alpha: α ∈ [0, 1), the moving-average factor of log MSE (default 0.95: 20 steps).
        lr: η > 0, the step size of log λ (default 0.02, × 5000/T in runs of T > 5000 steps).
        speedup: s ≥ 1, GENESIS's (Engelcke et al. 2020) factor on η while the constraint is
            met, i.e. while β rises (default 4: a model that keeps learning needs ever larger
            β, so the lag error lies on that side).
        lambda_init, lambda_min, lambda_max: λ_0 = 1 and its clamps [1e-4, 1e4].
        tolerance: ``target_met`` means MSE_avg ≤ (1 + tolerance)·target (default 0.03), with
            MSE_avg a 100-step moving average.
    """

    name = "geco"
    params = ("target_mse", "alpha", "lr", "speedup", "lambda_init", "lambda_min", "lambda_max",
              "tolerance")  # fmt: skip

    def __init__(
        self,
        target_mse: float | None = None,
        alpha: float | None = None,
        lr: float | None = None,
        speedup: float = logpi.SPEEDUP,
        lambda_init: float = 1.0,
        lambda_min: float = 1e-4,
        lambda_max: float = 1e4,
        tolerance: float = 0.03,
    ):
        super().__init__()
        check(target_mse is not None, "geco needs target_mse, the target MSE per input element")
        check(0 < target_mse < math.inf, f"geco: target_mse must be > 0, got {target_mse:g}")
        check(alpha is None or 0 <= alpha < 1, f"geco: alpha must be in [0, 1), got {alpha}")
        check(lr is None or 0 < lr < math.inf, f"geco: lr must be > 0, got {lr}")
        check(1 <= speedup < math.inf, f"geco: speedup must be ≥ 1, got {speedup}")
        check(
            0 < lambda_min <= lambda_init <= lambda_max < math.inf,
            f"geco: need 0 < lambda_min ≤ lambda_init ≤ lambda_max < inf, got "
            f"{lambda_min}, {lambda_init}, {lambda_max}",
        )
        check(tolerance >= 0, f"geco: tolerance must be ≥ 0, got {tolerance}")
        self.target_mse, self.alpha, self.lr = target_mse, alpha, lr
        self.speedup, self.tolerance = speedup, tolerance
        self.lambda_init, self.lambda_min, self.lambda_max = lambda_init, lambda_min, lambda_max
        self._log_min, self._log_max = math.log(lambda_min), math.log(lambda_max)
        self.register_buffer("log_lambda", torch.tensor(math.log(lambda_init)))
        self.register_buffer("log_mse_fast", torch.tensor(0.0))  # what the controller sees
        self.register_buffer("log_mse_slow", torch.tensor(0.0))  # for the slope
        self.register_buffer("mse_avg", torch.tensor(0.0))  # 0.99 average, for status()
        self.register_buffer("constraint", torch.tensor(0.0))  # the last C_t
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        self.register_buffer("at_clamp_steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("stalled_steps", torch.zeros((), dtype=torch.long))

    def step_size(self) -> float:
        """η: the given ``lr``, else the default for the bound run's length."""
        total = self.context.total_steps if self.context is not None else None
        return self.lr if self.lr is not None else logpi.default_ki(total)

    def forward(self, stats, weights, training):
        beta = torch.exp(-self.log_lambda)  # a new tensor: the update below does not change it
        if training:
            with torch.no_grad():
                self._update(stats)
        return weights.replace(beta=weights.beta * beta)

    def _update(self, stats):
        mse = stats.mse_per_element.to(self.mse_avg)
        first = self.updates == 0
        h = logpi.horizon(self.alpha)
        logpi.average(self.log_mse_fast, self.log_mse_slow, logpi.log_of(mse), first, h)
        self.mse_avg.copy_(torch.where(first, mse, 0.99 * self.mse_avg + 0.01 * mse))
        log_target = math.log(self.target_mse)
        total = self.context.total_steps if self.context is not None else None
        left, coming = logpi.outlook(self.log_mse_fast, self.log_mse_slow, h, log_target,
                                     stats.step, total, rise_above=False)  # fmt: skip
        eta = self.step_size() * torch.where(self.log_mse_fast < log_target, self.speedup, 1.0)
        c, pinned = logpi.step(self.log_lambda, self.log_mse_fast, log_target, eta, left,
                               self._log_min, self._log_max)  # fmt: skip
        self.constraint.copy_(c)
        self.at_clamp_steps.copy_(torch.where(pinned, self.at_clamp_steps + 1, 0))
        logpi.count_stall(self.stalled_steps, pinned, coming)
        self.updates += 1

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # State written by 0.1 (a 0.99 average of the MSE, C = mse/target − 1): carry the
        # average over, start the new buffers from it.
        old = prefix + "mse_ma"
        if old in state_dict and prefix + "mse_avg" not in state_dict:
            mse = state_dict.pop(old)
            state_dict.pop(prefix + "constraint_ma", None)
            state_dict[prefix + "mse_avg"] = mse.clone()
            log_mse = logpi.log_of(mse)
            state_dict[prefix + "log_mse_fast"] = log_mse.clone()
            state_dict[prefix + "log_mse_slow"] = log_mse.clone()
            state_dict[prefix + "constraint"] = (log_mse - math.log(self.target_mse)).clamp(-1, 1)
            state_dict[prefix + "stalled_steps"] = self.stalled_steps.clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _met(self, mse: float) -> bool:
        return mse <= (1 + self.tolerance) * self.target_mse

    def status(self):
        seen = int(self.updates) > 0
        mse = float(self.mse_avg)
        return TargetStatus(
            target="target_mse",
            value=self.target_mse,
            reached=mse if seen else None,
            met=self._met(mse) if seen else None,
            pinned=int(self.at_clamp_steps) > 0,
            infeasible=int(self.stalled_steps) >= self.patience(),
            multiplier=("lambda", math.exp(float(self.log_lambda))),
        )

    def report(self):
        lam = math.exp(float(self.log_lambda))
        seen = int(self.updates) > 0
        mse = float(self.mse_avg)
        return {
            "lambda": lam,
            "beta": 1 / lam,
            "constraint_ma": float(self.constraint) if seen else None,
            "mse_ma": mse if seen else None,
            "target_mse": self.target_mse,
            "at_clamp_steps": int(self.at_clamp_steps),
        }
