"""evaluate_model: input checks, determinism, state, keys; properties of the latent metrics."""

from __future__ import annotations

import json
import math

import pytest
import torch

from vaebalance import UserError, likelihoods
from vaebalance.evaluation import (
    aggregate_posterior_metrics,
    evaluate_model,
    importance_weighted_nll,
)

from .conftest import small_model

BERNOULLI = likelihoods.get("bernoulli")


@pytest.mark.parametrize(
    "kwargs,x_fn,match",
    [
        ({"iw_samples": -1}, None, "iw_samples must be an integer ≥ 0"),
        ({"iw_samples": 2.5}, None, "iw_samples must be an integer ≥ 0"),
        ({"batch_size": 0}, None, "batch_size"),
        ({"discretization_bits": -8}, None, "discretization_bits"),
        ({"precision": "fp8"}, None, "precision"),
        ({}, lambda x: torch.cat([x[:-1], torch.full_like(x[:1], float("nan"))]), "NaN or inf"),
        ({}, lambda x: torch.rand(9, 7), "does not fit the model"),
        ({}, lambda x: torch.rand(9, 1, 5), "does not fit the model"),
        ({}, lambda x: (x * 255).to(torch.uint8), "float tensor"),
        ({}, lambda x: x[:1], "N ≥ 2"),
        ({}, lambda x: x * 3, r"needs x in \[0, 1\]"),
        ({}, lambda x: x.numpy(), "must be a tensor"),
    ],
)
def test_bad_input_is_a_one_line_user_error(model, x, kwargs, x_fn, match):
    bad_x = x_fn(x) if x_fn else x
    with pytest.raises(UserError, match=match) as info:
        evaluate_model(model, BERNOULLI, bad_x, **{"iw_samples": 3, **kwargs})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("k", [0, -3, True])
def test_iwae_rejects_k_below_one(model, x, k):
    with pytest.raises(UserError, match="k \\(iw_samples\\) must be an integer ≥ 1"):
        importance_weighted_nll(model, BERNOULLI, x, k)


def test_decoder_output_of_the_wrong_shape_is_a_user_error(x):
    model = small_model(outputs_per_element=2)  # built for a likelihood with two outputs
    with pytest.raises(UserError, match="takes 1 output.* but gives \\(10,\\)"):
        evaluate_model(model, BERNOULLI, x, iw_samples=2)


def test_deterministic_given_seed_and_independent_of_batch_size(model, x):
    a = evaluate_model(model, BERNOULLI, x, iw_samples=20, seed=1)
    b = evaluate_model(model, BERNOULLI, x, iw_samples=20, seed=1, batch_size=2)
    c = evaluate_model(
        model, BERNOULLI, x, iw_samples=20, generator=torch.Generator().manual_seed(1)
    )
    d = evaluate_model(model, BERNOULLI, x, iw_samples=20, seed=2)
    for other in (b, c):
        for key, value in a.items():
            if value is None or isinstance(value, str):
                assert other[key] == value
            elif key != "seconds":
                assert other[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert d["nll_iw_nats"] != a["nll_iw_nats"]


def test_keys_units_state_and_json(model, x):
    model.train()
    m = evaluate_model(model, "bernoulli", x, iw_samples=5)
    assert model.training  # restored
    assert m["elbo_nats"] == pytest.approx(-(m["rate_nats"] + m["distortion_nats"]))
    assert m["neg_elbo_nats"] == pytest.approx(-m["elbo_nats"])
    assert sum(m["kl_per_dim"]) == pytest.approx(m["rate_nats"])
    assert m["bits_per_dim"] == pytest.approx(m["neg_elbo_nats"] / (5 * math.log(2)))
    assert m["psnr_db"] == pytest.approx(10 * math.log10(1 / m["mse_per_element"]))
    assert m["seconds"] > 0 and m["examples"] == 9 and m["input_dim"] == 5
    assert m["active_units_threshold"] == 0.01 and isinstance(m["active_units"], int)
    assert "no discretization" in m["bits_per_dim_convention"]
    json.dumps(m)  # plain numbers, ready for metrics.json


def test_identical_posteriors_carry_no_information():
    """q(z|x) the same for every x: q(z) = q(z|x), so I(x; z) = 0 and TC = 0 exactly."""
    mu = torch.tensor([[0.3, -1.0, 2.0]]).repeat(50, 1)
    logvar = torch.tensor([[-1.0, 0.5, -3.0]]).repeat(50, 1)
    m = aggregate_posterior_metrics(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert m["mutual_info_nats"] == pytest.approx(0.0, abs=1e-5)
    assert m["total_correlation_nats"] == pytest.approx(0.0, abs=1e-4)
    assert m["aggregate_kl_nats"] == pytest.approx(m["dimwise_kl_nats"], abs=1e-4)


def test_mutual_information_saturates_at_log_n():
    """Sharp, well separated posteriors: I(x; z) is as large as an N-sample estimate can say."""
    n = 64
    mu = torch.randn(n, 4, generator=torch.Generator().manual_seed(0)) * 10
    logvar = torch.full((n, 4), -12.0)
    m = aggregate_posterior_metrics(mu, logvar, generator=torch.Generator().manual_seed(1))
    assert m["mutual_info_nats"] == pytest.approx(math.log(n), abs=1e-3)
    assert m["mutual_info_nats"] <= math.log(n) + 1e-6


def test_non_finite_examples_get_the_likelihoods_own_message(model, x):
    # One fault, one message, whichever entry point finds it: evaluate_model's check of the
    # examples says what the likelihood's own check of its targets says.
    bad = x.clone()
    bad[3, 0] = float("inf")
    with pytest.raises(UserError) as from_evaluate:
        evaluate_model(model, BERNOULLI, bad)
    with pytest.raises(ValueError) as from_likelihood:
        BERNOULLI.nll(bad, torch.zeros_like(bad))
    assert str(from_evaluate.value) == str(from_likelihood.value) == "x contains NaN or inf"
