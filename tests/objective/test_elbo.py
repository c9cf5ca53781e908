"""ELBOLoss against a brute-force hand computation, and the Constant balancer's conversions."""

from __future__ import annotations

import math

import pytest
import torch

from vaebalance import ELBOLoss, UserError
from vaebalance.balancers import Constant

F64 = torch.float64
ALL = [
    "bernoulli",
    "continuous-bernoulli",
    "gaussian",
    "gaussian-learned",
    "gaussian-optimal",
    "gaussian-perpixel",
    "laplace",
]


def brute_force(x, out, mu, logvar, element_nll):
    """Python loops over examples, elements and latent dims; everything as floats."""
    b = x.shape[0]
    xs, outs = x.reshape(b, -1).tolist(), out.reshape(b, -1).tolist()
    mus, lvs = mu.tolist(), logvar.tolist()
    j = len(mus[0])
    distortion = rate = 0.0
    kl_per_dim = [0.0] * j
    for i in range(b):
        d_i = 0.0
        for xk, ok in zip(xs[i], outs[i]):
            d_i += element_nll(xk, ok)
        distortion += d_i / b
        for jj in range(j):
            kl = 0.5 * (mus[i][jj] ** 2 + math.exp(lvs[i][jj]) - 1.0 - lvs[i][jj])
            kl_per_dim[jj] += kl / b
            rate += kl / b
    return distortion, rate, kl_per_dim


def bce(xk, logit):
    p = 1.0 / (1.0 + math.exp(-logit))
    return -(xk * math.log(p) + (1.0 - xk) * math.log(1.0 - p))


def gaussian(sigma):
    def nll(xk, mk):
        return (xk - mk) ** 2 / (2 * sigma**2) + math.log(sigma) + 0.5 * math.log(2 * math.pi)

    return nll


def batch(b=3, shape=(2, 3), j=4, seed=0, binary=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, *shape, generator=g, dtype=F64)
    if binary:
        x = x.round()
    out = torch.randn(b, *shape, generator=g, dtype=F64)
    mu = torch.randn(b, j, generator=g, dtype=F64)
    logvar = torch.randn(b, j, generator=g, dtype=F64)
    return x, out, mu, logvar


@pytest.mark.parametrize(
    "name,params,element_nll,binary",
    [
        ("bernoulli", {}, bce, True),
        ("bernoulli", {}, bce, False),
        ("gaussian", {"sigma": 0.5}, gaussian(0.5), False),
        ("gaussian", {}, gaussian(1.0), False),
    ],
)
@pytest.mark.parametrize("beta", [None, 2.5])
def test_elbo_fields_match_brute_force(name, params, element_nll, binary, beta):
    x, out, mu, logvar = batch(binary=binary)
    balancer = None if beta is None else Constant(beta=beta)
    loss_fn = ELBOLoss(name, balancer=balancer, **params).double()
    res = loss_fn(x, out, mu, logvar)
    d, r, kl_per_dim = brute_force(x, out, mu, logvar, element_nll)
    b = 1.0 if beta is None else beta
    assert float(res.distortion) == pytest.approx(d, rel=1e-6)
    assert float(res.rate) == pytest.approx(r, rel=1e-12)
    assert res.kl_per_dim.tolist() == pytest.approx(kl_per_dim, rel=1e-12)
    assert float(res.elbo) == pytest.approx(-(d + r), rel=1e-6)  # the true ELBO, whatever β
    assert float(res.loss) == pytest.approx(d + b * r, rel=1e-6)
    assert float(res.beta) == b
    mean = torch.sigmoid(out) if name == "bernoulli" else out
    mse = sum((m - xx) ** 2 for m, xx in zip(mean.flatten().tolist(), x.flatten().tolist()))
    assert float(res.mse_per_element) == pytest.approx(mse / x.numel(), rel=1e-12)
    assert res.loss.dim() == 0


def test_doc_example_bernoulli_at_zero_logits_is_k_log_2():
    x = torch.rand(8, 1, 28, 28).round()
    res = ELBOLoss("bernoulli")(x, torch.zeros(8, 1, 28, 28), torch.zeros(8, 4), torch.zeros(8, 4))
    assert float(res.distortion) == pytest.approx(784 * math.log(2), rel=1e-6)
    assert float(res.rate) == 0.0


