"""Every metric of evaluate_model against the brute-force loops of brute_force.py."""

from __future__ import annotations

import math

import pytest
import torch

from vaebalance import likelihoods
from vaebalance.evaluation import evaluate_model

from .brute_force import reference
from .conftest import small_model

LIKELIHOODS = [
    ("bernoulli", {}, 1),
    ("continuous-bernoulli", {}, 1),
    ("gaussian", {"sigma": 0.3}, 1),
    ("gaussian-perpixel", {}, 2),
    ("laplace", {"scale": 0.5}, 1),
]


def assert_matches(got: dict, want: dict, rel=2e-5, abs_=2e-5):
    for key, value in want.items():
        if isinstance(value, list):
            assert got[key] == pytest.approx(value, rel=rel, abs=abs_), key
        else:
            assert got[key] == pytest.approx(value, rel=rel, abs=abs_), key


@pytest.mark.parametrize("name,params,outputs", LIKELIHOODS, ids=[n for n, _, _ in LIKELIHOODS])
def test_every_metric_matches_loops(name, params, outputs, x):
    model = small_model(outputs_per_element=outputs)
    likelihood = likelihoods.get(name, **params)
    got = evaluate_model(model, likelihood, x, iw_samples=7, seed=3)
    want = reference(model, likelihood, x, k=7, seed=3)
    assert_matches(got, want)
    assert got["active_units"] == want["active_units"] == 2  # one dim built to ignore x
    assert got["examples"] == len(x) and got["iw_samples"] == 7
    assert got["mutual_info_bound_nats"] == pytest.approx(math.log(len(x)))


def test_images_chunks_and_discretization():
    """Image-shaped x, chunks smaller than k (a tiny memory budget) and the 8-bit convention."""
    model = small_model(shape=(1, 3, 4), latent_dim=2, inactive=())
    x = torch.rand(5, 1, 3, 4, generator=torch.Generator().manual_seed(2))
    likelihood = likelihoods.get("gaussian", sigma=0.2)
    got = evaluate_model(
        model,
        likelihood,
        x,
        iw_samples=11,
        discretization_bits=8,
        batch_size=2,
        memory_budget_mb=0.002,
    )
    want = reference(model, likelihood, x, k=11, discretization_bits=8)
    assert_matches(got, want)
    assert got["bits_per_dim"] == pytest.approx(
        got["rate_bits_per_dim"] + got["distortion_bits_per_dim"]
    )
    assert "8 bits/dim" in got["bits_per_dim_convention"]


def test_without_iwae_the_distortion_uses_one_sample(model, x):
    likelihood = likelihoods.get("bernoulli")
    got = evaluate_model(model, likelihood, x, iw_samples=0, seed=5)
    want = reference(model, likelihood, x, k=0, seed=5)
    assert got["nll_iw_nats"] is None and got["nll_iw_bits_per_dim"] is None
    assert got["distortion_samples"] == 1
    assert_matches(got, want)
