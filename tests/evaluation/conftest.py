from __future__ import annotations

import pytest
import torch

from vaebalance.models import ModelConfig, build_model


def small_model(shape=(5,), latent_dim=3, outputs_per_element=1, seed=0, inactive=(2,)):
    """A random MLP VAE whose posterior means vary by dim: dims in ``inactive`` ignore x."""
    torch.manual_seed(seed)
    model = build_model(ModelConfig(latent_dim=latent_dim, hidden=(8,)), shape, outputs_per_element)
    last = model.encoder[1][-1]  # Linear(hidden, 2J): rows [0, J) are μ, [J, 2J) log σ²
    with torch.no_grad():
        last.weight[:latent_dim] *= 4.0
        last.weight[latent_dim:] *= 2.0
        last.bias[latent_dim:] -= 1.0
        for j in inactive:
            last.weight[j] = 0.0
    return model


@pytest.fixture
def model():
    return small_model()


@pytest.fixture
def x():
    g = torch.Generator().manual_seed(1)
    return torch.rand(9, 5, generator=g)
