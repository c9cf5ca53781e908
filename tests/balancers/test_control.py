import math

import pytest
import torch

import vaebalance
from vaebalance.balancers import ControlVAE, Weights


def sig(u):
    return 1 / (1 + math.exp(-u))


def test_pi_update_and_anti_windup_by_hand(stats):
    c = ControlVAE(target_kl=5.0, form="paper", kp=1.0, ki=0.1)
    betas, clamps = [], []
    for kl in (6.0, 7.0, 7.0, 3.0):
        betas.append(float(c(stats(rate=kl), Weights(), True).beta))
        clamps.append(c.report()["at_clamp_steps"])
    # e = 5 − KL; β_raw = kp·σ(−e) + I + β_min with I = −ki·Σe (integrated only while allowed)
    i1 = 0.1  # e = −1, β_raw(0) = 0 is inside: integrate
    i2 = i1 + 0.2  # e = −2, β_raw(1) = σ(1) + 0.1 ≈ 0.83 is inside: integrate → β_raw ≈ 1.18
    i3 = i2  # e = −2, β_raw(2) > β_max and the step would push further out: frozen
    i4 = i3 - 0.2  # e = +2, β_raw(3) > β_max but the step leads back inside: integrate
    assert betas == pytest.approx([sig(1) + i1, 1.0, 1.0, sig(-2) + i4])
    assert sig(2) + i2 > 1 and sig(2) + i3 > 1
    assert clamps == [0, 1, 2, 0]


def test_beta_min_offset_and_clamp_below(stats):
    c = ControlVAE(target_kl=5.0, form="paper", kp=0.5, ki=0.1, beta_min=1.0, beta_max=10.0)
    assert float(c(stats(rate=5.0), Weights(), True).beta) == pytest.approx(1.25)  # e = 0
    assert float(c(stats(rate=0.0), Weights(), True).beta) == pytest.approx(1.0)  # raw < β_min
    assert c.report()["at_clamp_steps"] == 1


def test_target_schedules(stats):
    stairs = ControlVAE(target_kl=2.0, target_start=1.0, target_step=0.5, target_every=10)
    ramp = ControlVAE(target_kl=10.0, target_start=0.0, target_steps=100)
    got = [float(stairs.target_at(torch.tensor(t))) for t in (0, 9, 10, 25, 100)]
    assert got == [1.0, 1.0, 1.5, 2.0, 2.0]
    got = [float(ramp.target_at(torch.tensor(t))) for t in (0, 50, 100, 1000)]
    assert got == pytest.approx([0.0, 5.0, 10.0, 10.0])
    stairs(stats(step=12, rate=1.5), Weights(), True)
    assert stairs.report()["target_kl"] == 1.5


def test_moving_average_of_the_kl(stats):
    c = ControlVAE(target_kl=5.0, form="paper", kp=1.0, ki=0.0, alpha=0.5)
    c(stats(rate=4.0), Weights(), True)  # KL̂ = 4 (first step), e = 1
    beta = float(c(stats(rate=8.0), Weights(), True).beta)  # KL̂ = 6, e = −1
    assert beta == pytest.approx(sig(1))


def test_reaches_the_target_kl(train):
    # a plain VAE (β = 1, Bernoulli) has KL ≈ 3.4 nats here; 8 nats needs β < 1
    target = 8.0
    loss_fn, history = train(ControlVAE(target_kl=target), epochs=40)
    last_epoch = torch.stack([s.rate for s in history[-29:]]).mean().item()
    r = loss_fn.balancer.report()
    assert last_epoch == pytest.approx(target, rel=0.03)
    assert r["target_met"] is True and r["at_clamp_steps"] == 0
    assert 0 < r["beta"] < 1


def test_infeasible_target_pins_beta(train):
    # KL ≈ 3.4 nats at β = 1 = β_max: 0.1 nats is out of reach
    loss_fn, history = train(ControlVAE(target_kl=0.1, beta_max=1.0), epochs=15)
    r, status = loss_fn.balancer.report(), loss_fn.balancer.status()
    assert r["beta"] == pytest.approx(1.0) and r["target_met"] is False
    assert r["at_clamp_steps"] >= 29  # a whole epoch
    assert status.infeasible and status.pinned
    assert torch.isfinite(torch.stack([s.beta for s in history])).all()


def test_extreme_statistics_give_no_nan(stats):
    c = ControlVAE(target_kl=5.0)
    for kl in (1e30, 0.0, 1e30, float("inf")):
        assert math.isfinite(float(c(stats(rate=kl), Weights(), True).beta))


@pytest.mark.parametrize("form", ["log", "paper"])
def test_state_round_trip(roundtrip, form):
    def make():
        balancer = ControlVAE(target_kl=0.5, form=form, kp=1.0, ki=0.05, beta_max=9.0)
        return vaebalance.ELBOLoss("bernoulli", balancer)

    betas, continued, resumed = roundtrip(make)
    assert torch.equal(continued, resumed)
    assert len(set(torch.cat([betas, continued]).tolist())) > 10


def test_log_form_defaults_reach_beyond_one(stats):
    c = ControlVAE(target_kl=1.0)
    assert (c.beta_min, c.beta_max, float(c.beta)) == (1e-4, 1e4, 1.0)
    for t in range(50):  # KL far above target and not falling: β rises by e^{4·0.02} a step
        c(stats(step=t, rate=10.0), Weights(), True)
    assert float(c.beta) == pytest.approx(math.exp(50 * 4 * 0.02), rel=1e-5)


def test_state_written_by_version_0_1_loads(stats):
    old = {k: v for k, v in ControlVAE(target_kl=5.0, form="paper").state_dict().items()
           if k not in ("log_kl_fast", "log_kl_slow", "stalled_steps")}  # fmt: skip
    c = ControlVAE(target_kl=5.0, form="paper")
    c.load_state_dict(old)
    assert math.isfinite(float(c(stats(rate=3.0), Weights(), True).beta))
