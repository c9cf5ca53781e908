import pytest
import torch

import vaebalance
from vaebalance.balancers import Capacity, Weights
from vaebalance.balancers.base import rate_term


def test_by_hand(stats):
    c = Capacity(gamma=1000.0, c_max=10.0, steps=100)
    caps = [float(c(stats(step=t), Weights(), True).capacity) for t in (0, 50, 100, 250)]
    assert caps == pytest.approx([0.0, 5.0, 10.0, 10.0])
    w = c(stats(step=50), Weights(beta=0.5), True)
    assert float(w.beta) == pytest.approx(500.0)
    # γ·|KL − C| with KL = 1 + 2 = 3 nats and C = 5
    assert float(rate_term(torch.tensor([1.0, 2.0]), w)) == pytest.approx(0.5 * 1000 * 2.0)


def test_gradient_sign_flips_at_the_capacity(stats):
    w = Capacity(gamma=10.0, c_max=4.0, steps=1)(stats(step=5), Weights(), True)
    for kl, sign in (([1.0, 2.0], -1.0), ([3.0, 2.0], 1.0)):
        t = torch.tensor(kl, requires_grad=True)
        rate_term(t, w).backward()
        assert t.grad.tolist() == [10.0 * sign] * 2


def test_kl_follows_the_capacity_after_warm_up(train):
    c_max, steps = 15.0, 800
    _, history = train(Capacity(gamma=1000.0, c_max=c_max, steps=steps), epochs=35)
    rate = torch.stack([s.rate for s in history])
    cap = (c_max * torch.arange(len(history)) / steps).clamp(max=c_max)
    # one-epoch (29-step) windows from step 145 on, where C ≥ 2.7 nats
    windows = [
        (rate[i : i + 29].mean() / cap[i : i + 29].mean()).item() for i in range(145, 1015 - 28, 29)
    ]
    assert max(abs(r - 1) for r in windows) < 0.10, windows


def test_state_round_trip(roundtrip):
    def make():
        return vaebalance.ELBOLoss("bernoulli", Capacity(c_max=6.0, steps=12))

    _, continued, resumed = roundtrip(make)
    assert torch.equal(continued, resumed)
    assert continued.tolist() == [1000.0] * 6
