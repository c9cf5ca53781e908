"""Decoder likelihoods p(x | z): the reconstruction term as a true negative log-likelihood.

Every likelihood returns ``nll(x, output)`` as a tensor ``[B]`` in nats, **summed over all K
elements of each example** (the event dims), so that ``nll + KL`` is the negative ELBO of one
example. Means over pixels are never taken: they silently re-weight the KL by K (see
:mod:`vaebalance.objective.explain`).

The decoder output has the shape of ``x`` except along dim 1 (channels for images, features for
flat data), which is ``outputs_per_element`` times larger; a per-element scale, where there is
one, is the second half along that dim.

``distribution(output)`` gives the same model as a ``torch.distributions`` object (with
``Independent`` summing over the event dims), for users and for the tests; ``nll`` computes the
same number directly, because it runs in every training step.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import (
    Bernoulli,
    ContinuousBernoulli,
    Distribution,
    Independent,
    Laplace,
    Normal,
)

from ..errors import UserError, check
from ..registry import Registry

LOG_SCALE_FLOOR = -6.0  # σ-VAE's soft clip: σ ≥ e^-6 keeps the NLL finite as the MSE → 0
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def softclip_below(t: Tensor, floor: float = LOG_SCALE_FLOOR) -> Tensor:
    """A smooth ``max(t, floor)``: ``floor + softplus(t - floor)`` (Rybkin et al. 2021)."""
    return floor + F.softplus(t - floor)


def _sum_event(t: Tensor) -> Tensor:
    return t.flatten(1).sum(1)


class Likelihood(nn.Module):
    """Base class: a decoder distribution with an exact per-example NLL in nats.

    Subclasses implement :meth:`_nll` and :meth:`mean`; learnable scales are parameters of the
    module, so they live wherever the module lives (e.g. inside :class:`ELBOLoss`).
    """

    name: str = ""
    outputs_per_element: int = 1
    data_in_unit_interval: bool = False  # the Bernoulli family is defined on [0, 1] only
    params: tuple[str, ...] = ()

    def nll(self, x: Tensor, output: Tensor, validate: bool = True) -> Tensor:
        """−log p(x | output) summed over the event dims: ``[B]`` nats."""
        if validate:
            self.validate(x, output)
        return self._nll(x, output)

    def _nll(self, x: Tensor, output: Tensor) -> Tensor:
        raise NotImplementedError

    def mean(self, output: Tensor) -> Tensor:
        """E[x | output], shaped like x: what a reconstruction shows."""
        raise NotImplementedError

    def distribution(self, output: Tensor) -> Distribution:
        """The same model as a ``torch.distributions`` object with event dims = all but dim 0."""
        raise NotImplementedError

    def validate(self, x: Tensor, output: Tensor) -> None:
        """Raise :class:`UserError` on shape mismatches, non-finite or out-of-range targets."""
        expected = list(x.shape)
        check(
            x.dim() >= 2, f"x must have a batch dim and at least one data dim; got {tuple(x.shape)}"
        )
        expected[1] *= self.outputs_per_element
        check(
            list(output.shape) == expected,
            f"{self.name}: decoder output shape {tuple(output.shape)} does not match x "
            f"{tuple(x.shape)} (expected {tuple(expected)})",
        )
        check(bool(torch.isfinite(x).all()), "x contains NaN or inf")
        if self.data_in_unit_interval:
            lo, hi = float(x.min()), float(x.max())
            check(
                lo >= 0.0 and hi <= 1.0,
                f"{self.name} needs targets in [0, 1]; x spans [{lo:.4g}, {hi:.4g}]",
            )

    def extra_repr(self) -> str:
        return ", ".join(f"{p}={getattr(self, p)}" for p in self.params)


class BernoulliLikelihood(Likelihood):
    """Bernoulli on logits: ``nll = Σ_k BCE(logit_k, x_k)``, computed without a sigmoid.

    For x in (0, 1) this is the cross-entropy, not a normalized density: see
    :class:`ContinuousBernoulliLikelihood` (Loaiza-Ganem & Cunningham 2019).
    """

    name = "bernoulli"
    data_in_unit_interval = True

    def _nll(self, x, output):
        return _sum_event(F.binary_cross_entropy_with_logits(output, x, reduction="none"))

    def mean(self, output):
        return torch.sigmoid(output)

    def distribution(self, output):
        return Independent(Bernoulli(logits=output, validate_args=False), output.dim() - 1)


def _cb_log_norm(eta: Tensor) -> Tensor:
    """log C(λ) of the continuous Bernoulli, written in the logit η = log(λ / (1 − λ)).

    C(λ) = 2 atanh(1 − 2λ) / (1 − 2λ) = η / tanh(η / 2) because 1 − 2λ = −tanh(η / 2).
    Away from 0: log|η| − log(1 − e^{−|η|}) + log(1 + e^{−|η|}), stable for any |η|.
    Near 0 (λ ≈ ½), Taylor in u = η/2: log 2 + u²/3 − 7u⁴/90 (next term O(u⁶) < 1e-14).
    The ``where`` feeds each branch only inputs it is safe for, so gradients stay finite.
    """
    a = eta.abs()
    near = a < 1e-2
    a_far = torch.where(near, torch.ones_like(a), a)
    far = torch.log(a_far) - torch.log(-torch.expm1(-a_far)) + torch.log1p(torch.exp(-a_far))
    u2 = (torch.where(near, eta, torch.zeros_like(eta)) / 2) ** 2
    taylor = math.log(2.0) + u2 / 3 - 7 * u2 * u2 / 90
    return torch.where(near, taylor, far)


def continuous_bernoulli_mean(eta: Tensor) -> Tensor:
    """E[x] = λ / (2λ − 1) + 1 / (2 atanh(1 − 2λ)) = σ(η) / tanh(η/2) − 1/η; ½ + η/12 near 0."""
    near = eta.abs() < 1e-2
    eta_far = torch.where(near, torch.ones_like(eta), eta)
    far = torch.sigmoid(eta_far) / torch.tanh(eta_far / 2) - 1 / eta_far
    return torch.where(near, 0.5 + eta / 12, far)


class ContinuousBernoulliLikelihood(BernoulliLikelihood):
    """Continuous Bernoulli (Loaiza-Ganem & Cunningham, NeurIPS 2019), a density on [0, 1].

    ``nll = Σ_k [BCE(η_k, x_k) − log C(λ_k)]``; reconstructions use the CB mean, not λ.
    """

    name = "continuous-bernoulli"

    def _nll(self, x, output):
        bce = F.binary_cross_entropy_with_logits(output, x, reduction="none")
        return _sum_event(bce - _cb_log_norm(output))

    def mean(self, output):
        return continuous_bernoulli_mean(output)

    def distribution(self, output):
        cb = ContinuousBernoulli(logits=output, validate_args=False)
        return Independent(cb, output.dim() - 1)


class _ScaleFamily(Likelihood):
    """Location-scale likelihoods: the decoder outputs the location; the scale comes from
    :meth:`log_scale` (fixed, learned, optimal or per element)."""

    base: type[Distribution] = Normal

    def log_scale(self, x: Tensor, loc: Tensor, output: Tensor) -> Tensor:
        raise NotImplementedError

    def loc(self, output: Tensor) -> Tensor:
        return output

    def _standard_nll(self, r: Tensor) -> Tensor:
        """−log density of the standardized residual r = (x − loc) / scale, per element."""
        raise NotImplementedError

    def _nll(self, x, output):
        loc = self.loc(output)
        log_scale = self.log_scale(x, loc, output)
        r = (x - loc) * torch.exp(-log_scale)
        return _sum_event(self._standard_nll(r) + log_scale.expand_as(r))

    def mean(self, output):
        return self.loc(output)

    def distribution(self, output, x: Tensor | None = None):
        loc = self.loc(output)
        log_scale = self.log_scale(x, loc, output).expand_as(loc)
        return Independent(self.base(loc, log_scale.exp(), validate_args=False), loc.dim() - 1)


class _GaussianMixin:
    base = Normal

    def _standard_nll(self, r):
        return 0.5 * r * r + _HALF_LOG_2PI


class _LaplaceMixin:
    base = Laplace

    def _standard_nll(self, r):
        return r.abs() + math.log(2.0)


class _FixedOrLearnedScale(_ScaleFamily):
    """One shared scale: fixed (a buffer) or learned (a parameter, soft-clipped below)."""

    params = ("scale", "learn_scale")

    def __init__(self, scale: float = 1.0, learn_scale: bool = False):
        super().__init__()
        what = self.params[0]
        check(scale > 0 and math.isfinite(scale), f"{self.name}: {what} must be > 0, got {scale}")
        self.learn_scale = bool(learn_scale)
        raw = torch.tensor(math.log(scale))
        if self.learn_scale:
            # Invert the soft clip so the module starts at exactly the σ asked for.
            gap = max(math.log(scale) - LOG_SCALE_FLOOR, 1e-6)
            raw = torch.tensor(LOG_SCALE_FLOOR + math.log(math.expm1(gap)))
            self.raw_log_scale = nn.Parameter(raw)
        else:
            self.register_buffer("raw_log_scale", raw)

    @property
    def scale(self) -> float:
        return float(self.current_log_scale().detach().exp())

    def current_log_scale(self) -> Tensor:
        if self.learn_scale:
            return softclip_below(self.raw_log_scale)
        return self.raw_log_scale

    def log_scale(self, x, loc, output):
        return self.current_log_scale()


class GaussianLikelihood(_GaussianMixin, _FixedOrLearnedScale):
    """Gaussian with one shared σ: ``nll = Σ_k (x_k − μ_k)² / (2σ²) + K log σ + (K/2) log 2π``.

    Fixed σ (``sigma``, default 1) by default; with ``learn_scale=True`` this is the σ-VAE.
    """

    name = "gaussian"
    params = ("sigma", "learn_scale")

    def __init__(self, sigma: float = 1.0, learn_scale: bool = False):
        super().__init__(scale=sigma, learn_scale=learn_scale)

    @property
    def sigma(self) -> float:
        return self.scale


class GaussianLearnedLikelihood(GaussianLikelihood):
    """σ-VAE (Rybkin, Daniilidis & Levine, ICML 2021): one shared learned log σ, soft-clipped
    below at −6, trained with the model at β = 1 — the calibrated decoder balances the KL."""

    name = "gaussian-learned"
    params = ("sigma",)

    def __init__(self, sigma: float = 1.0):
        super().__init__(sigma=sigma, learn_scale=True)


class GaussianOptimalLikelihood(_GaussianMixin, _ScaleFamily):
    """σ-VAE's "optimal σ": σ² = the batch MSE over all examples and elements, the closed-form
    maximizer of the Gaussian likelihood (Rybkin et al. 2021), floored at log σ = −6.

    The NLL of one example then depends on its batch; over a test set use large batches.

    The floor is hard (σ² = max(MSE, e^−12)), not σ-VAE's soft clip: softplus would shift log σ
    by log(1 + e^−6/σ), e.g. σ² = 1.05·MSE at MSE = 0.01, and σ² would no longer be the optimum.
    """

    name = "gaussian-optimal"

    def log_scale(self, x, loc, output):
        mse = (x - loc).pow(2).mean()
        return 0.5 * torch.log(mse.clamp_min(math.exp(2 * LOG_SCALE_FLOOR)))

    def distribution(self, output, x: Tensor | None = None):
        if x is None:
            raise UserError("gaussian-optimal: the distribution needs x (σ² is the batch MSE)")
        return super().distribution(output, x)


class GaussianPerPixelLikelihood(_GaussianMixin, _ScaleFamily):
    """Gaussian with a log σ per element output by the decoder (second half of dim 1),
    soft-clipped below at −6. Rybkin et al. report the shared σ usually works better."""

    name = "gaussian-perpixel"
    outputs_per_element = 2

    def loc(self, output):
        return output.chunk(2, dim=1)[0]

    def log_scale(self, x, loc, output):
        return softclip_below(output.chunk(2, dim=1)[1])


class LaplaceLikelihood(_LaplaceMixin, _FixedOrLearnedScale):
    """Laplace with one shared scale b: ``nll = Σ_k |x_k − μ_k| / b + K log 2b``.

    Fixed ``scale`` (default 1) or learned (``learn_scale=True``, soft-clipped below at −6).
    """

    name = "laplace"


_REGISTRY = Registry("likelihood")
for _cls in (
    BernoulliLikelihood,
    ContinuousBernoulliLikelihood,
    GaussianLikelihood,
    GaussianLearnedLikelihood,
    GaussianOptimalLikelihood,
    GaussianPerPixelLikelihood,
    LaplaceLikelihood,
):
    _REGISTRY.register(_cls)
names = _REGISTRY.names
parameters = _REGISTRY.parameters


def get(name: str | Likelihood, **params) -> Likelihood:
    """A likelihood by name, e.g. ``get("gaussian", sigma=0.1)``; an instance passes through."""
    if isinstance(name, Likelihood):
        check(not params, "parameters cannot be given with a likelihood instance")
        return name
    return _REGISTRY.create(name, **params)
