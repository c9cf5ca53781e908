"""GECO (Rezende & Viola 2018, "Taming VAEs", arXiv 1810.00597, Algorithm 1)."""

from __future__ import annotations

import math

import torch

from ..errors import check
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

        Ĉ_t   = min(mse_t / target − 1, 1e6)                  (dimensionless: one η fits any scale)
        C_ma  = Ĉ_1 at the first step, else α·C_ma + (1 − α)·Ĉ_t
        log λ ← clamp(log λ + η·s·C_ma, log λ_min, log λ_max),  s = speedup if C_ma < 0 else 1

    α = 0.99 as in every published implementation; λ_0 = 1 as in the paper. ``speedup`` is
    GENESIS's (Engelcke et al. 2020) faster relaxation of λ once the constraint is met. The step
    uses λ before its update (Algorithm 1). The defaults η = 0.003, speedup = 10 and
    λ ∈ [1e-6, 1e6] were tuned on ``digits`` (a 64-128-8 MLP VAE reaches its target MSE within
    3% in ~2000 Adam steps). ``at_clamp_steps`` counts consecutive steps with λ pinned at a
    clamp: pinned for a whole epoch with ``target_met`` False means the target is infeasible.

    Args:
        target_mse: the target MSE per input element of the decoder mean (required, > 0).
        alpha: α ∈ [0, 1), the moving-average factor of the constraint (default 0.99).
        lr: η > 0, the step size of log λ (default 0.003).
        speedup: s ≥ 1, the factor on η while the constraint is satisfied (default 10).
        lambda_init, lambda_min, lambda_max: λ_0 = 1 and its clamps [1e-6, 1e6].
        tolerance: ``target_met`` means MSE_ma ≤ (1 + tolerance)·target (default 0.05).
    """

    name = "geco"
    params = ("target_mse", "alpha", "lr", "speedup", "lambda_init", "lambda_min", "lambda_max",
              "tolerance")  # fmt: skip

    def __init__(
        self,
        target_mse: float | None = None,
        alpha: float = 0.99,
        lr: float = 0.003,
        speedup: float = 10.0,
        lambda_init: float = 1.0,
        lambda_min: float = 1e-6,
        lambda_max: float = 1e6,
        tolerance: float = 0.05,
    ):
        super().__init__()
        check(target_mse is not None, "geco needs target_mse, the target MSE per input element")
        check(0 < target_mse < math.inf, f"geco: target_mse must be > 0, got {target_mse:g}")
        check(0 <= alpha < 1, f"geco: alpha must be in [0, 1), got {alpha}")
        check(0 < lr < math.inf, f"geco: lr must be > 0, got {lr:g}")
        check(1 <= speedup < math.inf, f"geco: speedup must be ≥ 1, got {speedup}")
        check(
            0 < lambda_min <= lambda_init <= lambda_max < math.inf,
            f"geco: need 0 < lambda_min ≤ lambda_init ≤ lambda_max < inf, got "
            f"{lambda_min}, {lambda_init}, {lambda_max}",
        )
        check(tolerance >= 0, f"geco: tolerance must be ≥ 0, got {tolerance}")
        self.target_mse, self.alpha, self.lr, self.speedup = target_mse, alpha, lr, speedup
        self.lambda_init, self.lambda_min, self.lambda_max = lambda_init, lambda_min, lambda_max
        self.tolerance = tolerance
        self._log_min, self._log_max = math.log(lambda_min), math.log(lambda_max)
        self.register_buffer("log_lambda", torch.tensor(math.log(lambda_init)))
        self.register_buffer("constraint_ma", torch.tensor(0.0))
        self.register_buffer("mse_ma", torch.tensor(0.0))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        self.register_buffer("at_clamp_steps", torch.zeros((), dtype=torch.long))

    def forward(self, stats, weights, training):
        beta = torch.exp(-self.log_lambda)  # a new tensor: the update below does not change it
        if training:
            with torch.no_grad():
                mse = stats.mse_per_element.to(self.mse_ma)
                c_hat = (mse / self.target_mse - 1).clamp(max=1e6)
                first = self.updates == 0
                a = self.alpha
                self.constraint_ma.copy_(
                    torch.where(first, c_hat, a * self.constraint_ma + (1 - a) * c_hat)
                )
                self.mse_ma.copy_(torch.where(first, mse, a * self.mse_ma + (1 - a) * mse))
                c = self.constraint_ma
                raw = self.log_lambda + self.lr * torch.where(c < 0, self.speedup * c, c)
                pinned = (raw <= self._log_min) | (raw >= self._log_max)
                self.log_lambda.copy_(raw.clamp(self._log_min, self._log_max))
                self.at_clamp_steps.copy_(torch.where(pinned, self.at_clamp_steps + 1, 0))
                self.updates += 1
        return weights.replace(beta=weights.beta * beta)

    def status(self):
        seen = int(self.updates) > 0
        pinned = int(self.at_clamp_steps) > 0
        return TargetStatus(
            target="target_mse",
            value=self.target_mse,
            reached=float(self.mse_ma) if seen else None,
            met=(float(self.mse_ma) <= (1 + self.tolerance) * self.target_mse) if seen else None,
            pinned=pinned,
            infeasible=int(self.at_clamp_steps) >= self.patience(),
            multiplier=("lambda", math.exp(float(self.log_lambda))),
        )

    def report(self):
        lam = math.exp(float(self.log_lambda))
        seen = int(self.updates) > 0
        mse_ma = float(self.mse_ma)
        return {
            "lambda": lam,
            "beta": 1 / lam,
            "constraint_ma": float(self.constraint_ma) if seen else None,
            "mse_ma": mse_ma if seen else None,
            "target_mse": self.target_mse,
            "at_clamp_steps": int(self.at_clamp_steps),
        }
