import math

import pytest
import torch

import vaebalance
from vaebalance.balancers import GECO, Weights


def step(g, stats, mse, training=True):
    return float(g(stats(mse=mse), Weights(), training).beta)


def test_update_rule_by_hand(stats):
    g = GECO(target_mse=0.1, alpha=0.5, lr=0.1, speedup=2.0)
    # each step uses λ before its update; Ĉ = mse/0.1 − 1
    assert step(g, stats, 0.3) == pytest.approx(1.0)  # Ĉ = 2, C_ma = 2 (first), log λ = 0.2
    assert step(g, stats, 0.05) == pytest.approx(math.exp(-0.2))  # Ĉ = −0.5, C_ma = 0.75
    assert step(g, stats, 0.0) == pytest.approx(math.exp(-0.275))  # Ĉ = −1, C_ma = −0.125 < 0
    assert step(g, stats, 0.1) == pytest.approx(math.exp(-0.25))  # 0.275 + 0.1·2·(−0.125)
    r = g.report()
    assert r["lambda"] == pytest.approx(math.exp(0.25 + 0.1 * 0.5 * -0.125 * 2))
    assert r["constraint_ma"] == pytest.approx(-0.0625)
    assert r["mse_ma"] == pytest.approx(
        0.5 * (0.5 * (0.5 * 0.3 + 0.5 * 0.05) + 0.5 * 0.0) + 0.5 * 0.1
    )
    assert r["at_clamp_steps"] == 0 and r["target_mse"] == 0.1


def test_evaluation_does_not_update(stats):
    g = GECO(target_mse=0.1)
    step(g, stats, 0.5)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    step(g, stats, 5.0, training=False)
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())


def test_clamp_counts_consecutive_pinned_steps(stats):
    g = GECO(target_mse=0.1, alpha=0.0, lr=1.0, lambda_max=2.0)
    counts = []
    for mse in (0.2, 0.3, 0.3, 0.3, 0.01):
        step(g, stats, mse)
        counts.append(g.report()["at_clamp_steps"])
    # log λ: 0 + 1 → clamped at log 2 and pinned while Ĉ > 0; Ĉ = −0.9 (·10 speed-up) frees it
    assert counts == [1, 2, 3, 4, 0]
    assert g.report()["lambda"] == pytest.approx(2.0 * math.exp(-9.0))
    step(g, stats, 10.0)  # Ĉ = 99: pinned again
    assert g.report()["at_clamp_steps"] == 1 and g.report()["lambda"] == pytest.approx(2.0)


def test_reaches_a_feasible_target_mse(train):
    # a plain VAE (β = 1, Bernoulli) reaches MSE ≈ 0.036 here; 0.02 needs β < 1
    target = 0.02
    loss_fn, history = train(GECO(target_mse=target), epochs=60)
    last_epoch = torch.stack([s.mse for s in history[-29:]]).mean().item()
    r = loss_fn.balancer.report()
    assert last_epoch == pytest.approx(target, rel=0.03)
    assert r["mse_ma"] == pytest.approx(target, rel=0.03)
    assert loss_fn.balancer.status().met is True and r["at_clamp_steps"] == 0
    assert 0.05 < r["beta"] < 1


def test_infeasible_target_pins_lambda_and_stays_finite(train):
    loss_fn, history = train(GECO(target_mse=1e-9), epochs=5)
    r = loss_fn.balancer.report()
    assert r["at_clamp_steps"] == len(history) >= 29  # pinned for more than a whole epoch
    assert r["lambda"] == pytest.approx(1e6) and loss_fn.balancer.status().met is False
    values = torch.stack([torch.stack([s.beta, s.rate, s.distortion]) for s in history])
    assert torch.isfinite(values).all()
    assert all(math.isfinite(v) for v in (r["constraint_ma"], r["mse_ma"], r["beta"]))


def test_extreme_statistics_give_no_nan(stats):
    g = GECO(target_mse=1e-30)
    for mse in (1e30, 0.0, float("inf")):
        assert math.isfinite(step(g, stats, mse))
    assert not any(isinstance(v, float) and math.isnan(v) for v in g.report().values())


def test_state_round_trip(roundtrip):
    def make():
        return vaebalance.ELBOLoss("bernoulli", GECO(target_mse=0.2, lr=0.1))

    betas, continued, resumed = roundtrip(make)
    assert torch.equal(continued, resumed)
    assert len(set(torch.cat([betas, continued]).tolist())) > 10  # λ really moved
