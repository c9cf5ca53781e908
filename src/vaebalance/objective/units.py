"""Unit conversions for reported numbers. Training always works in nats per example.

- nats/dim = nats / K
- bits/dim = nats / (K ln 2)
- For data that was 8-bit and is modelled by a density on [0, 1], the probability of the
  discrete pixel values is ≈ density × (bin width)^K. With 256 bins of width 1/256 (the
  convention of Theis et al. 2016 and most image-likelihood papers), that adds exactly
  log2(256) = 8 bits per dim: ``bits_per_dim(nats, K, discretization_bits=8)``.
  Likelihoods that are already discrete (Bernoulli) need no correction.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import TYPE_CHECKING

from ..errors import check

if TYPE_CHECKING:  # plain arithmetic: reading a run's numbers needs no torch
    from torch import Tensor

LN2 = math.log(2.0)


def nats_per_dim(nats: float | Tensor, input_dim: int) -> float | Tensor:
    check(input_dim > 0, f"input_dim must be > 0, got {input_dim}")
    return nats / input_dim


def bits_per_dim(
    nats: float | Tensor, input_dim: int, discretization_bits: int | None = None
) -> float | Tensor:
    """Negative log-likelihood in nats/example → bits per input element.

    Args:
        nats: NLL (or −ELBO) per example in nats.
        input_dim: K, the number of elements per example.
        discretization_bits: for 8-bit data under a continuous density, 8 adds the bin-width
            correction log2(2^8) so the number is comparable with discrete models.

    Example: 784 · ln 2 nats on 784 pixels is one bit per pixel.

        >>> import math
        >>> bits_per_dim(784 * math.log(2), 784)
        1.0
    """
    bpd = nats_per_dim(nats, input_dim) / LN2
    if discretization_bits:
        bpd = bpd + discretization_bits
    return bpd


def psnr_db(mse: float | Tensor, data_range: float = 1.0) -> float | Tensor:
    """Peak signal-to-noise ratio: 10 log10(range² / MSE).

    >>> psnr_db(0.01)
    20.0
    """
    if not isinstance(mse, Real):  # a tensor
        return 10 * (data_range**2 / mse).log10()
    return 10 * math.log10(data_range**2 / mse) if mse > 0 else math.inf
