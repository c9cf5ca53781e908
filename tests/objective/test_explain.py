"""`explain`: a user's loss, written literally, is an exact positive multiple of the objective
explain names (plus a constant). Checked numerically, not with explain's own formula."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from vaebalance import UserError, explain

F64 = torch.float64
K, J, B = 784, 32, 4


def kl_user(mu, logvar):
    """The KL as users write it (Kingma & Welling, appendix B), per latent dim."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())


def user_loss(recon, recon_red, kl_red, batch_red, w, c, x, xhat, mu, logvar):
    """``c · Rec + w · KL`` written the way people write it."""
    b = x.shape[0]
    if recon == "bce":
        elem = F.binary_cross_entropy(torch.sigmoid(xhat), x, reduction="none")
        lit = {"mean": F.binary_cross_entropy(torch.sigmoid(xhat), x, reduction="mean")}
    else:
        elem = F.mse_loss(xhat, x, reduction="none")
        lit = {"mean": F.mse_loss(xhat, x, reduction="mean")}
    if recon_red == "mean" and batch_red == "mean":
        rec = lit["mean"]
    elif recon_red == "sum" and batch_red == "sum":
        rec = elem.sum()
    elif recon_red == "sum":
        rec = elem.sum() / b
    else:
        rec = elem.mean(1).sum()
    kl = kl_user(mu, logvar)
    kl_term = {
        ("mean", "mean"): kl.mean(),
        ("sum", "mean"): kl.sum(1).mean(),
        ("mean", "sum"): kl.mean(1).sum(),
        ("sum", "sum"): kl.sum(),
    }[(kl_red, batch_red)]
    return c * rec + w * kl_term


def gaussian_neg_elbo(sigma2, beta, x, xhat, mu, logvar):
    """Batch mean of Σ_k −log N(x_k; x̂_k, σ²) + β Σ_j KL_j, from the density written out."""
    nll = ((x - xhat) ** 2 / (2 * sigma2) + 0.5 * math.log(2 * math.pi * sigma2)).sum(1)
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(1)
    return (nll + beta * kl).mean()


def bernoulli_neg_elbo(beta, x, xhat, mu, logvar):
    p = torch.sigmoid(xhat)
    nll = -(x * torch.log(p) + (1 - x) * torch.log1p(-p)).sum(1)
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(1)
    return (nll + beta * kl).mean()


