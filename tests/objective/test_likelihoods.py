"""Likelihoods against torch.distributions, hand formulas and numerical integration."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Bernoulli, ContinuousBernoulli, Laplace, Normal

from vaebalance import UserError, likelihoods
from vaebalance.objective.likelihoods import LOG_SCALE_FLOOR

ALL = [
    "bernoulli",
    "continuous-bernoulli",
    "gaussian",
    "gaussian-learned",
    "gaussian-optimal",
    "gaussian-perpixel",
    "laplace",
]
F64 = torch.float64


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def simpson(y: torch.Tensor, a: float, b: float) -> torch.Tensor:
    """Composite Simpson rule along the last dim (odd number of equally spaced points)."""
    n = y.shape[-1] - 1
    assert n % 2 == 0
    h = (b - a) / n
    return (
        h / 3 * (y[..., 0] + y[..., -1] + 4 * y[..., 1:-1:2].sum(-1) + 2 * y[..., 2:-1:2].sum(-1))
    )


def logit(lam: float) -> float:
    return math.log(lam) - math.log1p(-lam)


def own_softclip(t: float) -> float:
    """−6 + softplus(t + 6), written with math (σ-VAE's soft clip)."""
    return -6.0 + math.log1p(math.exp(t + 6.0))


def per_element_density(lik, x_grid: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
    """exp(−nll) for every (η, x) pair: examples of one element each, shape [len(η), len(x)]."""
    xs = x_grid.expand(len(eta), -1).reshape(-1, 1)
    etas = eta[:, None].expand(-1, len(x_grid)).reshape(-1, 1)
    return torch.exp(-lik.nll(xs, etas)).reshape(len(eta), len(x_grid))


# --------------------------------------------------------------------------------------------
# registry


def test_registry_names():
    assert sorted(likelihoods.names()) == sorted(ALL)
    for name in ALL:
        assert likelihoods.get(name).name == name


def test_instance_passes_through_and_rejects_params():
    lik = likelihoods.get("gaussian", sigma=0.5)
    assert likelihoods.get(lik) is lik
    with pytest.raises(UserError, match="parameters cannot be given"):
        likelihoods.get(lik, sigma=2.0)


# --------------------------------------------------------------------------------------------
# Bernoulli


def test_bernoulli_matches_torch_and_hand_formula():
    g = gen(1)
    logits = torch.randn(4, 3, 5, 2, generator=g, dtype=F64) * 4
    x = torch.rand(4, 3, 5, 2, generator=g, dtype=F64).round()
    x[0] = torch.rand(3, 5, 2, generator=g, dtype=F64)  # grey values: cross-entropy
    lik = likelihoods.get("bernoulli")
    nll = lik.nll(x, logits)
    assert nll.shape == (4,)
    ref = -Bernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(nll, ref, rtol=1e-12, atol=1e-12)
    p = 1 / (1 + torch.exp(-logits))
    hand = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(1)
    torch.testing.assert_close(nll, hand, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(lik.mean(logits), p)


# --------------------------------------------------------------------------------------------
# Continuous Bernoulli


def test_continuous_bernoulli_matches_torch_away_from_half():
    g = gen(2)
    logits = torch.randn(6, 40, generator=g, dtype=F64) * 5
    logits = torch.where(logits.abs() < 0.05, torch.full_like(logits, 0.3), logits)  # |λ−½|>0.01
    x = torch.rand(6, 40, generator=g, dtype=F64)
    x[:, :3] = torch.tensor([0.0, 1.0, 0.5], dtype=F64)
    lik = likelihoods.get("continuous-bernoulli")
    ref = -ContinuousBernoulli(logits=logits).log_prob(x).sum(1)
    torch.testing.assert_close(lik.nll(x, logits), ref, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(
        lik.mean(logits), ContinuousBernoulli(logits=logits).mean, rtol=1e-10, atol=1e-10
    )


NEAR_HALF_ETAS = [0.0, 1e-6, -1e-6, 1e-4, -1e-3, 0.004, -0.00999, 0.01, 0.0101, -0.02, 0.05]


def test_continuous_bernoulli_near_half_matches_numerical_integration():
    """log p(x) = x log λ + (1−x) log(1−λ) − log ∫₀¹ λ^t (1−λ)^(1−t) dt, around λ = ½ where
    torch switches to its own Taylor expansion; our reference integrates numerically."""
    eta = torch.tensor(NEAR_HALF_ETAS, dtype=F64)
    lam = torch.sigmoid(eta)
    t = torch.linspace(0, 1, 2001, dtype=F64)
    unnorm = lam[:, None] ** t * (1 - lam[:, None]) ** (1 - t)
    z = simpson(unnorm, 0.0, 1.0)
    x = torch.tensor([0.0, 0.3, 0.77, 1.0], dtype=F64)
    ref = -(
        x * torch.log(lam[:, None]) + (1 - x) * torch.log1p(-lam[:, None]) - torch.log(z)[:, None]
    )
    lik = likelihoods.get("continuous-bernoulli")
    nll = lik.nll(x.expand(len(eta), -1).reshape(-1, 1), eta[:, None].expand(-1, 4).reshape(-1, 1))
    torch.testing.assert_close(nll.reshape(len(eta), 4), ref, rtol=0, atol=1e-11)
    # the mean: ∫ t p(t) dt
    ref_mean = simpson(t * unnorm, 0.0, 1.0) / z
    torch.testing.assert_close(lik.mean(eta), ref_mean, rtol=0, atol=1e-8)
    assert float(lik.mean(torch.zeros(1, dtype=F64))) == 0.5


LAMBDAS = [1e-4, 1e-3, 0.01, 0.1, 0.3, 0.45, 0.499, 0.4995, 0.4999, 0.5, 0.5001, 0.5005]
LAMBDAS += [0.501, 0.55, 0.7, 0.9, 0.99, 0.999, 1 - 1e-4]


def test_continuous_bernoulli_integrates_to_one():
    eta = torch.tensor([logit(v) for v in LAMBDAS], dtype=F64)
    x = torch.linspace(0, 1, 4001, dtype=F64)
    dens = per_element_density(likelihoods.get("continuous-bernoulli"), x, eta)
    total = simpson(dens, 0.0, 1.0)
    assert (total - 1).abs().max() < 1e-4, dict(zip(LAMBDAS, total.tolist()))
    # much better than the requirement in float64
    assert (total - 1).abs().max() < 1e-9


def test_continuous_bernoulli_integrates_to_one_in_float32():
    """Training runs in float32: the branch switch near ½ must not break normalisation there."""
    eta = torch.tensor([logit(v) for v in LAMBDAS] + [0.00999, 0.01001, -0.01], dtype=F64)
    x = torch.linspace(0, 1, 4001, dtype=F64)
    dens = per_element_density(
        likelihoods.get("continuous-bernoulli"), x.float(), eta.float()
    ).double()
    total = simpson(dens, 0.0, 1.0)
    assert (total - 1).abs().max() < 1e-4


@settings(max_examples=30, deadline=None, database=None)
@given(st.floats(min_value=1e-4, max_value=1 - 1e-4))
def test_continuous_bernoulli_normalised_for_random_lambda(lam):
    eta = torch.tensor([logit(lam)], dtype=F64)
    x = torch.linspace(0, 1, 2001, dtype=F64)
    dens = per_element_density(likelihoods.get("continuous-bernoulli"), x, eta)
    assert abs(float(simpson(dens, 0.0, 1.0)) - 1) < 1e-4


def test_continuous_bernoulli_mean_is_continuous_in_float32_across_branch():
    lik = likelihoods.get("continuous-bernoulli")
    eta = torch.tensor([0.0099999, 0.0100001, -0.0099999, -0.0100001])
    m = lik.mean(eta)
    assert abs(float(m[0] - m[1])) < 1e-5 and abs(float(m[2] - m[3])) < 1e-5
    # the mean is not λ (Loaiza-Ganem & Cunningham): for λ = 0.9 it is well below 0.9
    assert float(lik.mean(torch.tensor([logit(0.9)]))) < 0.8


# --------------------------------------------------------------------------------------------
# Gaussian family


def data(shape=(5, 2, 3, 4), seed=3):
    g = gen(seed)
    x = torch.rand(*shape, generator=g, dtype=F64)
    loc = x + 0.2 * torch.randn(*shape, generator=g, dtype=F64)
    return x, loc


def normal_nll(x, loc, sigma):
    return -Normal(loc, sigma).log_prob(x).flatten(1).sum(1)


@pytest.mark.parametrize("sigma", [0.05, 1.0, 2.5])
def test_gaussian_fixed_sigma_matches_normal(sigma):
    x, loc = data()
    lik = likelihoods.get("gaussian", sigma=sigma)
    torch.testing.assert_close(lik.nll(x, loc), normal_nll(x, loc, sigma), rtol=1e-6, atol=1e-6)
    assert lik.sigma == pytest.approx(sigma, rel=1e-6)
    assert lik.mean(loc) is loc or torch.equal(lik.mean(loc), loc)
    assert list(lik.parameters()) == []  # fixed σ is not trained


@pytest.mark.parametrize("raw", [-40.0, -8.0, -6.0, -2.0, 0.0, 1.5])
def test_gaussian_learned_uses_soft_clipped_parameter(raw):
    x, loc = data()
    lik = likelihoods.get("gaussian-learned", sigma=0.3).double()
    (param,) = list(lik.parameters())
    with torch.no_grad():
        param.fill_(raw)
    log_sigma = own_softclip(raw)
    assert log_sigma >= LOG_SCALE_FLOOR == -6.0
    assert float(lik.current_log_scale().detach()) == pytest.approx(log_sigma, abs=1e-12)
    assert float(lik.current_log_scale().detach()) >= -6.0
    expected = normal_nll(x, loc, math.exp(log_sigma))
    torch.testing.assert_close(lik.nll(x, loc), expected, rtol=1e-9, atol=1e-9)
    # the parameter is trained through the NLL
    lik.nll(x, loc).sum().backward()
    assert param.grad is not None and torch.isfinite(param.grad).all()


def test_gaussian_learned_softclip_is_close_to_identity_above_floor():
    lik = likelihoods.get("gaussian-learned")
    (param,) = list(lik.parameters())
    with torch.no_grad():
        param.fill_(math.log(0.5))
    assert lik.sigma == pytest.approx(0.5, rel=0.01)
    with torch.no_grad():
        param.fill_(-1e4)
    assert float(lik.current_log_scale().detach()) >= -6.0
    assert lik.sigma == pytest.approx(math.exp(-6), rel=1e-6)


def batch_total_nll_at(x, loc, sigma2):
    return float(normal_nll(x, loc, math.sqrt(sigma2)).sum())


@pytest.mark.parametrize("noise", [0.05, 0.1, 0.3, 1.0])
def test_gaussian_optimal_is_normal_at_batch_mse_and_maximizes(noise):
    g = gen(4)
    x = torch.rand(6, 1, 5, 5, generator=g, dtype=F64)
    loc = x + noise * torch.randn(6, 1, 5, 5, generator=g, dtype=F64)
    mse = float(((x - loc) ** 2).sum() / x.numel())
    lik = likelihoods.get("gaussian-optimal")
    nll = lik.nll(x, loc)
    torch.testing.assert_close(nll, normal_nll(x, loc, math.sqrt(mse)), rtol=1e-9, atol=1e-9)
    total = float(nll.sum())
    assert total == pytest.approx(batch_total_nll_at(x, loc, mse), rel=1e-12)
    for eps in (1e-3, 1e-2, 0.1):
        for f in (1 - eps, 1 + eps):
            assert total <= batch_total_nll_at(x, loc, mse * f)
    # closed form of the optimum: (N/2)(1 + log 2π MSE), N = all elements of the batch
    assert total == pytest.approx(x.numel() / 2 * (1 + math.log(2 * math.pi * mse)), rel=1e-12)


def test_gaussian_optimal_floor_keeps_nll_finite():
    x = torch.rand(3, 8, generator=gen(5), dtype=F64)
    lik = likelihoods.get("gaussian-optimal")
    for loc in (x.clone(), x + 1e-9):
        nll = lik.nll(x, loc)
        assert torch.isfinite(nll).all()
        # log σ is never below −6: the NLL per element is at least −6 + ½ log 2π... minus nothing
        assert (nll >= 8 * (-6.0 + 0.5 * math.log(2 * math.pi)) - 1e-9).all()
    torch.testing.assert_close(
        lik.nll(x, x.clone()),
        torch.full((3,), 8 * (-6.0 + 0.5 * math.log(2 * math.pi)), dtype=F64),
    )
    with pytest.raises(UserError, match="needs x"):
        lik.distribution(x)


def test_gaussian_perpixel_second_half_is_soft_clipped_log_sigma():
    g = gen(6)
    x = torch.rand(4, 3, 2, 2, generator=g, dtype=F64)
    loc = torch.randn(4, 3, 2, 2, generator=g, dtype=F64)
    raw = torch.randn(4, 3, 2, 2, generator=g, dtype=F64) * 3
    raw[0, 0, 0, 0], raw[1, 1, 1, 1], raw[2, 2, 0, 1] = -30.0, -6.0, 8.0
    out = torch.cat([loc, raw], dim=1)
    lik = likelihoods.get("gaussian-perpixel")
    sigma = raw.clone().apply_(lambda v: math.exp(own_softclip(v)))
    torch.testing.assert_close(lik.nll(x, out), normal_nll(x, loc, sigma), rtol=1e-9, atol=1e-9)
    assert torch.equal(lik.mean(out), loc)
    assert float(lik.log_scale(x, loc, out).min()) >= -6.0


@pytest.mark.parametrize("learn", [False, True])
@pytest.mark.parametrize("scale", [0.1, 1.0, 3.0])
def test_laplace_matches_torch(scale, learn):
    x, loc = data(seed=7)
    lik = likelihoods.get("laplace", scale=scale, learn_scale=learn).double()
    b = scale  # a learned scale starts at exactly the value asked for (the soft clip is inverted)
    ref = -Laplace(loc, b).log_prob(x).flatten(1).sum(1)
    # a fixed scale is stored as a float32 buffer: log b is exact to ~1e-7
    torch.testing.assert_close(lik.nll(x, loc), ref, rtol=1e-5, atol=1e-5)
    hand = ((x - loc).abs() / b + math.log(2 * b)).flatten(1).sum(1)
    torch.testing.assert_close(lik.nll(x, loc), hand, rtol=1e-5, atol=1e-5)
    assert len(list(lik.parameters())) == int(learn)


@pytest.mark.parametrize("name", ALL)
def test_distribution_object_agrees_with_nll(name):
    x, loc = data(shape=(3, 2, 4), seed=8)
    out = torch.cat([loc, torch.randn_like(loc)], 1) if name == "gaussian-perpixel" else loc
    if "bernoulli" in name:
        out = loc * 4 - 2
    lik = likelihoods.get(name).double()
    dist = lik.distribution(out, x) if name == "gaussian-optimal" else lik.distribution(out)
    assert dist.batch_shape == (3,)
    torch.testing.assert_close(-dist.log_prob(x), lik.nll(x, out), rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------------------------
# batch-size invariance and gradients


def example_output(name, x, g):
    noise = torch.randn(x.shape, generator=g, dtype=x.dtype)
    if "bernoulli" in name:
        return noise * 3
    if name == "gaussian-perpixel":
        return torch.cat([x + 0.1 * noise, -1 + 0.5 * noise], dim=1)
    # examples with very different residual scales, so a batch statistic shows
    scales = torch.linspace(0.01, 1.0, x.shape[0], dtype=x.dtype).view(-1, *[1] * (x.dim() - 1))
    return x + scales * noise


@pytest.mark.parametrize("name", ALL)
def test_batch_mean_equals_mean_of_single_examples(name):
    g = gen(9)
    x = torch.rand(8, 2, 3, generator=g, dtype=F64)
    out = example_output(name, x, g)
    lik = likelihoods.get(name).double()
    whole = lik.nll(x, out).mean()
    singles = torch.stack([lik.nll(x[i : i + 1], out[i : i + 1])[0] for i in range(8)]).mean()
    if name == "gaussian-optimal":
        # the documented exception: σ² is the MSE of the batch
        assert "depends on its batch" in type(lik).__doc__
        assert abs(float(whole - singles)) > 1.0
    else:
        torch.testing.assert_close(whole, singles, rtol=1e-12, atol=1e-12)


EXTREME_LOGITS = [-50.0, -1e-6, 0.0, 1e-6, 50.0, 1e-2, -1e-2, 3.0]


@pytest.mark.parametrize("name", ["bernoulli", "continuous-bernoulli"])
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_gradients_finite_at_extreme_logits(name, dtype):
    logits = torch.tensor([EXTREME_LOGITS], dtype=dtype, requires_grad=True)
    lik = likelihoods.get(name)
    for x in (torch.zeros_like(logits), torch.ones_like(logits), torch.full_like(logits, 0.3)):
        x = x.detach()
        nll = lik.nll(x, logits)
        (g_nll,) = torch.autograd.grad(nll.sum(), logits)
        (g_mean,) = torch.autograd.grad(lik.mean(logits).sum(), logits)
        assert torch.isfinite(nll).all() and torch.isfinite(g_nll).all()
        assert torch.isfinite(g_mean).all()
    # d nll / dη at η = 0 for CB: −(x − ½) − d log C/dη = −(x − ½) (log C is even); for x = 0.3: 0.2
    if name == "continuous-bernoulli":
        (g,) = torch.autograd.grad(
            lik.nll(torch.full((1, 1), 0.3, dtype=dtype), logits[:, 2:3]).sum(), logits
        )
        assert float(g[0, 2]) == pytest.approx(0.2, abs=1e-6)


@pytest.mark.parametrize(
    "name", ["gaussian", "gaussian-learned", "gaussian-optimal", "gaussian-perpixel", "laplace"]
)
def test_gradients_finite_at_extreme_outputs(name):
    x = torch.rand(2, 4, generator=gen(10))
    lik = likelihoods.get(name)
    locs = [torch.full((2, 4), 50.0), torch.full((2, 4), -50.0), x.clone()]
    for loc in locs:
        if name == "gaussian-perpixel":
            for log_sigma in (30.0, -30.0):
                out = torch.cat([loc, torch.full((2, 4), log_sigma)], 1).requires_grad_()
                (g,) = torch.autograd.grad(lik.nll(x, out).sum(), out)
                assert torch.isfinite(g).all()
            continue
        out = loc.clone().requires_grad_()
        nll = lik.nll(x, out)
        params = [out, *lik.parameters()]
        grads = torch.autograd.grad(nll.sum(), params)
        assert torch.isfinite(nll).all() and all(torch.isfinite(g).all() for g in grads)
    if name == "gaussian-learned":
        for raw in (30.0, -30.0):
            with torch.no_grad():
                next(lik.parameters()).fill_(raw)
            out = torch.full((2, 4), 50.0, requires_grad=True)
            grads = torch.autograd.grad(lik.nll(x, out).sum(), [out, *lik.parameters()])
            assert all(torch.isfinite(g).all() for g in grads)


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("name", ALL)
def test_wrong_output_shape_is_named(name):
    lik = likelihoods.get(name)
    x = torch.rand(4, 6)
    with pytest.raises(UserError, match=r"decoder output shape \(4, 7\) does not match x \(4, 6\)"):
        lik.nll(x, torch.zeros(4, 7))
    with pytest.raises(ValueError, match="batch dim"):
        lik.nll(torch.rand(6), torch.zeros(6))


def test_perpixel_needs_twice_the_channels():
    with pytest.raises(UserError, match=r"expected \(4, 6, 5\)"):
        likelihoods.get("gaussian-perpixel").nll(torch.rand(4, 3, 5), torch.zeros(4, 3, 5))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_targets_rejected(name, bad):
    lik = likelihoods.get(name)
    x = torch.rand(3, 4)
    x[1, 2] = bad
    out = torch.zeros(3, 8) if name == "gaussian-perpixel" else torch.zeros(3, 4)
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        lik.nll(x, out)


@pytest.mark.parametrize("name", ["bernoulli", "continuous-bernoulli"])
@pytest.mark.parametrize("bad", [-0.01, 1.5, 255.0])
def test_bernoulli_family_rejects_targets_outside_unit_interval(name, bad):
    x = torch.rand(3, 4)
    x[0, 0] = bad
    with pytest.raises(UserError, match=rf"{name} needs targets in \[0, 1\]"):
        likelihoods.get(name).nll(x, torch.zeros(3, 4))


def test_gaussian_accepts_targets_outside_unit_interval():
    x = torch.randn(3, 4) * 10
    assert torch.isfinite(likelihoods.get("gaussian").nll(x, torch.zeros(3, 4))).all()


def test_unknown_likelihood_lists_valid_names():
    with pytest.raises(ValueError, match="unknown likelihood 'gauss'") as info:
        likelihoods.get("gauss")
    for name in ALL:
        assert name in str(info.value)
    assert isinstance(info.value, UserError)


@pytest.mark.parametrize("name,param", [("gaussian", "sigma"), ("laplace", "scale")])
@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf])
def test_non_positive_scale_rejected(name, param, value):
    with pytest.raises(UserError, match=f"{name}: {param} must be > 0"):
        likelihoods.get(name, **{param: value})


def test_unknown_parameter_rejected():
    with pytest.raises(UserError, match="takes no parameter scale; valid: sigma, learn_scale"):
        likelihoods.get("gaussian", scale=1.0)
    with pytest.raises(UserError, match="valid: none"):
        likelihoods.get("bernoulli", sigma=1.0)
