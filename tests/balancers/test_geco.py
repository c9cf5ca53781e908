import math

import pytest
import torch

import vaebalance
from vaebalance.balancers import GECO, Context, Weights
from vaebalance.evaluation import diagnose
from vaebalance.likelihoods import get as get_likelihood


def step(g, stats, mse, training=True, t=0):
    return float(g(stats(mse=mse, step=t), Weights(), training).beta)


def test_update_rule_by_hand(stats):
    # α = 0: the controller sees log mse_t; C = clamp(log(mse/target), −1, 1); η = 0.1, s = 2.
    # With no run length bound the wait is 500 steps; the slope is (m_fast − m_slow)/4 with
    # m_slow a 5-step average of log mse.
    g = GECO(target_mse=0.1, alpha=0.0, lr=0.1, speedup=2.0)
    assert step(g, stats, 0.3) == pytest.approx(1.0)  # C = 1 (clamped), log λ = 0.1
    assert step(g, stats, 0.15) == pytest.approx(math.exp(-0.1))
    # m_fast = log .15, m_slow = .8·log .3 + .2·log .15: falling towards the target → no step
    assert g.report()["lambda"] == pytest.approx(math.exp(0.1))
    slow = 0.8 * math.log(0.3) + 0.2 * math.log(0.15)
    assert (math.log(0.15) - slow) / 4 < 0  # the slope that held the step
    assert step(g, stats, 0.05) == pytest.approx(math.exp(-0.1))
    # below target (β must rise) and still falling: the gap one slope window (5 steps) ahead,
    # s·η·clamp(log ½ + 5·ė, −1, 1)
    slow = 0.8 * slow + 0.2 * math.log(0.05)
    ahead = math.log(0.5) + 5 * (math.log(0.05) - slow) / 4
    assert g.report()["lambda"] == pytest.approx(math.exp(0.1 + 2 * 0.1 * max(-1, ahead)))
    r = g.report()
    assert r["constraint_ma"] == pytest.approx(math.log(0.5))
    assert r["mse_ma"] == pytest.approx(0.99 * (0.99 * 0.3 + 0.01 * 0.15) + 0.01 * 0.05)
    assert r["at_clamp_steps"] == 0 and r["target_mse"] == 0.1


def test_default_step_size_scales_with_long_runs(bound):
    from vaebalance.balancers import Context
    from vaebalance.likelihoods import get as get_likelihood

    sizes = []
    for total in (None, 1000, 5000, 20000):
        g = GECO(target_mse=0.1)
        g.bind(Context(64, 2, get_likelihood("bernoulli"), total))
        sizes.append(g.step_size())
    assert sizes == pytest.approx([0.02, 0.02, 0.02, 0.005])
    assert GECO(target_mse=0.1, lr=0.3).step_size() == 0.3


def test_evaluation_does_not_update(stats):
    g = GECO(target_mse=0.1)
    step(g, stats, 0.5)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    step(g, stats, 5.0, training=False)
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())


def test_clamp_counts_consecutive_pinned_steps(stats):
    g = GECO(target_mse=0.1, alpha=0.0, lr=1.0, lambda_max=2.0)
    counts = []
    for mse in (0.3, 0.3, 0.3, 0.3, 0.01):
        step(g, stats, mse)
        counts.append(g.report()["at_clamp_steps"])
    # log λ: 0 + 1 → clamped at log 2 and pinned while C > 0; C = −1 (·4 speed-up) frees it
    assert counts == [1, 2, 3, 4, 0]
    assert g.report()["lambda"] == pytest.approx(2.0 * math.exp(-4.0))


def test_state_written_by_version_0_1_loads(stats):
    old = {"log_lambda": torch.tensor(0.5), "constraint_ma": torch.tensor(0.2),
           "mse_ma": torch.tensor(0.12), "updates": torch.tensor(50),
           "at_clamp_steps": torch.tensor(0)}  # fmt: skip
    g = GECO(target_mse=0.1)
    g.load_state_dict(old)
    assert g.report()["mse_ma"] == pytest.approx(0.12)
    assert g.report()["lambda"] == pytest.approx(math.exp(0.5))
    assert float(g.log_mse_fast) == pytest.approx(math.log(0.12))
    assert math.isfinite(step(g, stats, 0.1))


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
    loss_fn, history = train(GECO(target_mse=1e-9, lr=0.5), epochs=5)
    r, status = loss_fn.balancer.report(), loss_fn.balancer.status()
    assert r["at_clamp_steps"] >= len(history) - 30 >= 100  # pinned from the first epoch on
    assert r["lambda"] == pytest.approx(1e4) and status.met is False
    assert status.infeasible and status.pinned
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


def test_the_recorded_status_carries_the_verdict_to_diagnose(stats):
    # A run records status().to_json() in metrics.json as target_status, and diagnose reads
    # the balancer's verdict from it (it does not re-derive it): the keys are the ones it reads.
    metrics = {"rate_nats": 20.0, "distortion_nats": 230.0, "neg_elbo_nats": 250.0,
               "mse_per_element": 0.006}  # fmt: skip
    g = GECO(target_mse=0.1, alpha=0.0, lr=1.0, lambda_max=2.0)
    g.bind(Context(64, 2, get_likelihood("bernoulli"), total_steps=100))  # patience: 20 steps
    step(g, stats, 0.3, t=0)  # three times the target: λ moves up, not yet at its bound 2
    (v,) = diagnose({**metrics, "target_status": g.status().to_json()})
    assert v.code == "target-not-reached" and "target_mse = 0.1, reached 0.3" in v.message
    for t in range(1, 40):  # the MSE stays flat at 0.3: λ sits at 2 and the error stalls
        step(g, stats, 0.3, t=t)
    (v,) = diagnose({**metrics, "target_status": g.status().to_json()})
    assert v.code == "infeasible-target"
    assert "lambda sat at a bound (2, pinned)" in v.message and "target_mse = 0.1" in v.message
    assert v.fix_args == ("--set", "balancer.target_mse=0.36")  # 20% above the MSE reached


def test_nothing_is_reported_as_measured_before_the_first_training_step(stats):
    # An MSE of 0 would be a measurement (a perfect reconstruction): before any update the
    # averages are unknown, and evaluation steps do not update them.
    g = GECO(target_mse=0.1)
    step(g, stats, 0.5, training=False)
    r, s = g.report(), g.status()
    assert r["mse_ma"] is None and r["constraint_ma"] is None
    assert s.reached is None and s.met is None
    assert r["lambda"] == pytest.approx(1.0) and r["beta"] == pytest.approx(1.0)
    step(g, stats, 0.5)
    assert g.report()["mse_ma"] == pytest.approx(0.5) and g.status().reached == pytest.approx(0.5)
