"""``diagnose_model`` on models trained in a plain PyTorch loop: β = 100 collapses, β = 1 is
healthy."""

from __future__ import annotations

import pytest
import torch

from vaebalance import ELBOLoss, diagnose_model
from vaebalance.balancers import Constant
from vaebalance.data import load_dataset
from vaebalance.models import ModelConfig, build_model

pytestmark = pytest.mark.slow


def plain_loop(beta: float):
    torch.manual_seed(0)
    data = load_dataset("digits")
    loss_fn = ELBOLoss("gaussian-learned", balancer=Constant(beta=beta))
    model = build_model(ModelConfig(hidden=(64,), latent_dim=8), data.shape)
    opt = torch.optim.Adam([*model.parameters(), *loss_fn.parameters()], lr=1e-3)
    x_train = data.to_float(data.train)
    for _ in range(750):  # about 30 epochs of batches of 64
        x = x_train[torch.randint(len(x_train), (64,))]
        out = loss_fn(x, *model(x))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    return model.eval(), loss_fn.likelihood, data.to_float(data.test)


@pytest.mark.parametrize("beta, expected", [(100.0, "posterior-collapse"), (1.0, "healthy")])
def test_a_plain_loop_model_is_judged_like_a_run(beta, expected):
    model, likelihood, x_test = plain_loop(beta)
    verdicts = diagnose_model(model, likelihood, x_test, beta=beta)
    assert verdicts[0].code == expected, [v.code for v in verdicts]
