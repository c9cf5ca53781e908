import math

import pytest
import torch

import vaebalance
from vaebalance.balancers import (
    GECO,
    Capacity,
    Chain,
    ControlVAE,
    FreeBits,
    Warmup,
    Weights,
    chain,
    get,
)
from vaebalance.balancers.base import rate_term
from vaebalance.errors import UserError


def test_warmup_then_geco_multiplies(stats):
    c = Chain(Warmup(steps=10), GECO(target_mse=0.1, lr=0.5, alpha=0.0))
    b0 = float(c(stats(step=4, mse=0.3), Weights(), True).beta)  # 0.4 · 1/λ₀
    b1 = float(c(stats(step=5, mse=0.3), Weights(), True).beta)  # log λ = 0.5·clamp(log 3, 1)
    assert (b0, b1) == pytest.approx((0.4, 0.5 * math.exp(-0.5)))
    assert c.report()["lambda"] == pytest.approx(math.exp(1.0))


def test_capacity_free_bits_and_warmup_compose(stats):
    w = Chain(Capacity(gamma=10.0, c_max=4.0, steps=4), FreeBits(free_bits=1.0), Warmup(steps=4))
    w = w(stats(step=2), Weights(), True)
    # β = 10·0.5, C = 2, per-dim floor 1: rate = max(1, .5) + max(1, 3) = 4 → 5·|4 − 2| = 10
    assert float(rate_term(torch.tensor([0.5, 3.0]), w)) == pytest.approx(10.0)


def test_string_spec_routes_parameters():
    c = get("warmup+geco", steps=100, target_mse=0.02)
    assert isinstance(c, Chain)
    w, g = c.balancers
    assert isinstance(w, Warmup) and w.steps == 100 and isinstance(g, GECO) and g.target_mse == 0.02
    assert isinstance(chain("free-bits", ControlVAE(target_kl=3.0)).balancers[0], FreeBits)


@pytest.mark.parametrize(
    "spec,params,match",
    [("warmup+capacity", {"steps": 10}, "several"), ("warmup+geco", {"target_mse": 1, "x": 1},
     "none"), ("warmup+nope", {}, "unknown balancer")],
)  # fmt: skip
def test_string_spec_errors(spec, params, match):
    with pytest.raises(UserError, match=match):
        get(spec, **params)


def test_chain_state_round_trip(roundtrip):
    def make():
        return vaebalance.ELBOLoss("bernoulli", Chain(Warmup(steps=5), GECO(target_mse=0.2)))

    betas, continued, resumed = roundtrip(make)
    assert torch.equal(continued, resumed)


def test_status_is_that_of_the_first_element_with_a_target(stats):
    g, c = GECO(target_mse=0.1), ControlVAE(target_kl=3.0)
    chained = Chain(Warmup(steps=10), g, c)
    chained(stats(mse=0.3), Weights(), True)
    assert chained.status() == g.status() and chained.status().target == "target_mse"
    assert Chain(Warmup(steps=10), c).status() == c.status()
    assert Chain(Warmup(steps=10), FreeBits(free_bits=1.0)).status() is None