@pytest.mark.parametrize("name", ALL)
def test_elbo_loss_is_batch_size_invariant(name):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(8, 2, 5, generator=g, dtype=F64)
    if name == "gaussian-perpixel":
        out = torch.cat([x + 0.1 * torch.randn(8, 2, 5, generator=g, dtype=F64)] * 2, dim=1)
    else:
        spread = torch.linspace(0.01, 2.0, 8, dtype=F64)[:, None, None]  # per-example scales
        out = x + spread * torch.randn(8, 2, 5, generator=g, dtype=F64)
    mu = torch.randn(8, 3, generator=g, dtype=F64)
    logvar = torch.randn(8, 3, generator=g, dtype=F64)
    loss_fn = ELBOLoss(name, validate=False).double()
    whole = loss_fn(x, out, mu, logvar)
    singles = [
        loss_fn(x[i : i + 1], out[i : i + 1], mu[i : i + 1], logvar[i : i + 1]) for i in range(8)
    ]
    for field in ("rate", "kl_per_dim"):
        avg = torch.stack([getattr(s, field) for s in singles]).mean(0)
        torch.testing.assert_close(getattr(whole, field), avg, rtol=1e-12, atol=1e-12)
    for field in ("loss", "elbo", "distortion"):
        avg = torch.stack([getattr(s, field) for s in singles]).mean(0)
        if name == "gaussian-optimal":  # documented: σ² is the MSE of the batch
            assert abs(float(getattr(whole, field) - avg)) > 1.0
        else:
            torch.testing.assert_close(getattr(whole, field), avg, rtol=1e-12, atol=1e-12)


def test_learned_sigma_is_a_parameter_of_the_loss():
    loss_fn = ELBOLoss("gaussian-learned")
    params = list(loss_fn.parameters())
    assert len(params) == 1
    assert any("raw_log_scale" in k for k in loss_fn.state_dict())
    x, out, mu, logvar = (t.float() for t in batch())
    loss_fn(x, out, mu, logvar).loss.backward()
    assert params[0].grad is not None and torch.isfinite(params[0].grad).all()


@pytest.mark.parametrize("name", ALL)
def test_gradients_finite_at_extremes(name):
    x = torch.rand(4, 6).round()
    x[0] = 0.5
    if "bernoulli" in name:
        out = torch.tensor([[50.0, -50.0, 0.0, 1e-6, -1e-6, 3.0]]).repeat(4, 1)
    elif name == "gaussian-perpixel":
        out = torch.cat([torch.full((4, 6), 50.0), torch.tensor([[30.0, -30.0] * 3] * 4)], 1)
    else:
        out = torch.tensor([[50.0, -50.0, 0.0, 1.0, 0.5, 0.0]]).repeat(4, 1)
    out.requires_grad_()
    mu = torch.tensor([[50.0, -50.0, 0.0]] * 4, requires_grad=True)
    logvar = torch.tensor([[30.0, -30.0, 0.0]] * 4, requires_grad=True)
    res = ELBOLoss(name)(x, out, mu, logvar)
    grads = torch.autograd.grad(res.loss, [out, mu, logvar])
    assert torch.isfinite(res.loss) and all(torch.isfinite(g).all() for g in grads)


# --------------------------------------------------------------------------------------------
# Constant(beta_norm / mean_weight) through ELBOLoss


def first_call(loss_fn, k_shape=(1, 28, 28), j=32):
    x = torch.rand(2, *k_shape).round()
    out = torch.zeros(2, *k_shape)
    res = loss_fn(x, out, torch.zeros(2, j), torch.zeros(2, j))
    return res


@pytest.mark.parametrize("j", [32, 16])
def test_beta_norm_is_converted_with_k_and_j(j):
    loss_fn = ELBOLoss("bernoulli", balancer=Constant(beta_norm=0.5))
    res = first_call(loss_fn, j=j)
    expected = 0.5 * 784 / j  # Higgins et al.: β_norm = β·J/K
    assert loss_fn.balancer.report()["beta"] == pytest.approx(expected, rel=1e-12)
    assert float(res.beta) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", ["bernoulli", "continuous-bernoulli"])