def points(seed=0):
    """A base point, one with only the reconstruction changed, one with only the KL changed,
    and one with both: an affine relation through all four pins down β exactly."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(B, K, generator=g, dtype=F64)
    xhat0 = torch.randn(B, K, generator=g, dtype=F64)
    xhat1 = torch.randn(B, K, generator=g, dtype=F64)
    mu0, mu1 = (torch.randn(B, J, generator=g, dtype=F64) for _ in range(2))
    lv0, lv1 = (torch.randn(B, J, generator=g, dtype=F64) for _ in range(2))
    return x, [(xhat0, mu0, lv0), (xhat1, mu0, lv0), (xhat0, mu1, lv1), (xhat1, mu1, lv1)]


def affine_factor(user, canon, x, pts):
    """The factor a with user = a·canon + const at every point; asserts it exists and a > 0."""
    u = [float(user(x, *p)) for p in pts]
    c = [float(canon(x, *p)) for p in pts]
    ratios = [(u[i] - u[0]) / (c[i] - c[0]) for i in range(1, len(pts))]
    assert ratios[0] > 0
    assert ratios[1] == pytest.approx(ratios[0], rel=1e-9)
    assert ratios[2] == pytest.approx(ratios[0], rel=1e-9)
    return ratios[0]


def is_affine(user, canon, x, pts) -> bool:
    try:
        affine_factor(user, canon, x, pts)
    except AssertionError:
        return False
    return True


CONVENTIONS = [
    (recon, rr, kr)
    for recon, rr, kr in itertools.product(["mse", "sse", "bce"], ["sum", "mean"], ["sum", "mean"])
    if not (recon == "sse" and rr == "mean")
]


@pytest.mark.parametrize("recon,recon_red,kl_red", CONVENTIONS)
@pytest.mark.parametrize("w,c", [(0.1, 1.0), (3.0, 0.5)])
def test_explain_is_exact_for_every_convention(recon, recon_red, kl_red, w, c):
    e = explain(recon, recon_red, kl_red, w, input_dim=K, latent_dim=J, recon_scale=c)
    x, pts = points()
    if recon == "bce":
        x = x.round()
    factors = []
    for batch_red in ("mean", "sum"):  # the batch reduction must not change β

        def user(x, xhat, mu, lv, batch_red=batch_red):
            return user_loss(recon, recon_red, kl_red, batch_red, w, c, x, xhat, mu, lv)

        if recon == "bce":
            assert e.sigma is None and e.sigma_squared is None
            canon = [lambda x, *p: bernoulli_neg_elbo(e.beta, x, *p)]
            wrong = lambda x, *p: bernoulli_neg_elbo(e.beta * 1.01, x, *p)  # noqa: E731
        else:
            assert e.sigma == pytest.approx(math.sqrt(e.sigma_squared), rel=1e-12)
            canon = [
                lambda x, *p: gaussian_neg_elbo(e.sigma_squared, 1.0, x, *p),  # β = 1, σ² given
                lambda x, *p: gaussian_neg_elbo(1.0, e.beta, x, *p),  # σ = 1, β = explain's β
            ]
            wrong = lambda x, *p: gaussian_neg_elbo(e.sigma_squared * 1.01, 1.0, x, *p)  # noqa: E731
        for cn in canon:
            factors.append(affine_factor(user, cn, x, pts))
        assert not is_affine(user, wrong, x, pts)  # the check can tell a 1% error in β
    assert all(f > 0 for f in factors)


def test_canonical_question_numbers():
    """MSE mean over pixels + 0.1 · KL mean over latents, K = 784, J = 32 (the reduction
    table: β_eff vs SSE = w·K/J, σ² = β_eff / 2)."""
    e = explain("mse", "mean", "mean", 0.1, input_dim=784, latent_dim=32)
    sigma2 = 0.1 * 784 / 32 / 2
    assert e.sigma_squared == pytest.approx(sigma2, rel=1e-12)
    assert e.sigma_squared == pytest.approx(1.225, rel=1e-12)
    assert e.beta == pytest.approx(1.225, rel=1e-12)
    assert e.sigma == pytest.approx(math.sqrt(1.225), rel=1e-12)
    # and the gradients agree up to one positive factor (the learning rate), σ² = 1.225
    x, pts = points(seed=3)
    xhat, mu, lv = (t.clone().requires_grad_() for t in pts[3])
    gu = torch.autograd.grad(
        user_loss("mse", "mean", "mean", "mean", 0.1, 1, x, xhat, mu, lv), [xhat, mu, lv]
    )
    gc = torch.autograd.grad(gaussian_neg_elbo(sigma2, 1.0, x, xhat, mu, lv), [xhat, mu, lv])
    a = float(gu[0].flatten()[0] / gc[0].flatten()[0])
    assert a > 0
    for u, cn in zip(gu, gc):
        torch.testing.assert_close(u, a * cn, rtol=1e-9, atol=1e-15)


def test_bce_canonical_numbers():
    e = explain("bce", "mean", "mean", 0.1, input_dim=784, latent_dim=32)
    assert e.beta == pytest.approx(0.1 * 784 / 32, rel=1e-12)
    e = explain("bce", "sum", "sum", 1.0, input_dim=784, latent_dim=32)
    assert e.beta == 1.0 and "the ELBO itself" in e.text


def test_recon_scale_half():
    """0.5·SSE + w·KL_sum (pythae's convention) is the unit-σ Gaussian β-ELBO with β = w."""
    e = explain("sse", "sum", "sum", 0.7, input_dim=10, latent_dim=3, recon_scale=0.5)
    assert e.beta == pytest.approx(0.7, rel=1e-12)
    assert e.sigma_squared == pytest.approx(0.7, rel=1e-12)


def test_defaults_follow_pytorch_reductions():
    assert explain("mse", kl_weight=0.1) == explain("mse", "mean", kl_weight=0.1)
    assert explain("bce", kl_weight=0.1) == explain("bce", "mean", kl_weight=0.1)
    assert explain("sse", kl_weight=0.1) == explain("sse", "sum", kl_weight=0.1)


def test_text_answers_the_question():
    e = explain("mse", "mean", "mean", 0.1, input_dim=784, latent_dim=32)
    text = e.text
    for needle in (
        "reduce_sum or reduce_mean",
        "Sum over input elements and over latent dimensions",
        "Mean over the batch",
        "gaussian-learned",
        "geco",
        "K = 784",
        "J = 32",
        "σ² = 1.225",
        "grows in proportion to K",
        "shrinks in proportion to J",
    ):
        assert needle in text, needle
    assert "text" not in e.to_json()
    assert e.to_json()["sigma_squared"] == pytest.approx(1.225)
    sums = explain("sse", "sum", "sum", 2.0, input_dim=784, latent_dim=32).text
    assert "same thing for any K and J" in sums and "grows in proportion" not in sums
    bce = explain("bce", "mean", "mean", 0.1, input_dim=784, latent_dim=32).text
    assert "β = 2.45" in bce and "continuous-bernoulli" in bce and "geco" in bce
    assert "KL weighted more than in the ELBO" in bce


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"recon": "l1"}, "unknown reconstruction loss 'l1'; valid: bce, mse, sse"),
        ({"recon_reduction": "avg"}, "unknown recon reduction 'avg'; valid: mean, sum"),
        ({"kl_reduction": "none"}, "unknown kl reduction 'none'; valid: mean, sum"),
        ({"recon": "sse", "recon_reduction": "mean"}, "sse is a sum over elements"),
        ({"input_dim": 0}, "input dim K must be a positive integer, got 0"),
        ({"input_dim": -5}, "input dim K must be a positive integer"),
        ({"input_dim": 2.5}, "input dim K must be a positive integer"),
        ({"latent_dim": 0}, "latent dim J must be a positive integer, got 0"),
        ({"kl_weight": 0.0}, "kl weight must be > 0"),
        ({"kl_weight": -0.1}, "kl weight must be > 0"),
        ({"kl_weight": math.inf}, "kl weight must be > 0 and finite"),
        ({"kl_weight": math.nan}, "kl weight must be > 0 and finite"),
        ({"recon_scale": 0.0}, "recon scale must be > 0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as info:
        explain(**kwargs)
    assert isinstance(info.value, UserError)


def test_the_sigma_verdict_is_on_the_datas_scale():
    from vaebalance.objective.explain import explain as explain_fn

    # SSE with weight 1: σ = 1/√2 ≈ 0.71. Wide for data in [0, 1], fine for 8-bit values.
    unit = explain_fn("mse", "sum", "sum", 1.0, 784, 32)
    raw = explain_fn("mse", "sum", "sum", 1.0, 784, 32, data_range=255.0, data_std=80.0)
    assert "wider than half the range" in unit.text and "[0, 1] (assumed)" in unit.text
    assert "plausible noise level" in raw.text and "range of 255" in raw.text
    # A σ below half the range but above the data's own spread still means blur.
    tight = explain_fn("mse", "sum", "sum", 1.0, 784, 32, data_range=4.0, data_std=0.5)
    assert "call all of the data's variation noise" in tight.text
    # The GECO example target is on the data's scale: 5% of its variance.
    (geco,) = [s for s in raw.suggestions if s.config.get("balancer.name") == "geco"]
    assert geco.config["balancer.target_mse"] == pytest.approx(0.05 * 80.0**2)


def test_bce_text_says_when_bce_is_a_likelihood():
    """docs/guide.md §5: for binary data BCE summed over K is the Bernoulli NLL; on grey
    levels it is not a normalized density, the continuous Bernoulli is."""
    lines = explain("bce", "sum", "sum", 1.0, input_dim=784, latent_dim=32).text.splitlines()
    (line,) = [s for s in lines if "Bernoulli negative log-likelihood" in s]
    assert line.startswith("BCE summed over elements is the exact Bernoulli negative "
                           "log-likelihood for binary data;")  # fmt: skip
    assert "not a normalized density" in line and "continuous-bernoulli" in line


def test_bce_text_says_a_kl_mean_over_dims_moves_the_weight_with_j():
    """docs/guide.md: a mean over latent dims divides the KL's real weight by J."""
    text = explain("bce", "sum", "mean", 1.0, input_dim=784, latent_dim=32).text
    assert "shrinks in proportion to J" in text and "grows in proportion to K" not in text


def test_gaussian_reference_names_the_unit_sigma_decoder():
    """docs/guide.md §1: against a unit-σ Gaussian decoder (NLL = SSE/2 + const) the loss
    SSE + w·KL is the β-ELBO with β = w/2 = σ²."""
    reference = explain("sse", "sum", "sum", 2.0, input_dim=784, latent_dim=32).reference
    assert "Gaussian decoder with sigma = 1 (NLL = SSE/2 + const)" in reference
