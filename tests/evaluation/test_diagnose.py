"""diagnose: each verdict from numbers built to show it, and the healthy case."""

from __future__ import annotations

import json

import pytest
import torch

from vaebalance import likelihoods
from vaebalance.evaluation import Verdict, diagnose, evaluate_model, format_verdicts

from .conftest import small_model

HEALTHY = {
    "rate_nats": 20.0,
    "distortion_nats": 230.0,
    "neg_elbo_nats": 250.0,
    "active_units": 12,
    "latent_dim": 16,
    "kl_per_dim": [1.6] * 12 + [0.05] * 4,
    "mutual_info_nats": 8.0,
    "mse_per_element": 0.006,
    "psnr_db": 22.2,
}


def codes(verdicts: list[Verdict]) -> list[str]:
    return [v.code for v in verdicts]


def test_healthy():
    (v,) = diagnose(HEALTHY)
    assert (v.code, v.severity) == ("healthy", "ok")
    assert "12 of 16" in v.message and "8%" in v.message


@pytest.mark.parametrize(
    "change",
    [
        {"active_units": 0},
        {"rate_nats": 0.02, "mutual_info_nats": 0.01, "kl_per_dim": [0.02 / 16] * 16},
    ],
)
def test_posterior_collapse(change):
    verdicts = diagnose({**HEALTHY, **change})
    assert verdicts[0].code == "posterior-collapse" and verdicts[0].severity == "problem"
    # A rate target above the one reached, and at least about a nat per latent dim.
    fix = verdicts[0].fix_args
    assert fix[:3] == ("--set", "balancer.name=control", "--set")
    target = float(fix[3].removeprefix("balancer.target_kl="))
    assert target >= 16 and target > {**HEALTHY, **change}["rate_nats"]
    with_beta = diagnose({**HEALTHY, **change}, config={"balancer": {"beta": 4}})
    assert "balancer.beta" in with_beta[0].option and "4" in with_beta[0].message


def test_small_rate_with_information_is_not_collapse():
    m = {**HEALTHY, "rate_nats": 0.08, "mutual_info_nats": 0.07, "active_units": 1}
    assert "posterior-collapse" not in codes(diagnose(m))


def test_kl_domination_with_a_fixed_sigma_gaussian():
    m = {**HEALTHY, "rate_nats": 3.0, "neg_elbo_nats": 800.0, "mse_per_element": 0.04}
    del m["psnr_db"]  # derived from the MSE: 14 dB
    config = {"likelihood": {"name": "gaussian", "sigma": 1.0}, "model": {"latent_dim": 16}}
    (v,) = diagnose(m, config=config)
    assert (v.code, v.severity) == ("kl-domination", "problem")
    assert v.fix_args == ("--set", "likelihood.name=gaussian-learned")
    assert "25 times" in v.message and "14 dB" in v.message  # σ²/MSE = 1 / 0.04


# A σ-VAE on 64×64 RGB shapes at β = 1 (measured): −ELBO ≈ 990 nats, PSNR 11.7 dB. Dropping
# 18 nats of free rate slack took the rate from 37 to 19 nats, 3.7% to 1.9% of −ELBO.
RGB = {**HEALTHY, "rate_nats": 18.9, "distortion_nats": 971.0, "neg_elbo_nats": 989.9,
       "mse_per_element": 0.068, "psnr_db": 11.7, "active_units": 16}  # fmt: skip
LEARNED = {"likelihood": {"name": "gaussian-learned"}, "model": {"latent_dim": 16}}


@pytest.mark.parametrize("beta, weighted", [(1.0, False), (0.5, False), (1.5, True), (20, True)])
def test_kl_domination_under_a_density_is_a_weight_above_the_elbo_s_not_a_share(beta, weighted):
    for neg_elbo in (989.9, 50.0, -3000.0):  # the data's units move −ELBO, not the verdict
        m = {**RGB, "beta": beta, "neg_elbo_nats": neg_elbo, "distortion_nats": neg_elbo - 18.9}
        found = [v for v in diagnose(m, config=LEARNED) if v.code == "kl-domination"]
        assert bool(found) == weighted, (beta, neg_elbo)
        if weighted:
            assert found[0].numbers["kl_weight"] == beta and f"{beta:.3g} times" in found[0].message


