import pytest
import torch

from vaebalance.balancers import (
    GECO,
    Capacity,
    Chain,
    ControlVAE,
    Cyclical,
    Dynamic,
    FreeBits,
    Warmup,
    Weights,
)

BALANCERS = [
    Warmup(steps=10, shape="sigmoid"),
    Cyclical(steps=10, shape="cosine"),
    Capacity(),
    FreeBits(groups=2),
    GECO(target_mse=0.1),
    ControlVAE(target_kl=1.0, alpha=0.5, target_start=0.5, target_step=0.1, target_every=3),
    ControlVAE(target_kl=1.0, target_start=0.0, target_steps=5),
    Dynamic(),
    Chain(Warmup(), GECO(target_mse=0.1)),
]


@pytest.mark.parametrize("balancer", BALANCERS, ids=lambda b: type(b).__name__)
def test_forward_never_reads_a_tensor_on_the_host(balancer, stats, bound, monkeypatch):
    bound(balancer, "gaussian")
    for name in ("item", "__float__", "__int__", "__bool__", "tolist", "numpy"):

        def fail(*args, _name=name, **kwargs):
            raise AssertionError(f"forward called Tensor.{_name} (a host sync)")

        monkeypatch.setattr(torch.Tensor, name, fail)
    for t in range(4):
        balancer(stats(step=t, mse=0.2 + t), Weights(), True)
        balancer(stats(step=t), Weights(), False)
