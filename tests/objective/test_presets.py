"""Presets: each convention, re-implemented literally from its description (as the original's
lines read), is a positive multiple of the β-ELBO that ``explain_preset`` states, plus a
constant — on random tensors, at the original's data and at other shapes. The β-ELBOs are
written with ``torch.distributions``, not with vaebalance's likelihoods or explain's formula."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, NegativeBinomial, Normal, kl_divergence

from vaebalance import UserError, explain_preset
from vaebalance.objective.presets import names, parse_shape

F64 = torch.float64


def std_normal_kl(mu, logvar):
    """Σ_j KL(N(μ_j, σ_j²) ‖ N(0, 1)) per example, by torch.distributions."""
    q = Normal(mu, (0.5 * logvar).exp())
    return kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(1)


def gaussian_beta_elbo(sigma, beta):
    def loss(x, xhat, mu, logvar):
        nll = -Normal(xhat, sigma).log_prob(x).flatten(1).sum(1)
        return (nll + beta * std_normal_kl(mu, logvar)).mean()

    return loss


def bernoulli_beta_elbo(beta):
    def loss(x, p, mu, logvar):
        nll = -Bernoulli(probs=p, validate_args=False).log_prob(x).flatten(1).sum(1)
        return (nll + beta * std_normal_kl(mu, logvar)).mean()

    return loss


# --- the conventions, literally (each line as the preset's description gives it) -------------


def pytorch_vae(kld_weight):
    def loss(x, recons, mu, log_var):
        recons_loss = F.mse_loss(recons, x)
        kld_loss = torch.mean(-0.5 * torch.sum(1 + log_var - mu**2 - log_var.exp(), dim=1), dim=0)
        return recons_loss + kld_weight * kld_loss

    return loss


def lightning_bolts(x, x_hat, mu, log_var, kl_coeff=0.1):
    recon_loss = F.mse_loss(x_hat, x, reduction="mean")
    std = torch.exp(log_var / 2)
    p, q = Normal(torch.zeros_like(mu), torch.ones_like(std)), Normal(mu, std)
    kl = kl_divergence(q, p).mean()  # the expectation of log q(z|x) − log p(z), per dim
    return kl_coeff * kl + recon_loss


def keras_bce(x, p):
    """keras.losses.binary_crossentropy: a mean over the last axis."""
    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).mean(-1)


def keras_example(x, outputs, z_mean, z_log_var):
    original_dim = x[0].numel()
    reconstruction_loss = keras_bce(x.flatten(1), outputs.flatten(1)) * original_dim
    kl_loss = 1 + z_log_var - z_mean.square() - z_log_var.exp()
    kl_loss = -0.5 * kl_loss.sum(-1)
    return (reconstruction_loss + kl_loss).mean()


def keras_io_2020(x, reconstruction, z_mean, z_log_var):
    reconstruction_loss = keras_bce(x.flatten(1), reconstruction.flatten(1)).mean()
    reconstruction_loss = reconstruction_loss * x[0].numel()  # 28 * 28 in the example
    kl_loss = 1 + z_log_var - z_mean.square() - z_log_var.exp()
    kl_loss = -0.5 * kl_loss.mean()
    return reconstruction_loss + kl_loss


def pythae(x, recon_x, mu, log_var, beta=1.0):
    b = x.shape[0]
    recon_loss = 0.5 * F.mse_loss(recon_x.reshape(b, -1), x.reshape(b, -1), reduction="none")
    recon_loss = recon_loss.sum(dim=-1)
    kld = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=-1)
    return (recon_loss + beta * kld).mean(dim=0)


def disent(x, x_recon, mu, log_var, beta=0.003):
    mean_recon_loss = F.mse_loss(x_recon, x, reduction="mean")
    mean_kl_loss = (0.5 * (mu**2 + log_var.exp() - 1 - log_var)).mean()
    return mean_recon_loss + beta * mean_kl_loss


def pytorch_examples(x, recon_x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x.flatten(1), x.flatten(1), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def points(shape, j, n=6, b=5, probs=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, *shape, generator=g, dtype=F64)
    if probs:
        x = x.round()
    pts = []
    for _ in range(n):
        out = torch.rand(b, *shape, generator=g, dtype=F64) * 0.98 + 0.01
        if not probs:
            out = torch.randn(b, *shape, generator=g, dtype=F64)
        mu = torch.randn(b, j, generator=g, dtype=F64)
        lv = torch.randn(b, j, generator=g, dtype=F64)
        pts.append((out, mu, lv))
    return x, pts


def positive_multiple(literal, canonical, x, pts) -> float:
    """a with literal = a·canonical + c at every point (least squares, then exactness)."""
    u = torch.tensor([float(literal(x, *p)) for p in pts], dtype=F64)
    c = torch.tensor([float(canonical(x, *p)) for p in pts], dtype=F64)
    design = torch.stack([c, torch.ones_like(c)], 1)
    a, b = torch.linalg.lstsq(design, u.unsqueeze(1)).solution.squeeze(1).tolist()
    residual = (u - (a * c + b)).abs().max()
    assert residual <= 1e-9 * (u.max() - u.min()), "not an affine function of the β-ELBO"
    assert a > 0
    return a


def is_multiple(literal, canonical, x, pts) -> bool:
    try:
        positive_multiple(literal, canonical, x, pts)
    except AssertionError:
        return False
    return True


LITERAL = {
    "pytorch-vae": lambda e: pytorch_vae(e.yours.kl_weight),
    "lightning-bolts": lambda e: lightning_bolts,
    "keras-example": lambda e: keras_example,
    "keras-io-2020": lambda e: keras_io_2020,
    "pythae": lambda e: pythae,
    "disent": lambda e: disent,
    "pytorch-examples": lambda e: pytorch_examples,
}
SHAPES = [None, ((1, 28, 28), 16), ((3, 32, 32), 64), ((10,), 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=["original", "mnist-16", "cifar-64", "flat-10"])
@pytest.mark.parametrize("name", sorted(LITERAL))
def test_each_preset_is_a_positive_multiple_of_the_stated_beta_elbo(name, shape):
    e = explain_preset(name) if shape is None else explain_preset(name, shape[0], shape[1])
    s = e.yours
    bce = e.preset.recon == "bce"
    x, pts = points(s.input_shape, s.latent_dim, probs=bce)
    literal = LITERAL[name](e)
    if bce:
        assert s.sigma is None
        assert e.preset.likelihood == "bernoulli"
        positive_multiple(literal, bernoulli_beta_elbo(s.beta), x, pts)
        assert not is_multiple(literal, bernoulli_beta_elbo(s.beta * 1.01), x, pts)
    else:
        # The same loss is the β = 1 ELBO at σ and the β-ELBO at σ = 1 with β = σ².
        positive_multiple(literal, gaussian_beta_elbo(s.sigma, 1.0), x, pts)
        positive_multiple(literal, gaussian_beta_elbo(1.0, s.beta), x, pts)
        assert s.beta == pytest.approx(s.sigma**2, rel=1e-12)
        assert not is_multiple(literal, gaussian_beta_elbo(s.sigma * 1.01, 1.0), x, pts)


def test_the_numbers_people_ask_about():
    """The closed forms of the presets' docs: β_S = w·K/J, w·K, w/c, and σ² = β_S / 2."""
    cases = {
        "pytorch-vae": (0.00025 * 12288, 0.00025 * 12288 / 2),  # 3.072, σ ≈ 1.24
        "lightning-bolts": (0.1 * 3072 / 256, 0.1 * 3072 / 256 / 2),
        "disent": (0.003 * 12288 / 9, 0.003 * 12288 / 9 / 2),  # ≈ 4, the cfg's comment
        "pythae": (2.0, 1.0),  # ½·SSE + KL: the σ = 1 ELBO
    }
    for name, (beta_summed, sigma2) in cases.items():
        o = explain_preset(name).original
        assert o.beta_summed == pytest.approx(beta_summed, rel=1e-12), name
        assert o.sigma_squared == pytest.approx(sigma2, rel=1e-12), name
        assert o.beta == pytest.approx(sigma2, rel=1e-12), name
    assert explain_preset("pytorch-vae").original.sigma == pytest.approx(1.23935, abs=1e-5)
    for name, beta in (("keras-example", 1.0), ("keras-io-2020", 0.5), ("pytorch-examples", 1.0)):
        assert explain_preset(name).original.beta == pytest.approx(beta, rel=1e-12)
    assert explain_preset("keras-io-2020", latent_dim=16).beta == pytest.approx(1 / 16)


