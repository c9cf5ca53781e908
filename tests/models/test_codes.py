"""Standardizing the codes: the model decodes every z as before, and the rate falls by exactly
the moment KL of the codes (checked against kl_normal_std summed by hand)."""

from __future__ import annotations

import importlib

import pytest
import torch
from torch import nn

from vaebalance.errors import UserError
from vaebalance.models import ModelConfig, build_model
from vaebalance.models.codes import affine_ends, standardize_codes
from vaebalance.models.vae import VAE
from vaebalance.objective.kl import kl_normal_std

MODELS = {
    "mlp": (ModelConfig(latent_dim=3, hidden=(20,)), (10,)),
    "linear decoder": (ModelConfig(latent_dim=3, hidden=(20,), decoder="linear"), (10,)),
    "conv": (ModelConfig(arch="conv", latent_dim=4, channels=(8, 16)), (3, 16, 16)),
}


@pytest.mark.parametrize("name", MODELS)
@torch.no_grad()
def test_standardized_codes_decode_the_same_and_cost_their_moment_kl_less(name):
    torch.manual_seed(0)
    cfg, shape = MODELS[name]
    model = build_model(cfg, shape).double()
    enc, _ = affine_ends(model)  # codes well off the prior: mean 0.7, spreads 0.3 to 2
    enc.bias[: cfg.latent_dim] += 0.7
    enc.weight[: cfg.latent_dim] *= torch.linspace(0.3, 2.0, cfg.latent_dim)[:, None]
    x = torch.rand(64, *shape, dtype=torch.float64)
    mu, logvar = model.encode(x)
    eps = torch.randn_like(mu)
    out = model.decode(mu + (0.5 * logvar).exp() * eps)
    m, v = mu.mean(0), mu.var(0, unbiased=False) + logvar.exp().mean(0)
    by_hand = sum(0.5 * (m[j] ** 2 + v[j] - 1 - torch.log(v[j])) for j in range(len(m)))
    rate = kl_normal_std(mu, logvar).sum(1).mean()

    standardize_codes(model, m.detach(), v.detach())
    mu2, logvar2 = model.encode(x)
    z2 = mu2 + (0.5 * logvar2).exp() * eps
    assert torch.allclose(model.decode(z2), out, atol=1e-10)
    assert torch.allclose(mu2.mean(0), torch.zeros_like(m), atol=1e-10)
    assert torch.allclose(mu2.var(0, unbiased=False) + logvar2.exp().mean(0), torch.ones_like(v))
    rate2 = kl_normal_std(mu2, logvar2).sum(1).mean()
    assert float(by_hand) > 0.5
    assert float(rate - rate2) == pytest.approx(float(by_hand), rel=1e-9)


def test_a_model_without_affine_ends_is_refused_up_front():
    j = 2
    odd = VAE(nn.Sequential(nn.Linear(4, 2 * j), nn.Tanh()), nn.Sequential(nn.Linear(j, 4)), j)
    assert affine_ends(odd) is None
    with pytest.raises(ValueError):
        standardize_codes(odd, torch.zeros(j), torch.ones(j))


def test_the_run_config_asks_only_for_models_that_can(monkeypatch):
    from vaebalance.config import build_config, resolve
    from vaebalance.data import load_dataset
    from vaebalance.training import build

    build_module = importlib.import_module("vaebalance.training.build")

    cfg = build_config(None, ["model.hidden=[8]", "model.latent_dim=2",
                              "train.standardize_codes=true"])  # fmt: skip
    data = load_dataset(cfg.data.name, cfg.data.data_dir, cfg.data.test_fraction, 0)
    cfg = resolve(cfg, data)
    build(cfg, data)  # the built-in models can
    monkeypatch.setattr(build_module, "affine_ends", lambda model: None)
    with pytest.raises(UserError, match="standardize_codes"):
        build(cfg, data)
