import math

import pytest
import torch

import vaebalance
from vaebalance.balancers import Chain, Constant, Warmup, Weights


def expected(t, beta_start, beta, steps, shape):
    """The schedule written independently with Python floats."""
    v = min(t / steps, 1.0)
    if shape == "sigmoid":

        def s(u):
            return 1 / (1 + math.exp(-(12 * u - 6)))

        v = (s(v) - s(0)) / (s(1) - s(0))
    elif shape == "cosine":
        v = 0.5 - 0.5 * math.cos(math.pi * v)
    return beta_start + (beta - beta_start) * v


def test_linear_by_hand(stats):
    w = Warmup(beta_start=0.5, beta=2.0, steps=10)
    betas = [float(w(stats(step=t), Weights(), True).beta) for t in (0, 3, 10, 20)]
    assert betas == pytest.approx([0.5, 0.95, 2.0, 2.0])


def test_sigmoid_is_symmetric_and_exact_at_the_ends(stats):
    w = Warmup(beta_start=0.0, beta=1.0, steps=10, shape="sigmoid")
    values = [float(w(stats(step=t), Weights(), True).beta) for t in (0, 5, 10)]
    assert values == pytest.approx([0.0, 0.5, 1.0], abs=1e-6)


def test_multiplies_incoming_beta_in_a_chain(stats):
    chain = Chain(Constant(beta=3.0), Warmup(steps=4))
    assert float(chain(stats(step=1), Weights(), True).beta) == pytest.approx(0.75)


@pytest.mark.parametrize("shape", ["linear", "sigmoid", "cosine"])
def test_training_produces_the_exact_schedule(train, shape):
    _, history = train(Warmup(beta_start=0.1, beta=0.9, steps=200, shape=shape), epochs=8)
    got = torch.stack([s.beta for s in history]).tolist()
    want = [expected(t, 0.1, 0.9, 200, shape) for t in range(len(history))]
    assert len(got) > 200
    assert got == pytest.approx(want, abs=1e-6)


def test_state_round_trip(roundtrip):
    _, continued, resumed = roundtrip(lambda: vaebalance.ELBOLoss("bernoulli", Warmup(steps=9)))
    assert torch.equal(continued, resumed)
    assert continued.tolist() == pytest.approx([7 / 9, 8 / 9, 1.0, 1.0, 1.0, 1.0])


def test_schedules_say_how_long_they_take():
    from vaebalance.balancers import GECO, Capacity, Chain, ControlVAE, Cyclical

    assert Warmup(steps=300).schedule_steps() == 300
    assert (
        Cyclical(steps=1000).schedule_steps() == 1000 and Capacity(steps=50).schedule_steps() == 50
    )
    assert Chain(Warmup(steps=300), GECO(target_mse=0.01)).schedule_steps() == 300
    assert GECO(target_mse=0.01).schedule_steps() is None
    # The staircase 0.5 → 2 nats by 0.5 every 100 steps: three stairs, 300 steps.
    stairs = ControlVAE(target_kl=2.0, target_start=0.5, target_step=0.5, target_every=100)
    assert stairs.schedule_steps() == 300
    assert ControlVAE(target_kl=2.0, target_start=0.5, target_steps=700).schedule_steps() == 700
