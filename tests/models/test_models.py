"""Model families: output shapes sized for the likelihood, conv size limits, linear decoder."""

import pytest
import torch

from vaebalance.errors import UserError
from vaebalance.models import ModelConfig, build_model


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 12, 20)])
@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("outputs", [1, 2])
def test_decoder_output_is_shaped_for_the_likelihood(shape, arch, outputs):
    model = build_model(ModelConfig(arch=arch, latent_dim=5, hidden=(16,)), shape, outputs)
    x = torch.rand(3, *shape)
    out, mu, logvar = model(x)
    assert mu.shape == logvar.shape == (3, 5)
    assert out.shape == (3, shape[0] * outputs, *shape[1:])


def test_tabular_mlp():
    model = build_model(ModelConfig(latent_dim=2, hidden=(8, 4)), (10,), 1)
    assert model(torch.rand(7, 10))[0].shape == (7, 10)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((1, 9, 9), "not divisible by 2"),
        ((1, 4, 4), "from 8×8 to 64×64"),
        ((3, 128, 128), "from 8×8 to 64×64"),
        ((2, 16, 16), "C = 1 or 3"),
        ((10,), "C = 1 or 3"),
    ],
)
def test_conv_rejects_sizes_it_cannot_take(shape, message):
    with pytest.raises(UserError, match=message):
        build_model(ModelConfig(arch="conv"), shape)


def test_linear_decoder_is_affine():
    model = build_model(ModelConfig(latent_dim=3, decoder="linear"), (1, 8, 8), 1)
    z1, z2 = torch.randn(2, 3), torch.randn(2, 3)
    d = model.decode
    torch.testing.assert_close(d(z1 + z2) - d(z2), d(z1) - d(torch.zeros(2, 3)), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "config, message",
    [
        (ModelConfig(arch="rnn"), "unknown model arch 'rnn'"),
        (ModelConfig(decoder="tree"), "unknown decoder 'tree'"),
        (ModelConfig(latent_dim=0), "latent_dim must be ≥ 1"),
        (ModelConfig(hidden=(0,)), "must all be ≥ 1"),
        (ModelConfig(arch="conv", channels=()), "model.channels needs at least one"),
    ],
)
def test_bad_model_configs(config, message):
    with pytest.raises(UserError, match=message):
        build_model(config, (1, 8, 8))
