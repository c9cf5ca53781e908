import pytest
import torch

import vaebalance
from vaebalance.balancers import Dynamic, Weights
from vaebalance.errors import UserError


def test_update_rule_by_hand(stats, bound):
    d = bound(Dynamic(), "gaussian", sigma=0.5)  # σ² = 0.25
    betas = [float(d(stats(mse=m), Weights(), True).beta) for m in (0.5, 2.0, 0.1, 0.0)]
    run = [1.0]  # mse_run ← min(mse_run, 0.99·mse_run + 0.01·mse), from 1
    for m in (0.5, 2.0, 0.1):
        run.append(min(run[-1], 0.99 * run[-1] + 0.01 * m))
    assert run[1:] == pytest.approx([0.995, 0.995, 0.98605])
    assert betas == pytest.approx([r / 0.25 for r in run])  # each step uses γ² before its update
    assert d.report()["gamma_squared"] == pytest.approx(0.99 * 0.98605)


def test_multiplies_incoming_beta_and_skips_updates_in_evaluation(stats, bound):
    d = bound(Dynamic(), "gaussian", sigma=1.0)
    assert float(d(stats(mse=0.0), Weights(beta=3.0), False).beta) == pytest.approx(3.0)
    assert float(d.mse_run) == 1.0


@pytest.mark.parametrize(
    "likelihood,params",
    [("bernoulli", {}), ("gaussian-learned", {}), ("gaussian", {"learn_scale": True}),
     ("laplace", {})],
)  # fmt: skip
def test_needs_a_fixed_sigma_gaussian(bound, likelihood, params):
    with pytest.raises(UserError, match="likelihood gaussian"):
        bound(Dynamic(), likelihood, **params)


def test_gamma_squared_tracks_the_mse_from_above(train):
    loss_fn, history = train(Dynamic(), epochs=40, likelihood="gaussian")
    mse = torch.stack([s.mse for s in history])
    beta = torch.stack([s.beta for s in history])
    assert (beta[1:] <= beta[:-1]).all()  # non-increasing (σ = 1: β = γ²)
    last = mse[-29:].mean().item()
    assert loss_fn.balancer.report()["gamma_squared"] == pytest.approx(last, rel=0.15)


def test_state_round_trip(roundtrip):
    def make():
        return vaebalance.ELBOLoss("gaussian", Dynamic(), sigma=0.3)

    betas, continued, resumed = roundtrip(make)
    assert torch.equal(continued, resumed)
    assert len(set(torch.cat([betas, continued]).tolist())) >= 4  # γ² moved (it may hold)