@pytest.mark.parametrize("j", [32, 16])
def test_mean_weight_bernoulli_family(name, j):
    loss_fn = ELBOLoss(name, balancer=Constant(mean_weight=0.1))
    first_call(loss_fn, j=j)
    assert loss_fn.balancer.report()["beta"] == pytest.approx(0.1 * 784 / j, rel=1e-12)


def test_mean_weight_bernoulli_gives_the_same_optimum_as_the_users_loss():
    """β from mean_weight makes D + β·R a positive multiple of BCE-mean + w·KL-mean."""
    w, k, j = 0.1, 12, 5
    loss_fn = ELBOLoss("bernoulli", balancer=Constant(mean_weight=w)).double()
    x = batch(b=4, shape=(k,), j=j, seed=0, binary=True)[0]
    losses, users = [], []
    for seed in range(3):  # same data, three different model outputs
        _, out, mu, logvar = batch(b=4, shape=(k,), j=j, seed=seed + 1)
        losses.append(float(loss_fn(x, out, mu, logvar).loss))
        bce = torch.nn.functional.binary_cross_entropy_with_logits(out, x, reduction="mean")
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar)
        users.append(float(bce + w * kl.mean()))
    ratio1 = (losses[1] - losses[0]) / (users[1] - users[0])
    ratio2 = (losses[2] - losses[0]) / (users[2] - users[0])
    assert ratio1 > 0 and ratio1 == pytest.approx(ratio2, rel=1e-9)
    assert ratio1 == pytest.approx(k, rel=1e-9)  # mean over K elements → sum: factor K


@pytest.mark.parametrize("sigma", [0.5, 1.0, 0.1])
def test_mean_weight_gaussian_fixed_sigma(sigma):
    loss_fn = ELBOLoss("gaussian", sigma=sigma, balancer=Constant(mean_weight=0.1))
    first_call(loss_fn)
    expected = 0.1 * 784 / (2 * sigma**2 * 32)
    assert loss_fn.balancer.report()["beta"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", ["gaussian-learned", "gaussian-optimal", "laplace"])
def test_mean_weight_has_no_meaning_without_fixed_sigma(name):
    loss_fn = ELBOLoss(name, balancer=Constant(mean_weight=0.1))
    with pytest.raises(UserError, match=f"no fixed meaning with likelihood '{name}'"):
        first_call(loss_fn)


def test_constant_rejects_two_weights_and_negative():
    with pytest.raises(UserError, match="at most one of beta, beta_norm, mean_weight"):
        Constant(beta=1.0, beta_norm=0.1)
    with pytest.raises(UserError, match="must be ≥ 0"):
        Constant(beta=-1.0)


# --------------------------------------------------------------------------------------------
# bad input


def test_bad_input_through_elbo_loss():
    x, out, mu, logvar = batch()
    loss_fn = ELBOLoss("gaussian").double()
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(3, 5\)"):
        loss_fn(x, out, mu, torch.zeros(3, 5, dtype=F64))
    with pytest.raises(ValueError, match="does not match x"):
        loss_fn(x, out[:, :1], mu, logvar)
    with pytest.raises(ValueError, match=r"batch size.*x has 3.*mu has 2"):
        loss_fn(x, out, mu[:2], logvar[:2])
    x_bad = x.clone()
    x_bad[0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        loss_fn(x_bad, out, mu, logvar)
    with pytest.raises(UserError, match="bernoulli needs targets in"):
        ELBOLoss("bernoulli")(x.float() * 2, out.float(), mu.float(), logvar.float())
    with pytest.raises(UserError, match="unknown likelihood 'normal'; valid: bernoulli"):
        ELBOLoss("normal")
    with pytest.raises(UserError, match="sigma must be > 0, got -1"):
        ELBOLoss("gaussian", sigma=-1.0)


def test_validate_false_skips_checks():
    x, out, mu, logvar = batch()
    res = ELBOLoss("bernoulli", validate=False).double()(x * 2, out, mu, logvar)
    assert torch.isfinite(res.loss)
