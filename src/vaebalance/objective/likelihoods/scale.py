"""Location-scale likelihoods: Gaussian and Laplace decoders, with a scale that is fixed,
learned, the batch optimum, or given per element by the decoder."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.distributions import Distribution, Independent, Laplace, Normal

from ...errors import UserError, check
from .base import HALF_LOG_2PI, LOG_SCALE_FLOOR, Convention, Likelihood, softclip_below, sum_event


class _ScaleFamily(Likelihood):
    """The decoder outputs the location; the scale comes from :meth:`log_scale`."""

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
        return sum_event(self._standard_nll(r) + log_scale.expand_as(r))

    def mean(self, output):
        return self.loc(output)

    def distribution(self, output, x: Tensor | None = None):
        loc = self.loc(output)
        log_scale = self.log_scale(x, loc, output).expand_as(loc)
        return Independent(self.base(loc, log_scale.exp(), validate_args=False), loc.dim() - 1)


class _GaussianMixin:
    base = Normal

    def _standard_nll(self, r):
        return 0.5 * r * r + HALF_LOG_2PI

    @staticmethod
    def spread(x: Tensor) -> float:
        """The ML σ of a decoder that predicts the mean example: √(mean_k Var_n x_nk)."""
        return float(x.var(0, unbiased=False).mean().sqrt())


class _LaplaceMixin:
    base = Laplace

    def _standard_nll(self, r):
        return r.abs() + math.log(2.0)

    @staticmethod
    def spread(x: Tensor) -> float:
        """The ML b of a decoder that predicts the median example: mean |x_nk − median_k|."""
        return float((x - x.median(0).values).abs().mean())


class _FixedOrLearnedScale(_ScaleFamily):
    """One shared scale: fixed (a buffer) or learned (a parameter, soft-clipped below).

    A learned scale the user did not set starts at the data's spread (:meth:`spread`): the ML
    scale of a decoder that predicts the average example, i.e. a calibrated start. Starting a
    Gaussian at σ = 1 on [0, 1] data weights the KL so heavily that the posterior collapses
    long before the one log σ parameter has learned its way down.
    """

    params = ("scale", "learn_scale")
    learns_by_default = False

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

    @property
    def decoder_scale(self) -> float:
        return self.scale

    @property
    def scale_kind(self) -> str:
        return "learned" if self.learn_scale else "fixed"

    def current_log_scale(self) -> Tensor:
        if self.learn_scale:
            return softclip_below(self.raw_log_scale)
        return self.raw_log_scale

    def log_scale(self, x, loc, output):
        return self.current_log_scale()

    @classmethod
    def initial_params(cls, params: dict, x: Tensor) -> dict:
        key = cls.params[0]
        if key in params or not params.get("learn_scale", cls.learns_by_default):
            return {}
        return {key: round(max(cls.spread(x), 1e-3), 4)}


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

    def convention(self):
        # SSE / (2σ²): a fixed multiple of the summed squared error only while σ is fixed.
        return None if self.learn_scale else Convention("mse", 1 / (2 * self.sigma**2))


class GaussianLearnedLikelihood(GaussianLikelihood):
    """σ-VAE (Rybkin, Daniilidis & Levine, ICML 2021): one shared learned log σ, soft-clipped
    below at −6, trained with the model at β = 1 — the calibrated decoder balances the KL."""

    name = "gaussian-learned"
    params = ("sigma",)
    learns_by_default = True

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
    scale_kind = "batch-optimal"

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
    scale_kind = "per-element"

    def loc(self, output):
        return output.chunk(2, dim=1)[0]

    def log_scale(self, x, loc, output):
        return softclip_below(output.chunk(2, dim=1)[1])


class LaplaceLikelihood(_LaplaceMixin, _FixedOrLearnedScale):
    """Laplace with one shared scale b: ``nll = Σ_k |x_k − μ_k| / b + K log 2b``.

    Fixed ``scale`` (default 1) or learned (``learn_scale=True``, soft-clipped below at −6).
    """

    name = "laplace"
