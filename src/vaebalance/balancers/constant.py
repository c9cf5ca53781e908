"""A fixed β: the ELBO at β = 1, the β-VAE (Higgins et al. 2017) otherwise."""

from __future__ import annotations

import math

from ..errors import UserError, check
from ..objective.explain import beta_for_likelihood
from .base import Balancer
from .registry import register


@register
class Constant(Balancer):
    """``loss = D + β·R`` with a constant β, given in one of three ways.

    Args:
        beta: the weight on the KL summed over J, against the NLL summed over K (1 = ELBO).
        beta_norm: Higgins et al.'s normalized β, β_norm = β·J/K, so β = β_norm·K/J.
        mean_weight: the weight w of a loss written as "mean over pixels + w · mean over
            latents" (the common hand-tuned 0.1), converted exactly as ``vaebalance explain``
            does for this likelihood.
    """

    name = "constant"
    params = ("beta", "beta_norm", "mean_weight")

    def __init__(
        self,
        beta: float | None = None,
        beta_norm: float | None = None,
        mean_weight: float | None = None,
    ):
        super().__init__()
        given = [v for v in (beta, beta_norm, mean_weight) if v is not None]
        check(len(given) <= 1, "give at most one of beta, beta_norm, mean_weight")
        for v in given:
            check(math.isfinite(v) and v >= 0, f"constant: the weight must be ≥ 0, got {v}")
        self.beta, self.beta_norm, self.mean_weight = beta, beta_norm, mean_weight
        self._beta = 1.0 if not given else beta

    def bind(self, context):
        super().bind(context)
        k, j = context.input_dim, context.latent_dim
        if self.beta_norm is not None:
            self._beta = self.beta_norm * k / j
        elif self.mean_weight is not None:
            if self.mean_weight == 0:
                raise UserError("constant: mean_weight must be > 0")
            self._beta = beta_for_likelihood(self.mean_weight, k, j, context.likelihood)

    def forward(self, stats, term, training):
        return term.replace(beta=term.beta * self._beta)

    def report(self):
        return {"beta": self._beta}