def test_pytorch_vae_weight_is_batch_over_data_size_when_given():
    e = explain_preset("pytorch-vae", (1, 28, 28), 16, batch_size=64, dataset_size=60000)
    assert e.yours.kl_weight == pytest.approx(64 / 60000)
    assert e.yours.beta_summed == pytest.approx(64 / 60000 * 784, rel=1e-12)
    assert e.original.kl_weight == 0.00025


def scvi_final_weight_by_simulation(n_obs: int) -> float:
    """Run scvi-tools' defaults literally: max_epochs from the heuristic, then the epoch loop
    with the linear warm-up of the TrainingPlan; the weight the last epoch trains with."""
    max_epochs = max(1, min(round((20000 / n_obs) * 400), 400))
    kl_weight = None
    for epoch in range(max_epochs):
        kl_weight = (1.0 - 0.0) * (epoch / 400) + 0.0 if epoch < 400 else 1.0
    return kl_weight


@pytest.mark.parametrize("n_obs", [500, 20000, 30000, 100000, 2_000_000])
def test_scvi_tools_warmup_that_never_finishes(n_obs):
    e = explain_preset("scvi-tools", dataset_size=n_obs)
    assert e.beta == pytest.approx(scvi_final_weight_by_simulation(n_obs), rel=1e-12)
    assert e.beta < 1  # even 400 epochs end at 399/400
    g = torch.Generator().manual_seed(n_obs)
    b, genes, j = 4, 30, 5
    counts = torch.poisson(torch.rand(b, genes, generator=g, dtype=F64) * 5)
    pts = []
    for _ in range(6):
        logits = torch.randn(b, genes, generator=g, dtype=F64)
        pts.append((logits, *(torch.randn(b, j, generator=g, dtype=F64) for _ in range(2))))
    theta = torch.full((genes,), 3.0, dtype=F64)

    def literal(x, logits, mu, logvar):  # the scvi loss with the last epoch's kl_weight
        reconst_loss = -NegativeBinomial(theta, logits=logits).log_prob(x).sum(-1)
        kl_divergence_z = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(-1)
        return torch.mean(reconst_loss + scvi_final_weight_by_simulation(n_obs) * kl_divergence_z)

    def stated(x, logits, mu, logvar):
        nll = -NegativeBinomial(theta, logits=logits).log_prob(x).sum(-1)
        return (nll + e.beta * std_normal_kl(mu, logvar)).mean()

    positive_multiple(literal, stated, counts, pts)


