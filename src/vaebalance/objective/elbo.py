"""``ELBOLoss``: the objective with stated units, as a module that works with any model.

Per example, in nats: distortion D = −log p(x|z) summed over the K input elements, rate
R = KL(q(z|x) ‖ N(0, I)) summed over the J latent dims; every reported number is a batch mean
of those, so nothing depends on the batch size. The ELBO is −(D + R). The balancer decides how
R enters ``loss`` (the rate term, :mod:`.terms`); with none, β = 1 and ``loss`` is the negative
ELBO.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import check
from . import balancer as balancing
from . import likelihoods
from .balancer import Balancer, Context
from .kl import kl_normal_std
from .terms import RateTerm, Stats


@dataclass(frozen=True)
class LossOutput:
    """One batch's objective. All values are batch means in nats per example."""

    loss: Tensor  # scalar to backpropagate
    elbo: Tensor  # −(distortion + rate)
    rate: Tensor  # KL summed over J
    distortion: Tensor  # NLL summed over K
    kl_per_dim: Tensor  # [J]
    beta: Tensor  # the weight the balancer applied to the rate term
    mse_per_element: Tensor  # of the decoder mean, detached
    rate_term: RateTerm  # how the rate entered ``loss``

    @property
    def weights(self) -> RateTerm:
        """``rate_term`` under its name of version 0.1."""
        return self.rate_term


class ELBOLoss(nn.Module):
    """The (β-)ELBO for any encoder/decoder pair: ``out = loss_fn(x, decoder_output, mu, logvar)``.

    Args:
        likelihood: a name from :func:`vaebalance.likelihoods.names` or a ``Likelihood``.
        balancer: ``None`` (β = 1), a name (``"geco"``, ``"warmup+geco"``), or a
            :class:`~vaebalance.balancers.Balancer`.
        validate: check shapes, finiteness and ranges each call (one host sync per call);
            trainers that validated their data once turn it off.
        **likelihood_params: e.g. ``sigma=0.1`` for ``"gaussian"``.

    The module owns the likelihood's learnable scale (``gaussian-learned``) and the balancer's
    state, so ``loss_fn.parameters()`` must go to the optimizer and ``loss_fn.state_dict()`` into
    checkpoints. In training mode each call is one step: the balancer updates its state.

    ``stats_hook`` (data-parallel training sets it, :mod:`vaebalance.training.distributed`)
    maps this process's batch statistics to the whole batch's before the balancer sees them,
    so every process applies the same β; the loss then takes the whole batch's values with
    this shard's gradients (x + (x_all − x).detach()), which averaged over the processes are
    the whole batch's gradients, also where the rate term is not linear (free bits, capacity).

    Example:
        >>> loss_fn = ELBOLoss("bernoulli")
        >>> x = torch.rand(8, 1, 28, 28).round()
        >>> out = loss_fn(x, torch.zeros(8, 1, 28, 28), torch.zeros(8, 4), torch.zeros(8, 4))
        >>> round(float(out.distortion), 3)  # 784 · ln 2
        543.427
    """

    def __init__(
        self,
        likelihood: str | likelihoods.Likelihood = "bernoulli",
        balancer: str | Balancer | None = None,
        validate: bool = True,
        **likelihood_params,
    ):
        super().__init__()
        self.likelihood = likelihoods.get(likelihood, **likelihood_params)
        self.balancer = balancing.get(balancer)
        self.validate = validate
        self.register_buffer("step", torch.zeros((), dtype=torch.long))
        self._bound = False
        self.stats_hook: Callable[[Stats], Stats] | None = None

    def bind(self, input_dim: int, latent_dim: int, total_steps: int | None = None) -> None:
        """Tell the balancer K, J and, where known, the run's length in optimizer steps (done
        on the first call, without the length, if not done before)."""
        self.balancer.bind(Context(input_dim, latent_dim, self.likelihood, total_steps))
        self._bound = True

    def forward(self, x: Tensor, decoder_output: Tensor, mu: Tensor, logvar: Tensor) -> LossOutput:
        distortion = self.likelihood.nll(x, decoder_output, validate=self.validate).mean()
        kl = kl_normal_std(mu, logvar)
        check(
            kl.shape[0] == x.shape[0],
            f"batch size mismatch: x has {x.shape[0]} examples, mu has {kl.shape[0]}",
        )
        kl_per_dim = kl.mean(0)
        rate = kl_per_dim.sum()
        with torch.no_grad():
            mse = (self.likelihood.mean(decoder_output) - x).pow(2).mean()
        if not self._bound:
            self.bind(x[0].numel(), mu.shape[1])
        stats = Stats(rate.detach(), distortion.detach(), kl_per_dim.detach(), mse, self.step)
        if self.training and self.stats_hook is not None:
            stats = self.stats_hook(stats)
            distortion = distortion + (stats.distortion - distortion).detach()
            kl_per_dim = kl_per_dim + (stats.kl_per_dim - kl_per_dim).detach()
            rate, mse = kl_per_dim.sum(), stats.mse_per_element
        if self.training:
            term = self._balance_finite(stats)
        else:
            term = self.balancer(stats, RateTerm(), False)
        loss = distortion + term(kl_per_dim)
        if self.training:
            self.step += 1
        beta = torch.as_tensor(term.beta, device=rate.device)
        return LossOutput(loss, -(distortion + rate), rate, distortion, kl_per_dim, beta, mse, term)

    def _balance_finite(self, stats: Stats) -> RateTerm:
        """One training call of the balancer whose state update only counts on finite stats.

        A batch with a NaN/inf statistic (bad data, a diverging step) would otherwise poison the
        balancer's moving averages or integral for good. The buffers are restored where the
        stats were not finite, with ``torch.where``: no host synchronisation.
        """
        before = [b.clone() for b in self.balancer.buffers()]
        term = self.balancer(stats, RateTerm(), True)
        if before:
            with torch.no_grad():
                # rate is the sum of kl_per_dim: one non-finite entry makes the sum non-finite.
                finite = torch.isfinite(stats.rate + stats.distortion + stats.mse_per_element)
                for buf, old in zip(self.balancer.buffers(), before):
                    buf.copy_(torch.where(finite, buf, old))
        return term