def test_kl_domination_under_a_probability_mass_is_still_judged_by_the_rate_s_share():
    bernoulli = {"likelihood": {"name": "bernoulli"}, "model": {"latent_dim": 16}}
    poor = {**RGB, "beta": 1.0}  # 1.9% of a code length, and blurry
    assert "kl-domination" in codes(diagnose(poor, config=bernoulli))
    assert "kl-domination" not in codes(diagnose({**poor, "rate_nats": 40.0}, config=bernoulli))


def test_kl_domination_from_a_large_beta_is_a_warning_when_reconstructions_are_fine():
    m = {**HEALTHY, "rate_nats": 4.0, "neg_elbo_nats": 250.0, "beta": 8.0}
    (v,) = diagnose(m)
    assert (v.code, v.severity, v.fix_args) == ("kl-domination", "warning",
                                                ("--set", "balancer.beta=1"))  # fmt: skip


def test_unused_latent_budget():
    m = {**HEALTHY, "active_units": 4, "kl_per_dim": [5.0] * 4 + [0.01] * 12, "rate_nats": 20.12}
    (v,) = diagnose(m)
    assert (v.code, v.severity) == ("unused-latent-budget", "warning")
    assert "12 of 16" in v.message and v.option == "--set model.latent_dim=5"


def test_infeasible_target_reported_by_the_balancer():
    m = {**HEALTHY, "target_met": False, "target_kl": 60.0}
    (v,) = diagnose(m)
    assert (v.code, v.severity) == ("infeasible-target", "problem")
    assert "target_kl = 60" in v.message and v.option.startswith("--set balancer.target_kl=20")


def test_infeasible_target_as_the_balancer_judged_it():
    # The balancer decides (its multiplier pinned while the error stopped shrinking) and the
    # run records it as target_status; diagnose reads that verdict, it does not re-derive it.
    status = {"target": "target_mse", "value": 0.001, "reached": 0.006, "met": False,
              "pinned": True, "infeasible": True, "multiplier": "lambda",
              "multiplier_value": 1e4}  # fmt: skip
    (v,) = diagnose({**HEALTHY, "target_status": status, "target_met": False})
    assert v.code == "infeasible-target" and "pinned" in v.message
    assert v.option.startswith("--set balancer.target_mse=0.0072")
    converging = {**status, "infeasible": False, "met": None}
    assert codes(diagnose({**HEALTHY, "target_status": converging})) == ["healthy"]


def test_a_constant_beta_in_history_is_fine():
    history = [{"beta": "4"} for _ in range(10)]
    assert codes(diagnose(HEALTHY, history=history)) == ["healthy"]


def test_nothing_to_judge():
    (v,) = diagnose({"seconds": 1.0})
    assert v.code == "not-enough-metrics"


def test_json_and_terminal_text_of_a_real_evaluation():
    model = small_model()
    x = torch.rand(20, 5, generator=torch.Generator().manual_seed(0))
    metrics = evaluate_model(model, likelihoods.get("bernoulli"), x, iw_samples=3)
    verdicts = diagnose(metrics)
    json.dumps([v.to_json() for v in verdicts])
    text = format_verdicts(verdicts)
    assert verdicts[0].title in text
    problems = diagnose({**HEALTHY, "active_units": 0})
    text = format_verdicts(problems)
    assert (
        "PROBLEM" in text and "fix: vaebalance train --from RUN --set balancer.name=control" in text
    )


