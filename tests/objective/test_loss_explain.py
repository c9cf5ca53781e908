"""``explain_loss`` on losses written the ways people write them: β and σ must match a hand
derivation (in each test's docstring) to 1e-6, and losses that are not ``a·recon + b·KL + c``
must be refused with a message that names the deviation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vaebalance import UserError, explain_loss
from vaebalance.objective import load_loss_function

SHAPE, K, J = (1, 6, 5), 30, 4  # small: every call is cheap; K ≠ J so reductions are visible
REL = 1e-6


def kl_elem(mu, logvar):
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def gauss(e, beta_summed, batch):
    """Squared error + β_S · KL summed: σ² = β_S / 2, β at σ = 1 is σ²."""
    assert e.recon == "mse" and e.batch_reduction == batch
    assert e.beta_summed == pytest.approx(beta_summed, rel=REL)
    assert e.sigma_squared == pytest.approx(beta_summed / 2, rel=REL)
    assert e.sigma == pytest.approx(math.sqrt(beta_summed / 2), rel=REL)
    assert e.beta == pytest.approx(beta_summed / 2, rel=REL)


def bern(e, beta, batch, kind="bce"):
    assert e.recon == kind and e.batch_reduction == batch
    assert e.beta == pytest.approx(beta, rel=REL) and e.sigma is None


W = 0.1
# (name, loss, β_S against the summed squared error, batch reduction): each hand-derived.
MSE_CASES = [
    # F.mse_loss default: mean over B·K; KL mean over B·J → per example (1/K)·SSE + (w/J)·KL
    ("mse-mean/kl-mean", lambda x, r, m, v: F.mse_loss(r, x) + W * kl_elem(m, v).mean(),
     W * K / J, "mean"),
    # mean over everything, KL summed over J then batch mean → (1/K) SSE + w KL: β_S = w K
    ("mse-mean/kl-sum", lambda x, r, m, v: F.mse_loss(r, x) + W * kl_elem(m, v).sum(1).mean(),
     W * K, "mean"),
    # sums over everything (pytorch/examples-style)
    ("mse-sum/kl-sum", lambda x, r, m, v: F.mse_loss(r, x, reduction="sum")
     + W * kl_elem(m, v).sum(), W, "sum"),
    # SSE per example then batch mean, KL mean over J then batch mean → β_S = w / J
    ("sse/kl-mean-dims", lambda x, r, m, v: F.mse_loss(r, x, reduction="none").flatten(1)
     .sum(1).mean() + W * kl_elem(m, v).mean(1).mean(), W / J, "mean"),
    # mean over pixels per example, summed over the batch; KL summed over dims and batch
    ("mse-pixelmean-batchsum", lambda x, r, m, v: F.mse_loss(r, x, reduction="none")
     .flatten(1).mean(1).sum() + W * kl_elem(m, v).sum(), W * K, "sum"),
    # pythae: ½·SSE + β·KL → β_S = β / ½
    ("pythae-half-sse", lambda x, r, m, v: (0.5 * ((r - x) ** 2).flatten(1).sum(-1)
     + 3.0 * kl_elem(m, v).sum(-1)).mean(0), 3.0 / 0.5, "mean"),
    # a weight in several places: c·(Rec + w·KL) + w·KL/2 with Rec the mean MSE, KL summed
    # → per example (c/K) SSE + (c·w + w/2) KL → β_S = K (c·w + w/2) / c
    ("weight-in-several-places", lambda x, r, m, v: 2.0 * (F.mse_loss(r, x)
     + W * kl_elem(m, v).sum(1).mean()) + W * kl_elem(m, v).sum(1).mean() / 2,
     K * (2.0 * W + W / 2) / 2.0, "mean"),
]  # fmt: skip


@pytest.mark.parametrize("name,loss,beta_summed,batch", MSE_CASES, ids=[c[0] for c in MSE_CASES])
def test_squared_error_conventions(name, loss, beta_summed, batch):
    gauss(explain_loss(loss, SHAPE, J), beta_summed, batch)
    gauss(explain_loss(loss, SHAPE, J, likelihood_hint="gaussian"), beta_summed, batch)


def test_bce_on_clipped_probabilities():
    """Keras' binary_crossentropy clips p to [ε, 1 − ε], ε = 1e-7, then means over the last
    axis; × K sums over pixels; KL summed; mean over the batch → β = 1."""

    def loss(x, p, mu, logvar):
        p = p.clamp(1e-7, 1 - 1e-7)
        bce = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).mean(-1) * K
        return (bce + kl_elem(mu, logvar).sum(-1)).mean()

    bern(explain_loss(loss, SHAPE, J), 1.0, "mean")
    bern(explain_loss(loss, SHAPE, J, likelihood_hint="bernoulli"), 1.0, "mean")


def test_torch_bce_mean_and_kl_mean_dims():
    """F.binary_cross_entropy (mean over B·K) + w·KL mean over B·J → β = w·K/J."""

    def loss(x, p, mu, logvar):
        return F.binary_cross_entropy(p, x) + W * kl_elem(mu, logvar).mean()

    bern(explain_loss(loss, SHAPE, J), W * K / J, "mean")


def test_bce_with_logits_summed():
    """BCE with logits summed over K and the batch + KL summed → β = 1, logits."""

    def loss(x, logits, mu, logvar):
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        return rec + kl_elem(mu, logvar).sum()

    bern(explain_loss(loss, SHAPE, J), 1.0, "sum", kind="bce-logits")


def test_a_tensorflow_style_loss_in_numpy():
    """The Keras example's expression with NumPy: original_dim·mean BCE over pixels,
    −½·Σ(1 + log σ² − μ² − σ²), K.mean over the batch → β = 1; fn gets arrays."""

    def loss(x, p, z_mean, z_log_var):
        x, p = x.reshape(len(x), -1), p.reshape(len(p), -1)
        eps = 1e-7
        p = np.clip(p, eps, 1 - eps)
        rec = -np.mean(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1) * x.shape[1]
        kl = -0.5 * np.sum(1 + z_log_var - np.square(z_mean) - np.exp(z_log_var), axis=-1)
        return np.mean(rec + kl)

    bern(explain_loss(loss, SHAPE, J), 1.0, "mean")


def test_losses_that_return_their_terms_too():
    """PyTorch-VAE returns a dict with "loss"; many examples return (loss, bce, kld)."""

    def as_dict(x, r, mu, logvar):
        rec, kld = F.mse_loss(r, x), kl_elem(mu, logvar).sum(1).mean()
        return {"loss": rec + 0.00025 * kld, "Reconstruction_Loss": rec, "KLD": -kld}

    def as_tuple(x, p, mu, logvar):
        bce = F.binary_cross_entropy(p, x, reduction="sum")
        kld = kl_elem(mu, logvar).sum()
        return bce + kld, bce, kld

    gauss(explain_loss(as_dict, SHAPE, J), 0.00025 * K, "mean")
    bern(explain_loss(as_tuple, SHAPE, J), 1.0, "sum")


def test_float32_loss_is_recovered_to_float32_precision():
    """A loss computed in float32 (a model's usual dtype): the same β, to its precision."""

    def loss(x, r, mu, logvar):
        x, r, mu, logvar = (t.float() for t in (x, r, mu, logvar))
        return F.mse_loss(r, x) + W * kl_elem(mu, logvar).mean()

    e = explain_loss(loss, SHAPE, J)
    assert e.beta_summed == pytest.approx(W * K / J, rel=1e-4)


# --- refusals -----------------------------------------------------------------------------


def per_pixel_weighting(x, r, mu, logvar):
    weight = torch.linspace(0.5, 1.5, x[0].numel(), dtype=x.dtype).reshape(x[0].shape)
    return (weight * (r - x) ** 2).sum() + kl_elem(mu, logvar).sum()


def clipped_log(x, p, mu, logvar):
    p = p.clamp(0.01, 0.99)  # bites at p < 0.01: no longer the BCE there
    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum() + kl_elem(mu, logvar).sum()


def offset_log(x, p, mu, logvar):
    rec = -(x * torch.log(p + 1e-3) + (1 - x) * torch.log(1 - p + 1e-3)).sum()
    return rec + kl_elem(mu, logvar).sum()


def kl_with_std_for_variance(x, r, mu, logvar):
    std = (0.5 * logvar).exp()  # σ written where σ² belongs
    return ((r - x) ** 2).sum() + (-0.5 * (1 + logvar - mu**2 - std)).sum()


def free_bits(x, r, mu, logvar):
    kl = kl_elem(mu, logvar).mean(0).clamp(min=0.5).sum()
    return ((r - x) ** 2).sum(dim=(1, 2, 3)).mean() + kl


def kl_summed_recon_averaged_over_batch(x, r, mu, logvar):
    return ((r - x) ** 2).flatten(1).sum(1).mean() + kl_elem(mu, logvar).sum()


def weight_from_the_loss(x, r, mu, logvar):
    rec, kl = ((r - x) ** 2).sum(), kl_elem(mu, logvar).sum()
    return rec + kl * (rec.detach() / 10)  # a KL weight that follows the reconstruction


REFUSALS = [
    (per_pixel_weighting, "weights elements unequally"),
    (clipped_log, "not linear in the summed binary cross-entropy"),
    (offset_log, "not of the form"),
    (kl_with_std_for_variance, "a KL of another form"),
    (free_bits, "free-bits clamp"),
    (kl_summed_recon_averaged_over_batch, "reduced differently over the batch"),
    (weight_from_the_loss, "the terms interact"),
]


@pytest.mark.parametrize("fn,message", REFUSALS, ids=[f.__name__ for f, _ in REFUSALS])
def test_refuses_what_is_not_of_the_form(fn, message):
    with pytest.raises(UserError, match=message) as info:
        explain_loss(fn, SHAPE, J)
    assert "\n" not in str(info.value)


def test_refuses_loss_without_kl_and_non_scalar():
    with pytest.raises(UserError, match="no KL term"):
        explain_loss(lambda x, r, m, v: F.mse_loss(r, x), SHAPE, J)
    with pytest.raises(UserError, match="must return one number"):
        explain_loss(lambda x, r, m, v: ((r - x) ** 2).flatten(1).sum(1), SHAPE, J)
    with pytest.raises(UserError, match="failed with torch tensors"):
        explain_loss(lambda x, r: 0.0, SHAPE, J)
    with pytest.raises(UserError, match="likelihood_hint must be one of"):
        explain_loss(per_pixel_weighting, SHAPE, J, likelihood_hint="poisson")


def test_the_per_pixel_message_names_the_elements():
    with pytest.raises(UserError) as info:
        explain_loss(per_pixel_weighting, SHAPE, J, likelihood_hint="gaussian")
    assert "squared error weights elements unequally: its weight is 0.5" in str(info.value)
    assert "element 0" in str(info.value) and f"element {K - 1}" in str(info.value)


def test_json_and_text():
    e = explain_loss(MSE_CASES[0][1], (1, 28, 28), 32)
    assert e.sigma_squared == pytest.approx(1.225, rel=REL)  # README's example
    data = e.to_json()
    assert data["batch_reduction"] == "mean" and data["input_dim"] == 784
    assert data["suggestions"][-1]["python"] == 'ELBOLoss("gaussian", sigma=1.1068)'
    assert "a mean over the 784 elements" in e.text


def test_load_loss_function(tmp_path):
    f = tmp_path / "my_loss.py"
    f.write_text(
        "import torch.nn.functional as F\n"
        "def vae_loss(x, recon, mu, logvar):\n"
        "    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum()\n"
        "    return F.binary_cross_entropy(recon, x, reduction='sum') + 4 * kl\n"
    )
    fn = load_loss_function(f, "vae_loss")
    bern(explain_loss(fn, SHAPE, J), 4.0, "sum")
    with pytest.raises(UserError, match=r"has no function 'loss'; it defines: vae_loss"):
        load_loss_function(f, "loss")
    with pytest.raises(UserError, match="does not exist"):
        load_loss_function(tmp_path / "nope.py", "vae_loss")
    (tmp_path / "broken.py").write_text("def f(:\n")
    with pytest.raises(UserError, match="running .*broken.py failed: SyntaxError"):
        load_loss_function(tmp_path / "broken.py", "f")


def test_json_carries_the_hand_derived_coefficients():
    """F.mse_loss (mean over B·K) + w·KL mean over B·J: per example (1/K)·SSE + (w/J)·KL."""
    e = explain_loss(MSE_CASES[0][1], SHAPE, J)
    data = e.to_json()
    assert data["recon"] == "mse" and data["batch_reduction"] == "mean"
    assert data["recon_coefficient"] == pytest.approx(1 / K, rel=REL)
    assert data["kl_coefficient"] == pytest.approx(W / J, rel=REL)
    assert data["beta_summed"] == pytest.approx(W * K / J, rel=REL)
    assert (data["input_dim"], data["latent_dim"]) == (K, J)


def test_the_text_reads_a_multiple_of_the_mean_over_elements():
    """3·SSE per example = 3K × the mean squared error over the K elements."""
    e = explain_loss(lambda x, r, m, v: 3 * ((r - x) ** 2).sum() + kl_elem(m, v).sum(), SHAPE, J)
    assert f"({3 * K:g} × the mean over the {K} elements)" in e.text


def test_terms_reduced_differently_are_refused_at_a_small_kl_weight():
    """A sum over the batch for the KL, a mean for the reconstruction: β_S = w·B moves with B
    by a third between B = 2 and 3, however small w (0.00025, PyTorch-VAE's kld_weight)."""

    def loss(x, r, mu, logvar):
        rec = ((r - x) ** 2).flatten(1).sum(1).mean()
        return rec + 0.00025 * kl_elem(mu, logvar).sum()

    with pytest.raises(UserError, match="reduced differently over the batch"):
        explain_loss(loss, SHAPE, J)


def kl_weighted_per_dim(x, r, mu, logvar):
    weight = torch.linspace(1.0, 2.0, mu.shape[1], dtype=mu.dtype)
    return ((r - x) ** 2).sum() + (weight * kl_elem(mu, logvar)).sum()


def test_a_kl_that_weights_latent_dims_unequally_is_named():
    # The squared error fits, so the deviation found furthest along is the KL's, whichever
    # readings are tried (the BCE readings already fail on the reconstruction).
    for hint in (None, "gaussian"):
        with pytest.raises(UserError, match="the KL weights latent dims unequally"):
            explain_loss(kl_weighted_per_dim, SHAPE, J, likelihood_hint=hint)


@pytest.mark.parametrize("latent_dim", [0, -2, 2.5, "4"])
def test_a_latent_dim_that_is_not_a_positive_integer_is_refused(latent_dim):
    with pytest.raises(UserError, match="latent_dim must be a positive integer"):
        explain_loss(MSE_CASES[0][1], SHAPE, latent_dim)


def test_the_probes_depend_on_the_seed_only():
    """The inputs fn sees are a function of ``seed``: not of, nor changing, torch's global RNG."""

    def recorded(global_seed, seed):
        seen = []

        def loss(x, r, mu, logvar):
            seen.append(torch.cat([x.flatten(), r.flatten(), mu.flatten(), logvar.flatten()]))
            return F.mse_loss(r, x) + W * kl_elem(mu, logvar).mean()

        torch.manual_seed(global_seed)
        explain_loss(loss, SHAPE, J, seed=seed)
        return seen, torch.rand(1)

    (a, after_a), (b, _) = recorded(1, 0), recorded(2, 0)
    assert len(a) == len(b) and all(torch.equal(u, v) for u, v in zip(a, b))
    torch.manual_seed(1)
    assert torch.equal(after_a, torch.rand(1))  # the global stream was left where it was
    c, _ = recorded(1, 1)
    assert not torch.equal(a[0], c[0])