def test_explanation_carries_units_commands_and_json():
    e = explain_preset("lightning-bolts", (1, 28, 28), 16)
    data = e.to_json()
    assert data["preset"] == "lightning-bolts" and data["url"].startswith("https://")
    assert data["yours"]["input_dim"] == 784 and data["yours"]["latent_dim"] == 16
    assert data["yours"]["sigma"] == pytest.approx(math.sqrt(0.1 * 784 / 16 / 2))
    assert data["original"]["input_dim"] == 3072
    assert "nats" in data["units"] and "KL summed" in data["units"]
    assert e.elbo_loss == f'ELBOLoss("gaussian", sigma={e.sigma:.6g})'
    assert (
        e.command
        == f"vaebalance train --set likelihood.name=gaussian --set likelihood.sigma={e.sigma:.6g}"
    )
    assert "read from lightning-bolts 0.7.0" in e.text


def test_every_preset_has_provenance():
    for name in names():
        p = explain_preset(name).preset
        assert p.url.startswith("https://github.com/") and p.version and len(p.encodes) >= 3


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"name": "pytorch_vae"}, "unknown preset 'pytorch_vae'"),
        ({"name": "pythae", "input_shape": (3, 0, 4)}, "input_shape must be positive"),
        ({"name": "pythae", "latent_dim": 0}, "latent_dim must be a positive integer"),
        ({"name": "pythae", "dataset_size": -5}, "dataset_size must be a positive integer"),
    ],
)
def test_bad_inputs_are_user_errors(kwargs, message):
    with pytest.raises(UserError, match=message):
        explain_preset(**kwargs)


