"""The terms of the objective: a batch's statistics, and how the rate enters the loss.

Per example, in nats (batch means): D is the likelihood's NLL summed over the K input elements,
R the KL summed over the J latent dimensions, R̄_j the batch-mean KL of dimension j. The loss
is ``D + rate_term(R̄)`` where the rate term is one of::

    β · R                        the β-ELBO; β = 1 is the ELBO
    β · Σ_j max(λ, R̄_j)          free bits λ per dimension (Kingma et al. 2016)
    β · Σ_g max(λ, Σ_{j∈g} R̄_j)   free bits on G contiguous groups of latent dims
    β · |R − C|                  a capacity C (Burgess et al. 2018)

A balancer decides the :class:`RateTerm` of each step; the reported ELBO always uses the true
KL, whatever the rate term.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor


@dataclass(frozen=True)
class Stats:
    """Detached batch statistics (tensors on the training device, batch means)."""

    rate: Tensor  # KL summed over J, nats/example
    distortion: Tensor  # NLL summed over K, nats/example
    kl_per_dim: Tensor  # [J], nats
    mse_per_element: Tensor  # of the decoder mean
    step: Tensor  # optimizer steps taken before this one (int64 scalar)


@dataclass(frozen=True)
class RateTerm:
    """How the rate enters the loss this step. ``None`` means that part is not used."""

    beta: Tensor | float = 1.0
    free_bits: Tensor | float | None = None  # per-dimension floor on R̄_j, nats
    free_bits_groups: int | None = None  # the floor applies to G contiguous groups' sums instead
    capacity: Tensor | float | None = None  # target rate C, nats (summed over J)

    def replace(self, **changes) -> RateTerm:
        return replace(self, **changes)

    def __call__(self, kl_per_dim: Tensor) -> Tensor:
        """The weighted rate (see the module docstring), a scalar."""
        if self.free_bits is not None:
            kl = kl_per_dim
            if self.free_bits_groups is not None:
                kl = kl.reshape(self.free_bits_groups, -1).sum(1)
            rate = torch.clamp(kl, min=self.free_bits).sum()
        else:
            rate = kl_per_dim.sum()
        if self.capacity is not None:
            rate = (rate - self.capacity).abs()
        return self.beta * rate


Weights = RateTerm  # its name in version 0.1


def rate_term(kl_per_dim: Tensor, term: RateTerm) -> Tensor:
    """``term(kl_per_dim)``, the function form of version 0.1."""
    return term(kl_per_dim)
