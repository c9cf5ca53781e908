"""Shared helpers: fixed synthetic Stats, and a tiny MLP VAE trained on ``digits``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import vaebalance
from vaebalance.balancers import Context, Stats
from vaebalance.likelihoods import get as get_likelihood


def make_stats(step=0, rate=None, mse=0.1, kl_per_dim=(1.0, 2.0)):
    kl = torch.tensor(kl_per_dim)
    rate = kl.sum() if rate is None else torch.tensor(float(rate))
    return Stats(rate, torch.tensor(100.0), kl, torch.tensor(float(mse)), torch.tensor(step))


def bind(balancer, likelihood="bernoulli", input_dim=64, latent_dim=2, **params):
    balancer.bind(Context(input_dim, latent_dim, get_likelihood(likelihood, **params)))
    return balancer


class TinyVAE(nn.Module):
    def __init__(self, k=64, h=128, j=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(k, h), nn.ReLU(), nn.Linear(h, 2 * j))
        self.dec = nn.Sequential(nn.Linear(j, h), nn.ReLU(), nn.Linear(h, k))

    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.dec(z), mu, logvar


class Step:
    """One step's detached outputs (keeping the LossOutputs would keep their graphs alive)."""

    def __init__(self, out):
        self.mse = out.mse_per_element.detach()
        self.rate = out.rate.detach()
        self.kl_per_dim = out.kl_per_dim.detach()
        self.beta = out.beta.detach()
        self.distortion = out.distortion.detach()


def mean_of(history, field, last):
    """The mean of ``field`` over the ``last`` steps of a history, as a float."""
    return float(torch.stack([getattr(s, field) for s in history[-last:]]).mean())


def load_digits_tensor():
    from sklearn.datasets import load_digits

    return torch.tensor(load_digits().data / 16.0, dtype=torch.float32)


def train_vae(data, balancer, epochs, likelihood="bernoulli", batch=64, lr=2e-3, seed=0,
              on_step=None, **likelihood_params):  # fmt: skip
    """Train ``TinyVAE`` with ``ELBOLoss`` + Adam; returns (loss_fn, a :class:`Step` per step)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # faster for this tiny model, and kind to shared cores
    try:
        torch.manual_seed(seed)
        model = TinyVAE()
        loss_fn = vaebalance.ELBOLoss(likelihood, balancer, validate=False, **likelihood_params)
        steps = epochs * len(torch.arange(len(data)).split(batch))
        loss_fn.bind(data.shape[1], model.dec[0].in_features, steps)  # as the trainer does
        opt = torch.optim.Adam([*model.parameters(), *loss_fn.parameters()], lr=lr)
        history = []
        for _ in range(epochs):
            for idx in torch.randperm(len(data)).split(batch):
                x = data[idx]
                out = loss_fn(x, *model(x))
                opt.zero_grad()
                out.loss.backward()
                opt.step()
                history.append(Step(out))
                if on_step is not None:
                    on_step(loss_fn, out)
        return loss_fn, history
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def digits():
    return load_digits_tensor()


@pytest.fixture
def train(digits):
    """``train(balancer, epochs, ...)``: :func:`train_vae` on ``digits``."""
    return lambda *args, **kwargs: train_vae(digits, *args, **kwargs)


def synthetic_batches(n, k=6, j=3, seed=0):
    """n fixed (x, decoder_output, mu, logvar) batches whose MSE and KL vary from step to step."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        x = torch.rand(4, k, generator=g)
        scale = 0.2 + 0.1 * (i % 5)
        out.append((x, torch.randn(4, k, generator=g) * 3 * scale, torch.randn(4, j, generator=g),
                    torch.randn(4, j, generator=g) * scale))  # fmt: skip
    return out


@pytest.fixture
def stats():
    """``stats(step=, rate=, mse=, kl_per_dim=)`` → fixed synthetic :class:`Stats`."""
    return make_stats


@pytest.fixture
def bound():
    """``bound(balancer, likelihood="bernoulli", latent_dim=2, **params)`` → the bound balancer."""
    return bind


@pytest.fixture
def roundtrip(tmp_path):
    """``roundtrip(make_loss, n, m)``: β of steps n..n+m continuing vs. restored from safetensors."""
    from safetensors.torch import load_file, save_file

    def run(make_loss, n=7, m=6):
        batches = synthetic_batches(n + m)
        original = make_loss().train()
        betas = [original(*b).beta.clone() for b in batches[:n]]
        save_file({k: v.contiguous() for k, v in original.state_dict().items()}, tmp_path / "s")
        continued = [original(*b).beta for b in batches[n:]]
        restored = make_loss().train()
        restored.load_state_dict(load_file(tmp_path / "s"))
        resumed = [restored(*b).beta for b in batches[n:]]
        return torch.stack(betas), torch.stack(continued), torch.stack(resumed)

    return run
