"""Balancing by a running decoder variance (Asperti & Trentin 2020, "Balancing reconstruction
error and Kullback-Leibler divergence in variational autoencoders", arXiv 2002.07514)."""

from __future__ import annotations

import torch

from ..errors import UserError
from .base import Balancer
from .registry import register


@register
class Dynamic(Balancer):
    """A Gaussian decoder whose variance γ² is a running, non-increasing batch MSE.

    After each training step (reference code, asperti/BalancingVAE ``computed_gamma.py``)::

        mse_run ← min(mse_run, 0.99·mse_run + 0.01·mse_batch),   mse_run(0) = 1,   γ² = mse_run

    Their objective is SSE/(2γ²) + R (+ K log γ, constant in the weights). With a ``gaussian``
    likelihood of fixed σ, D = SSE/(2σ²) + const, so SSE/(2γ²) + R = (σ²/γ²)·[D + (γ²/σ²)·R] +
    const: the same minimizer as D + β·R with β = γ²/σ², up to a positive factor that only
    rescales the learning rate. So this multiplies the incoming β by γ²/σ², using γ² before
    this step's update (the reference updates after the step). β then shrinks as the
    reconstruction improves, like σ-VAE's optimal σ but smoothed and monotone. The reference
    code's extra KL factor k = (2·img_dim/latent_dim)² is an architecture constant, not part of
    the method; use a :class:`Constant` in a :class:`Chain` for it.

    Needs ``likelihood="gaussian"`` with a fixed sigma (checked in :meth:`bind`).
    """

    name = "dynamic"
    params = ()

    def __init__(self):
        super().__init__()
        self.register_buffer("mse_run", torch.tensor(1.0))
        self._sigma_sq = 1.0

    def bind(self, context):
        super().bind(context)
        lik = context.likelihood
        convention = lik.convention()
        if convention is None or convention.recon != "mse":
            raise UserError(
                f"dynamic sets the scale of a Gaussian decoder itself; it needs likelihood "
                f"gaussian with a fixed sigma, not {lik.name!r}",
                params=("likelihood",),
            )
        self._sigma_sq = 1 / (2 * convention.scale)  # the convention's scale is 1/(2σ²)

    def forward(self, stats, term, training):
        beta = self.mse_run / self._sigma_sq  # a new tensor, unaffected by the update below
        if training:
            with torch.no_grad():
                mse = stats.mse_per_element.to(self.mse_run)
                self.mse_run.copy_(torch.minimum(self.mse_run, 0.99 * self.mse_run + 0.01 * mse))
        return term.replace(beta=term.beta * beta)

    def report(self):
        return {"gamma_squared": float(self.mse_run), "beta": float(self.mse_run) / self._sigma_sq}
