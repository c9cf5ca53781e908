import math

import pytest
import torch

import vaebalance
from vaebalance.balancers import ControlVAE, Stats, Weights


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
    assert loss_fn.balancer.status().met is True and r["at_clamp_steps"] == 0
    assert 0 < r["beta"] < 1


def test_infeasible_target_pins_beta(train):
    # KL ≈ 3.4 nats at β = 1 = β_max: 0.1 nats is out of reach
    loss_fn, history = train(ControlVAE(target_kl=0.1, beta_max=1.0), epochs=15)
    r, status = loss_fn.balancer.report(), loss_fn.balancer.status()
    assert r["beta"] == pytest.approx(1.0) and status.met is False
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


def test_staircase_target_and_anti_windup_at_beta_min_by_hand(stats):
    """The lower bound's anti-windup, with the set point climbing a staircase 1 → 2 → 3.

    β_raw = kp·σ(−e) + I + β_min; the integral I ← I − ki·e moves only while β_raw(t−1) is in
    [β_min, β_max], or when its step leads back inside.
    """
    c = ControlVAE(target_kl=3.0, form="paper", kp=0.4, ki=0.1, beta_min=0.2, beta_max=1.0,
                   target_start=1.0, target_step=1.0, target_every=2)  # fmt: skip
    betas, targets, clamps = [], [], []
    for step, kl in enumerate((0.0, 0.0, 0.0, 5.0, 3.0)):
        betas.append(float(c(stats(step=step, rate=kl), Weights(), True).beta))
        targets.append(c.report()["target_kl"])
        clamps.append(c.report()["at_clamp_steps"])
    assert targets == [1.0, 1.0, 2.0, 2.0, 3.0]
    i0 = -0.1  # e = 1, β_raw(−1) = β_min is inside: integrate
    i1 = i0 - 0.1  # e = 1, β_raw(0) ≈ 0.208 is inside: integrate → β_raw ≈ 0.108 < β_min
    i2 = i1  # e = 2, β_raw(1) < β_min and the step would push further down: frozen
    i3 = i2 + 0.3  # e = −3, below β_min but the step leads back up: integrate
    i4 = i3  # e = 0
    want = [
        0.4 * sig(-1) + i0 + 0.2,
        0.2,  # 0.4·σ(−1) + i1 + 0.2 ≈ 0.108, clamped
        0.2,  # 0.4·σ(−2) + i2 + 0.2 ≈ 0.048, clamped
        0.4 * sig(3) + i3 + 0.2,
        0.4 * 0.5 + i4 + 0.2,
    ]
    assert betas == pytest.approx(want, rel=1e-6)
    assert clamps == [0, 1, 2, 0, 0]


def test_status_reports_the_target_and_when_beta_is_pinned(stats):
    c = ControlVAE(target_kl=5.0, form="paper", kp=1.0, ki=0.1, tolerance=0.05)
    before = c.status()
    assert (before.target, before.value, before.reached, before.met) == (
        "target_kl",
        5.0,
        None,
        None,
    )
    assert not before.pinned and not before.infeasible and before.multiplier == ("beta", 0.0)
    c(stats(rate=5.2), Weights(), True)  # within 5% of the target
    s = c.status()
    assert s.reached == pytest.approx(5.2) and s.met is True and not s.pinned
    assert s.multiplier == ("beta", pytest.approx(sig(0.2) + 0.02))
    seen = []
    for _ in range(25):  # far above target: β climbs to β_max = 1 and stays there
        c(stats(rate=50.0), Weights(), True)
        s, clamped = c.status(), c.report()["at_clamp_steps"]
        assert s.met is False and s.pinned == (clamped > 0) and s.multiplier == ("beta", 1.0)
        assert s.infeasible == (clamped >= 20)  # patience: 20 steps when the length is unknown
        seen.append(clamped)
    assert 19 in seen and 20 in seen
    assert s.reached == pytest.approx(0.99**25 * 5.2 + (1 - 0.99**25) * 50.0, rel=1e-5)


def test_target_met_includes_the_edge_of_the_tolerance_band(stats):
    """|KL_avg − target| ≤ tolerance·target: 5 against 4 ± 25% is (exactly) met."""
    for rate, met in ((5.0, True), (5.0625, False), (3.0, True), (2.9375, False)):
        c = ControlVAE(target_kl=4.0, tolerance=0.25)
        c(stats(rate=rate), Weights(), True)
        assert c.status().met is met, rate


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


def test_report_gives_the_kl_average_once_one_has_been_measured(stats):
    # None before any training step (a 0 would read as a measured rate of 0 nats); then the
    # average starts at the first rate and moves by 1% of each new one.
    c = ControlVAE(target_kl=5.0)
    c(stats(rate=9.0), Weights(), False)
    assert c.report()["kl_ma"] is None and c.status().reached is None
    c(stats(rate=8.0), Weights(), True)
    assert c.report()["kl_ma"] == pytest.approx(8.0) and c.status().reached == pytest.approx(8.0)
    c(stats(rate=4.0, step=1), Weights(), True)
    assert c.report()["kl_ma"] == pytest.approx(0.99 * 8.0 + 0.01 * 4.0)
    assert c.report()["target_kl"] == 5.0


def test_log_form_proportional_part_by_hand(stats):
    # ki = 0, α = 0: log β moves by kp·(e − e_prev), e = clamp(log KL − log target, ±1), and
    # the first step has no previous error (e_prev = e): β stays at its start, 1.
    c = ControlVAE(target_kl=5.0, form="log", kp=0.5, ki=0.0, alpha=0.0)
    kl = 5.0 * math.exp(0.5)  # e = 0.5
    betas = [float(c(stats(rate=r, step=t), Weights(), True).beta)
             for t, r in enumerate((5.0, kl, kl))]  # fmt: skip
    assert betas == pytest.approx([1.0, math.exp(0.5 * 0.5), math.exp(0.5 * 0.5)])


def test_a_bfloat16_rate_steers_beta_as_the_same_rate_in_float32():
    # Under bf16 autocast the loss may hand the controller a bf16 rate: the controller still
    # works in its own float32 (log KL in bf16 keeps 3 digits), so β does not depend on it.
    def run(dtype):
        c = ControlVAE(target_kl=5.0)
        for t, v in enumerate((9.0, 7.3, 6.1, 5.7, 4.9)):
            rate = torch.tensor(v, dtype=torch.bfloat16).to(dtype)
            s = Stats(rate, torch.tensor(100.0), rate[None], torch.tensor(0.1), torch.tensor(t))
            c(s, Weights(), True)
        return c.state_dict()

    low, full = run(torch.bfloat16), run(torch.float32)
    assert all(torch.equal(low[k], full[k]) for k in full)