def test_overfitting_when_the_held_out_elbo_rises_while_training_improves():
    train = [300 - 10 * e for e in range(1, 21)]
    test = [300 - 10 * e for e in range(1, 9)] + [220 + 3 * e for e in range(1, 13)]
    history = [{"epoch": e, "split": s, "elbo_nats": -v}
               for e, (a, b) in enumerate(zip(train, test), 1) for s, v in (("train", a), ("test", b))]  # fmt: skip
    config = {"train": {"epochs": 20}}
    (v,) = [v for v in diagnose(HEALTHY, history, config) if v.code == "overfitting"]
    assert "best at epoch 8" in v.message and v.fix_args == ("--set", "train.epochs=8")
    steady = [{**r, "elbo_nats": r["elbo_nats"] if r["split"] == "train" else -300 + 5 * r["epoch"]}
              for r in history]  # fmt: skip
    assert "overfitting" not in codes(diagnose(HEALTHY, steady, config))


def test_a_schedule_the_run_ended_before_finishing_is_a_finding_with_its_fix():
    config = {"balancer": {"name": "warmup", "steps": 10000}, "train": {"epochs": 20}}
    m = {**HEALTHY, "schedule_steps": 10000, "schedule_completed": 0.25}
    (v,) = [v for v in diagnose(m, config=config) if v.code == "schedule-unfinished"]
    assert "25% of the way" in v.message and v.fix_args == ("--set", "train.epochs=80")
    done = {**m, "schedule_completed": 1.0}
    assert "schedule-unfinished" not in codes(diagnose(done, config=config))


@pytest.mark.parametrize("beta, fix", [(0.01, "balancer.beta=1"), (1.0, "balancer.beta=2"),
                                       (3.0, "balancer.beta=6")])  # fmt: skip
def test_an_ignored_kl_under_a_fixed_beta_is_fixed_by_one_step_of_beta(beta, fix):
    m = {**HEALTHY, "moment_kl_nats": 16.0, "beta": beta}  # 1 nat per dim from the prior
    # codes already standardized: what mismatch is left is not free to remove
    config = {"balancer": {"name": "constant", "beta": beta}, "train": {"standardize_codes": True}}
    (v,) = [v for v in diagnose(m, [], config) if v.code == "kl-ignored"]
    assert v.fix_args == ("--set", fix)
    assert f"larger KL weight (β = {fix.split('=')[1]})" in v.message  # says what it offers


@pytest.mark.parametrize("balancer", [{"name": "constant", "beta": 1.0},
                                      {"name": "constant", "beta": 3.0},
                                      {"name": "geco", "target_mse": 0.01}])  # fmt: skip
def test_codes_off_the_prior_s_moments_are_first_moved_onto_them_for_free(balancer):
    m = {**HEALTHY, "moment_kl_nats": 16.0}
    (v,) = [v for v in diagnose(m, [], {"balancer": balancer}) if v.code == "kl-ignored"]
    assert v.fix_args == ("--set", "train.standardize_codes=true")
    assert "16 nats" in v.message and "changes no reconstruction" in v.message
    # ... but not below β = 1 under a fixed β: there the weight is the fault
    low = {"balancer": {"name": "constant", "beta": 0.01}}
    (v,) = [v for v in diagnose({**m, "beta": 0.01}, [], low) if v.code == "kl-ignored"]
    assert v.fix_args == ("--set", "balancer.beta=1")


def test_an_ignored_kl_says_when_training_was_still_moving_the_codes():
    m = {**HEALTHY, "moment_kl_nats": 16.0}  # the test split's, at the end
    falling = [{"epoch": e, "split": "val", "moment_kl_nats": v}
               for e, v in enumerate([48, 40, 36, 32, 28, 24, 20, 16], start=1)]  # fmt: skip
    (v,) = [v for v in diagnose(m, falling, {}) if v.code == "kl-ignored"]
    # epochs 5 → 8: 28/16 → 16/16 nats per dim
    assert "still falling when the run ended: 1.8 → 1 nats per dim from epoch 5 to 8" in v.message
    flat = [{**r, "moment_kl_nats": 16 + (r["epoch"] % 2)} for r in falling]
    (v,) = [v for v in diagnose(m, flat, {}) if v.code == "kl-ignored"]
    assert "still falling" not in v.message
