"""Free bits (Kingma et al. 2016, "Improved variational inference with inverse autoregressive
flow", arXiv 1606.04934)."""

from __future__ import annotations

import math

from ..errors import check
from .base import Balancer
from .registry import register


@register
class FreeBits(Balancer):
    """``loss = D + β·Σ_g max(λ, R̄_g)``: each group keeps λ nats of KL for free.

    R̄_g is the KL of group g averaged over the minibatch *before* the max, as in the paper
    (L̃ = E[log p(x|z)] − Σ_g max(λ, E_batch[KL_g])): a group below λ gets no KL gradient at all.
    By default each latent dimension is its own group ("KL thresholding", the usual form for
    dense latents); ``groups=G`` splits the J dims into G contiguous groups of J/G dims, and the
    threshold applies to each group's summed KL. λ = 0.25 nats per group is the default of the
    reference code (openai/iaf ``kl_min``). Only the training loss uses the clamp; the ELBO that
    ``ELBOLoss`` reports always uses the true KL. Sets the rate term's ``free_bits`` (and
    ``free_bits_groups``); leaves β alone. No state.

    Args:
        free_bits: λ > 0, nats per group (default 0.25).
        groups: None (default: one group per latent dim) or G ≥ 1 dividing J.
    """

    name = "free-bits"
    params = ("free_bits", "groups")

    def __init__(self, free_bits: float = 0.25, groups: int | None = None):
        super().__init__()
        check(
            math.isfinite(free_bits) and free_bits > 0,
            f"free-bits: free_bits must be > 0 nats, got {free_bits}",
        )
        check(
            groups is None or (isinstance(groups, int) and groups >= 1),
            f"free-bits: groups must be an integer ≥ 1, got {groups}",
        )
        self.free_bits, self.groups = free_bits, groups

    def bind(self, context):
        super().bind(context)
        j = context.latent_dim
        check(
            self.groups is None or j % self.groups == 0,
            f"free-bits: groups={self.groups} does not divide the {j} latent dims",
        )

    def forward(self, stats, term, training):
        return term.replace(free_bits=self.free_bits, free_bits_groups=self.groups)
