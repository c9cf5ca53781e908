import pytest
import torch

import vaebalance
from vaebalance.balancers import Cyclical, Weights


def frange_cycle_linear(n_iter, start=0.0, stop=1.0, n_cycle=4, ratio=0.5):
    """Fu et al.'s reference schedule (haofuml/cyclical_annealing README), re-typed."""
    values = [stop] * n_iter
    period = n_iter / n_cycle
    step = (stop - start) / (period * ratio)
    for c in range(n_cycle):
        v, i = start, 0
        while v <= stop and int(i + c * period) < n_iter:
            values[int(i + c * period)] = v
            v += step
            i += 1
    return values


def test_by_hand(stats):
    c = Cyclical(steps=100, cycles=4, ratio=0.5)  # period 25, ramps over 12.5 steps
    got = [float(c(stats(step=t), Weights(), True).beta) for t in (0, 5, 12, 13, 24, 25, 30, 100)]
    assert got == pytest.approx([0.0, 0.4, 0.96, 1.0, 1.0, 0.0, 0.4, 1.0])


@pytest.mark.parametrize("cycles,ratio", [(4, 0.5), (2, 0.3), (1, 1.0)])
def test_training_reproduces_the_reference_schedule(train, cycles, ratio):
    n = 232  # 8 epochs of digits at batch 64
    c = Cyclical(beta_start=0.2, beta=0.8, steps=n, cycles=cycles, ratio=ratio)
    _, history = train(c, epochs=8)
    got = torch.stack([s.beta for s in history]).tolist()
    assert len(got) == n
    assert got == pytest.approx(frange_cycle_linear(n, 0.2, 0.8, cycles, ratio), abs=1e-5)


def test_cosine_and_sigmoid_shapes(stats):
    cos = Cyclical(steps=40, cycles=2, ratio=0.5, shape="cosine")  # period 20, ramp 10 steps
    sig = Cyclical(steps=40, cycles=2, ratio=0.5, shape="sigmoid")
    assert float(cos(stats(step=25), Weights(), True).beta) == pytest.approx(0.5)
    assert float(sig(stats(step=25), Weights(), True).beta) == pytest.approx(0.5)
    assert float(cos(stats(step=21), Weights(), True).beta) == pytest.approx(0.0244717, abs=1e-6)


def test_state_round_trip(roundtrip):
    def make():
        return vaebalance.ELBOLoss("bernoulli", Cyclical(steps=40, cycles=4))

    _, continued, resumed = roundtrip(make)
    assert torch.equal(continued, resumed)
    assert continued.tolist() == pytest.approx([1.0, 1.0, 1.0, 0.0, 0.2, 0.4])
