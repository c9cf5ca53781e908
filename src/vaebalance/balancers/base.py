"""The balancer interface: statistics of the batch in, the weights of the objective out.

A balancer is a small ``nn.Module`` whose **buffers are its whole state** (a multiplier, a
moving average, an integral), so ``state_dict()`` / ``load_state_dict()`` checkpoint it, it moves
with ``.to(device)``, and it updates in place on the device without a host synchronisation.
Like an optax transformation, it maps the weights produced so far to new ones, which is what
makes :class:`Chain` composition work (e.g. GECO followed by a warm-up factor).

The objective it parameterizes is always, per example in nats (batch means)::

    loss = D + β · R                       (the β-ELBO; β = 1 is the ELBO)
    loss = D + β · Σ_j max(λ_j, R̄_j)        with free bits λ (Kingma et al. 2016)
    loss = D + β · Σ_g max(λ, Σ_{j∈g} R̄_j)  free bits on G contiguous groups of latent dims
    loss = D + β · |R − C|                  with a capacity C (Burgess et al. 2018)

where D is the likelihood's NLL summed over the K input elements, R the KL summed over the J
latent dimensions, and R̄_j the batch-mean KL of dimension j. The reported ELBO always uses the
true KL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class Stats:
    """Detached batch statistics (tensors on the training device, batch means)."""

    rate: Tensor  # KL summed over J, nats/example
    distortion: Tensor  # NLL summed over K, nats/example
    kl_per_dim: Tensor  # [J], nats
    mse_per_element: Tensor  # of the decoder mean
    step: Tensor  # optimizer steps taken before this one (int64 scalar)


@dataclass(frozen=True)
class Weights:
    """What the objective applies. ``None`` means the term's plain form."""

    beta: Tensor | float = 1.0
    free_bits: Tensor | float | None = None  # per-dimension floor on R̄_j, nats
    free_bits_groups: int | None = None  # the floor applies to G contiguous groups' sums instead
    capacity: Tensor | float | None = None  # target rate C, nats (summed over J)

    def replace(self, **changes) -> Weights:
        return replace(self, **changes)


@dataclass(frozen=True)
class Context:
    """What a balancer may need to know about the model, given once before the first step."""

    input_dim: int  # K
    latent_dim: int  # J
    likelihood: nn.Module


class Balancer(nn.Module):
    """Base class. Subclasses set ``name`` and ``params`` and implement :meth:`forward`.

    ``forward(stats, weights, training)`` returns the weights for this step; when ``training``
    it may also update the buffers (never in evaluation). ``bind(context)`` is called once
    before the first step, to check compatibility and resolve K- or J-dependent parameters.
    """

    name: str = ""
    params: tuple[str, ...] = ()

    def bind(self, context: Context) -> None:
        self.context = context

    def forward(self, stats: Stats, weights: Weights, training: bool) -> Weights:
        raise NotImplementedError

    def report(self) -> dict:
        """Host-side summary for logs and ``metrics.json`` (may synchronise; call rarely)."""
        return {}

    def extra_repr(self) -> str:
        return ", ".join(f"{p}={getattr(self, p)!r}" for p in self.params)


class Chain(Balancer):
    """Apply balancers in order, each transforming the weights of the one before."""

    name = "chain"

    def __init__(self, *balancers: Balancer):
        super().__init__()
        self.balancers = nn.ModuleList(balancers)

    def bind(self, context):
        super().bind(context)
        for b in self.balancers:
            b.bind(context)

    def forward(self, stats, weights, training):
        for b in self.balancers:
            weights = b(stats, weights, training)
        return weights

    def report(self):
        out = {}
        for b in self.balancers:
            out.update(b.report())
        return out


def rate_term(kl_per_dim: Tensor, weights: Weights) -> Tensor:
    """The weighted rate part of the loss (see the module docstring), a scalar."""
    if weights.free_bits is not None:
        kl = kl_per_dim
        if weights.free_bits_groups is not None:
            kl = kl.reshape(weights.free_bits_groups, -1).sum(1)
        rate = torch.clamp(kl, min=weights.free_bits).sum()
    else:
        rate = kl_per_dim.sum()
    if weights.capacity is not None:
        rate = (rate - weights.capacity).abs()
    return weights.beta * rate