@pytest.mark.parametrize("text", ["3,64", "a,b", "", "3,-1", "3,,4"])
def test_parse_shape(text):
    if text == "3,64":
        assert parse_shape(text) == (3, 64)
    else:
        with pytest.raises(UserError, match="input_shape must be positive integers"):
            parse_shape(text)


def test_readme_table_holds_the_presets_numbers():
    """README's table of presets at their default data is explain_preset's numbers."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("<!-- presets-table -->")[1].split("<!-- presets-table-end -->")[0]
    rows = [line.split("|")[1:-1] for line in table.strip().splitlines()[2:]]
    assert [r[0].strip().strip("`") for r in rows] == names()
    for cells in rows:
        o = explain_preset(cells[0].strip().strip("`")).original
        weight, beta_summed, beta, sigma = (c.strip() for c in cells[2:6])
        assert float(weight) == pytest.approx(o.kl_weight, rel=1e-4)
        assert float(beta_summed) == pytest.approx(o.beta_summed, rel=1e-3)
        assert float(beta) == pytest.approx(o.beta, rel=1e-3)
        assert (sigma == "—") == (o.sigma is None)
        if o.sigma is not None:
            assert float(sigma) == pytest.approx(o.sigma, rel=1e-3)


def test_docs_presets_md_is_rendered_from_the_catalogue():
    from .preset_docs import DOC, render

    assert DOC.read_text() == render(), "run: python -m tests.objective.preset_docs --write"


@pytest.mark.parametrize("name", sorted(LITERAL))
def test_explain_loss_reads_the_same_numbers_off_each_literal_loss(name):
    """Two independent routes to β and σ: the preset's description, and probing its literal
    re-implementation as a black box."""
    from vaebalance import explain_loss

    e = explain_preset(name, (1, 6, 5), 4)
    probed = explain_loss(LITERAL[name](e), (1, 6, 5), 4)
    assert probed.beta == pytest.approx(e.yours.beta, rel=1e-6)
    assert probed.beta_summed == pytest.approx(e.yours.beta_summed, rel=1e-6)
    if e.yours.sigma is None:
        assert probed.sigma is None and probed.recon == "bce"
    else:
        assert probed.sigma == pytest.approx(e.yours.sigma, rel=1e-6)


def test_json_of_a_setting_gives_beta_at_unit_sigma():
    """lightning-bolts: 0.1 · KL mean over J against the MSE mean over K. At K = 784, J = 16
    β_S = 0.1 · 784 / 16 = 4.9 on the summed KL against the SSE, i.e. σ² = β_S / 2 = 2.45,
    and β = σ² = 2.45 against a unit-σ Gaussian decoder."""
    yours = explain_preset("lightning-bolts", (1, 28, 28), 16).to_json()["yours"]
    assert yours["kl_weight"] == pytest.approx(0.1)
    assert yours["beta_summed"] == pytest.approx(4.9, rel=1e-12)
    assert yours["beta"] == pytest.approx(2.45, rel=1e-12)
    assert yours["sigma_squared"] == pytest.approx(2.45, rel=1e-12)
