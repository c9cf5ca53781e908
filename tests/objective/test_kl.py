"""The rate term: closed form against torch.distributions, Monte Carlo against quadrature."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Cauchy, Geometric, Laplace, Normal, Poisson, StudentT

from vaebalance import UserError, kl_divergence, kl_normal_std

F64 = torch.float64


def simpson(y: torch.Tensor, a: float, b: float) -> torch.Tensor:
    n = y.shape[-1] - 1
    assert n % 2 == 0
    h = (b - a) / n
    return (
        h / 3 * (y[..., 0] + y[..., -1] + 4 * y[..., 1:-1:2].sum(-1) + 2 * y[..., 2:-1:2].sum(-1))
    )


def test_kl_normal_std_matches_torch_per_dim():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(7, 5, generator=g, dtype=F64) * 3
    logvar = torch.randn(7, 5, generator=g, dtype=F64) * 4
    mu[0, :3] = torch.tensor([0.0, 50.0, -50.0], dtype=F64)
    logvar[0, :3] = torch.tensor([0.0, 30.0, -30.0], dtype=F64)
    kl = kl_normal_std(mu, logvar)
    assert kl.shape == (7, 5)
    ref = torch.distributions.kl_divergence(
        Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu))
    )
    torch.testing.assert_close(kl, ref, rtol=1e-10, atol=1e-12)
    assert float(kl[0, 0]) == 0.0


def test_kl_normal_std_matches_quadrature():
    """KL = ∫ q log(q/p) dz, independently of any closed form."""
    mu = torch.tensor([[0.3, -1.2, 2.0]], dtype=F64)
    logvar = torch.tensor([[0.0, -2.0, 1.0]], dtype=F64)
    sd = torch.exp(0.5 * logvar)
    u = torch.linspace(-12, 12, 4001, dtype=F64)  # standardized grid
    z = mu[..., None] + sd[..., None] * u
    log_q = -0.5 * u**2 - torch.log(sd[..., None]) - 0.5 * math.log(2 * math.pi)
    log_p = -0.5 * z**2 - 0.5 * math.log(2 * math.pi)
    ref = simpson(torch.exp(log_q) * (log_q - log_p) * sd[..., None], -12, 12)
    torch.testing.assert_close(kl_normal_std(mu, logvar), ref, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.floats(min_value=-100, max_value=100),
    st.floats(min_value=-30, max_value=30),
    st.sampled_from([torch.float32, F64]),
)
def test_kl_is_non_negative(mu, logvar, dtype):
    kl = kl_normal_std(torch.tensor([[mu]], dtype=dtype), torch.tensor([[logvar]], dtype=dtype))
    assert float(kl) >= 0.0


def test_kl_non_negative_for_tiny_logvar_in_float32():
    """e^lv − 1 − lv cancels catastrophically for |lv| ≪ 1; the KL must still not go negative."""
    logvar = torch.linspace(-1e-3, 1e-3, 4001)[None]
    kl = kl_normal_std(torch.zeros_like(logvar), logvar)
    assert float(kl.min()) >= 0.0
    # and it is accurate: ½(e^lv − 1 − lv) ≈ lv²/4
    torch.testing.assert_close(kl, logvar**2 / 4, rtol=1e-2, atol=1e-10)


def test_kl_gradients_finite_at_extremes():
    mu = torch.tensor([[50.0, -50.0, 0.0, 0.0]], requires_grad=True)
    logvar = torch.tensor([[30.0, -30.0, 0.0, 1e-7]], requires_grad=True)
    kl = kl_normal_std(mu, logvar)
    g_mu, g_lv = torch.autograd.grad(kl.sum(), [mu, logvar])
    assert torch.isfinite(kl).all() and torch.isfinite(g_mu).all() and torch.isfinite(g_lv).all()
    # ∂KL/∂μ = μ, ∂KL/∂logvar = ½(e^lv − 1)
    torch.testing.assert_close(g_mu, mu.detach())
    torch.testing.assert_close(g_lv, 0.5 * torch.expm1(logvar.detach()))


@pytest.mark.parametrize(
    "mu,logvar,message",
    [
        (torch.zeros(3, 4), torch.zeros(3, 5), r"\(3, 4\) and \(3, 5\)"),
        (torch.zeros(4), torch.zeros(4), r"must both be \[B, J\]"),
        (torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), r"must both be \[B, J\]"),
    ],
)
def test_kl_normal_std_shape_errors(mu, logvar, message):
    with pytest.raises(ValueError, match=message):
        kl_normal_std(mu, logvar)


# --------------------------------------------------------------------------------------------
# kl_divergence: analytic where registered, Monte Carlo otherwise


def test_registered_pair_is_analytic_and_exact():
    mu = torch.tensor([[0.5, -1.0], [2.0, 0.0]], dtype=F64)
    logvar = torch.tensor([[0.2, -1.0], [0.0, 3.0]], dtype=F64)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    kl1, kl2 = kl_divergence(q, p, samples=1), kl_divergence(q, p, samples=1)
    assert torch.equal(kl1, kl2)  # deterministic: no sampling
    hand = 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar)
    torch.testing.assert_close(kl1, hand, rtol=1e-12, atol=1e-12)


def laplace_vs_logp_quadrature(loc, b, log_p):
    """KL(Laplace(loc, b) ‖ p) and Var_q[log q − log p] by Simpson on each side of the kink."""
    t = torch.linspace(0, 60, 20001, dtype=F64)  # distance from loc in units of b
    kl = torch.zeros_like(loc)
    second = torch.zeros_like(loc)
    for sign in (1.0, -1.0):
        z = loc[..., None] + sign * b[..., None] * t
        log_q = -t - torch.log(2 * b[..., None])
        d = log_q - log_p(z)
        w = torch.exp(log_q) * b[..., None]  # dz = b dt
        kl = kl + simpson(w * d, 0, 60)
        second = second + simpson(w * d**2, 0, 60)
    return kl, second - kl**2


def cauchy_log_prob(z):
    return -math.log(math.pi) - torch.log1p(z**2)


def test_monte_carlo_fallback_matches_quadrature():
    loc = torch.tensor([[0.0, 1.5, -3.0], [0.5, 0.0, 4.0]], dtype=F64)
    b = torch.tensor([[1.0, 0.3, 2.0], [0.7, 5.0, 0.1]], dtype=F64)
    q, p = Laplace(loc, b), Cauchy(torch.zeros_like(loc), torch.ones_like(loc))
    with pytest.raises(NotImplementedError):
        torch.distributions.kl_divergence(q, p)  # really the fallback path
    ref, var = laplace_vs_logp_quadrature(loc, b, cauchy_log_prob)
    samples = 4000
    torch.manual_seed(123)
    est = kl_divergence(q, p, samples=samples)
    assert est.shape == loc.shape
    se = torch.sqrt(var / samples)
    z = (est - ref) / se
    assert float(z.abs().max()) < 4.0, z
    # and the estimator is noisy (not secretly analytic): two calls differ
    assert not torch.equal(est, kl_divergence(q, p, samples=samples))


def test_monte_carlo_fallback_is_differentiable_and_unbiased_on_average():
    loc = torch.tensor([0.7], dtype=F64, requires_grad=True)
    b = torch.tensor([1.3], dtype=F64)
    p = StudentT(torch.tensor([3.0], dtype=F64))
    torch.manual_seed(7)
    est = kl_divergence(Laplace(loc, b), p, samples=20000)
    (grad,) = torch.autograd.grad(est.sum(), loc)
    assert torch.isfinite(grad).all() and float(grad.abs()) > 0  # reparameterized

    def student_log_prob(z):
        nu = 3.0
        c = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
        return c - (nu + 1) / 2 * torch.log1p(z**2 / nu)

    ref, var = laplace_vs_logp_quadrature(loc.detach(), b, student_log_prob)
    assert abs(float(est.detach() - ref)) < 4 * math.sqrt(float(var) / 20000)
    # The pathwise gradient estimates dKL/dμ (0.384 by quadrature differences); draws taken
    # without rsample would leave only log q's score, whose mean is 0.
    h = 1e-4
    up, _ = laplace_vs_logp_quadrature(loc.detach() + h, b, student_log_prob)
    down, _ = laplace_vs_logp_quadrature(loc.detach() - h, b, student_log_prob)
    assert float(grad) == pytest.approx(float(up - down) / (2 * h), abs=0.04)


def test_laplace_posterior_normal_prior_is_registered_and_matches_quadrature():
    """torch registers KL(Laplace ‖ Normal), so this pair must pass through analytically."""
    loc = torch.tensor([0.0, 1.0, -2.0], dtype=F64)
    b = torch.tensor([1.0, 0.5, 2.0], dtype=F64)
    q, p = Laplace(loc, b), Normal(torch.zeros(3, dtype=F64), torch.ones(3, dtype=F64))
    kl = kl_divergence(q, p)
    assert torch.equal(kl, kl_divergence(q, p))

    def normal_log_prob(z):
        return -0.5 * z**2 - 0.5 * math.log(2 * math.pi)

    ref, _ = laplace_vs_logp_quadrature(loc, b, normal_log_prob)
    torch.testing.assert_close(kl, ref, rtol=1e-8, atol=1e-10)


def test_monte_carlo_needs_samples():
    q = Laplace(torch.zeros(2), torch.ones(2))
    p = Cauchy(torch.zeros(2), torch.ones(2))
    with pytest.raises(UserError, match="samples must be > 0, got 0"):
        kl_divergence(q, p, samples=0)


def test_monte_carlo_for_a_posterior_without_rsample():
    """Poisson ‖ Geometric: no registered KL, no reparameterization; against the exact sum."""
    q, p = (
        Poisson(torch.tensor([3.0, 0.5], dtype=F64)),
        Geometric(torch.tensor([0.3, 0.6], dtype=F64)),
    )
    assert not q.has_rsample
    k = torch.arange(80, dtype=F64)[:, None]
    terms = q.log_prob(k).exp() * (q.log_prob(k) - p.log_prob(k))
    second = q.log_prob(k).exp() * (q.log_prob(k) - p.log_prob(k)) ** 2
    exact, var = terms.sum(0), second.sum(0) - terms.sum(0) ** 2
    torch.manual_seed(5)
    est = kl_divergence(q, p, samples=20000)
    assert est.shape == (2,)
    assert float(((est - exact) / (var / 20000).sqrt()).abs().max()) < 4.0
    assert kl_divergence(q, p, samples=1).shape == (2,)  # one draw is allowed


def test_monte_carlo_default_is_64_draws():
    q, p = Poisson(torch.tensor([2.0])), Geometric(torch.tensor([0.4]))
    torch.manual_seed(9)
    z = q.sample((64,))
    by_hand = (q.log_prob(z) - p.log_prob(z)).mean(0)
    torch.manual_seed(9)
    assert torch.equal(kl_divergence(q, p), by_hand)
