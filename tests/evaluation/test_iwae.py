"""The IWAE estimate: exact on probabilistic PCA, non-increasing in k, independent of chunking."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import MultivariateNormal

from vaebalance import ELBOLoss, likelihoods
from vaebalance.evaluation import evaluate_model, importance_weighted_nll, plan_chunks
from vaebalance.models import ModelConfig, build_model

from .conftest import small_model


def ppca_data(n, k=6, j=2, sigma=0.3, seed=0):
    """x = W z + b + σ ε with z ~ N(0, I_J): x ~ N(b, W Wᵀ + σ² I)."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(k, j, generator=g)
    b = torch.randn(k, generator=g)
    z = torch.randn(n, j, generator=g)
    return z @ w.T + b + sigma * torch.randn(n, k, generator=g)


def train_ppca_vae(x, steps=800):
    """A linear-decoder VAE with a learned Gaussian σ, fitted by a short Adam loop."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=2, hidden=(32,), decoder="linear"), (6,))
    loss_fn = ELBOLoss("gaussian", learn_scale=True)
    opt = torch.optim.Adam([*model.parameters(), *loss_fn.parameters()], lr=1e-2)
    g = torch.Generator().manual_seed(1)
    for _ in range(steps):
        batch = x[torch.randint(len(x), (256,), generator=g)]
        out = loss_fn(batch, *model(batch))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    return model, loss_fn.likelihood


def test_iwae_matches_the_exact_ppca_likelihood():
    data = ppca_data(2500)
    train, test = data[:2000], data[2000:]
    model, likelihood = train_ppca_vae(train)
    linear = model.decoder[0][0]  # the affine decoder z ↦ W z + b
    w, b, sigma = linear.weight.detach(), linear.bias.detach(), likelihood.sigma
    cov = w @ w.T + sigma**2 * torch.eye(6)
    exact = float(MultivariateNormal(b, cov).log_prob(test).mean())  # log p(x), nats/example

    m = evaluate_model(model, likelihood, test, iw_samples=1000)
    assert abs(-m["nll_iw_nats"] - exact) < 0.3, (m["nll_iw_nats"], exact)
    assert m["elbo_nats"] < exact
    assert m["nll_iw_nats"] <= m["neg_elbo_nats"]


def test_iwae_does_not_get_worse_as_k_grows():
    """E[L_k] is non-decreasing in k (Burda et al. 2016, Theorem 1); on a random model with a
    poor encoder the gaps are large, so the dataset means follow it."""
    model = small_model(shape=(12,), latent_dim=4, inactive=())
    x = torch.rand(200, 12, generator=torch.Generator().manual_seed(4)).round()
    likelihood = likelihoods.get("bernoulli")
    nll = [
        importance_weighted_nll(model, likelihood, x, k).nll_nats.mean() for k in (1, 10, 100, 1000)
    ]
    for worse, better in zip(nll, nll[1:]):
        assert better <= worse + 1e-3, nll
    assert nll[0] - nll[-1] > 0.5  # the bound really tightens here


def test_result_depends_on_seed_not_on_blocking():
    model = small_model(shape=(6,), latent_dim=3)
    x = torch.rand(13, 6, generator=torch.Generator().manual_seed(0))
    likelihood = likelihoods.get("bernoulli")
    base = importance_weighted_nll(model, likelihood, x, 50, seed=7)
    for batch_size, budget in ((1, 16.0), (4, 0.001), (13, 0.01), (256, 1024.0)):
        r = importance_weighted_nll(
            model, likelihood, x, 50, seed=7, batch_size=batch_size, memory_budget_mb=budget
        )
        torch.testing.assert_close(r.nll_nats, base.nll_nats, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(r.distortion_nats, base.distortion_nats, rtol=1e-5, atol=1e-5)
    other = importance_weighted_nll(model, likelihood, x, 50, seed=8)
    assert not torch.equal(other.nll_nats, base.nll_nats)
    gen = importance_weighted_nll(
        model, likelihood, x, 50, generator=torch.Generator().manual_seed(7)
    )
    assert torch.equal(gen.nll_nats, base.nll_nats)


def test_bf16_decoder_runs_close_to_fp32():
    model = small_model(shape=(6,), latent_dim=3)
    x = torch.rand(10, 6, generator=torch.Generator().manual_seed(0))
    likelihood = likelihoods.get("bernoulli")
    fp32 = importance_weighted_nll(model, likelihood, x, 20).nll_nats
    bf16 = importance_weighted_nll(model, likelihood, x, 20, precision="bf16").nll_nats
    torch.testing.assert_close(bf16, fp32, rtol=2e-2, atol=0.05)


@pytest.mark.parametrize("k", [1, 7, 1000, 100_000])
@pytest.mark.parametrize("n", [1, 5, 10_000])
def test_plan_chunks_fits_the_budget(k, n):
    bytes_per_row, budget = 4 * 4 * 784, 16 * 2**20
    block, chunk = plan_chunks(k, n, 256, bytes_per_row, budget)
    assert 1 <= block <= min(n, 256) and 1 <= chunk <= k
    rows = budget // bytes_per_row
    assert block * chunk <= max(rows, block)  # within budget unless one row per example is more
    assert block >= min(8, n) or block * chunk >= rows // 2  # several examples per call
