"""Unit conversions: nats per example → per dim, bits per dim, PSNR."""

from __future__ import annotations

import math

import pytest
import torch

from vaebalance import UserError
from vaebalance.objective.units import bits_per_dim, nats_per_dim, psnr_db


def test_bits_per_dim_of_a_fair_coin_per_pixel():
    """784 fair coins: 784 ln 2 nats = 1 bit per dim."""
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0, rel=1e-12)
    assert nats_per_dim(784 * math.log(2), 784) == pytest.approx(math.log(2), rel=1e-12)


def test_discretization_adds_eight_bits_for_uniform_density():
    """The uniform density on [0, 1]^K has NLL 0 nats; discretized to 256 bins each value has
    probability 1/256, i.e. exactly 8 bits per dim."""
    k = 3 * 32 * 32
    assert bits_per_dim(0.0, k, discretization_bits=8) == pytest.approx(8.0, abs=1e-12)
    # a density of 2^k on a box of side ½ per dim: −k ln 2 nats → −1 + 8 bits per dim
    assert bits_per_dim(-k * math.log(2), k, discretization_bits=8) == pytest.approx(7.0)
    assert bits_per_dim(5.0, 10, discretization_bits=None) == bits_per_dim(5.0, 10)


def test_tensors_pass_through():
    nats = torch.tensor([0.0, 10 * math.log(2), 20 * math.log(2)], dtype=torch.float64)
    torch.testing.assert_close(
        bits_per_dim(nats, 10), torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    )
    torch.testing.assert_close(
        psnr_db(torch.tensor([0.01, 1e-4])), torch.tensor([20.0, 40.0]), rtol=1e-6, atol=1e-5
    )


def test_psnr():
    assert psnr_db(0.01) == pytest.approx(20.0, rel=1e-12)
    assert psnr_db(255.0**2 * 1e-3, data_range=255.0) == pytest.approx(30.0, rel=1e-12)
    assert psnr_db(0.0) == math.inf
    assert float(psnr_db(torch.tensor(0.0))) == math.inf


@pytest.mark.parametrize("k", [0, -1])
def test_non_positive_input_dim_rejected(k):
    with pytest.raises(UserError, match=f"input_dim must be > 0, got {k}"):
        nats_per_dim(1.0, k)
    with pytest.raises(ValueError, match="input_dim must be > 0"):
        bits_per_dim(1.0, k, discretization_bits=8)
