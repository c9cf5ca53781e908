"""``explain_preset``: what a loss convention copied from a known repository really optimizes.

For a preset (see :mod:`.preset_catalogue` and ``docs/presets.md``) the loss is
``c · Rec + w · KL`` with known reductions, so :func:`.explain.effective_beta` gives the weight
β_S on the KL summed over the J latent dims against the reconstruction summed over the K input
elements (batch reductions scale both alike), and :func:`.explain.explain` its meaning:

- squared error: exactly the β = 1 ELBO of a Gaussian decoder with σ² = β_S / 2, or the β-ELBO
  with β = σ² for a unit-variance Gaussian decoder;
- BCE: the Bernoulli β-ELBO with β = β_S;
- a likelihood's own NLL summed (scvi-tools): the β-ELBO with β = w.

Each number is given twice: at the original's data (its default K, J, batch size, data size)
and at the user's, which is where a mean over pixels or latent dims silently moves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import check, unknown_choice
from .explain import effective_beta, explain
from .preset_catalogue import PRESETS, Preset

UNITS = (
    "beta multiplies the rate R (KL summed over the J latent dims, nats per example) against "
    "the distortion D (the decoder's NLL summed over the K input elements, nats per example): "
    "loss = D + beta * R, averaged over the batch"
)


def names() -> list[str]:
    return [p.name for p in PRESETS]


def get(name: str) -> Preset:
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise unknown_choice("preset", name, names())


@dataclass(frozen=True)
class PresetSetting:
    """A preset's numbers at one data shape, latent size, batch size and data size.

    ``beta_summed`` is β_S, the weight on the summed KL against the summed reconstruction (SSE,
    BCE or NLL) as written; ``beta`` is the β of vaebalance's objective with the preset's
    likelihood at σ = 1 (Gaussian: σ², Bernoulli and NLL: β_S); ``sigma`` the decoder σ for which
    the same loss is the ELBO itself (squared error only, else None).
    """

    input_shape: tuple[int, ...]
    input_dim: int
    latent_dim: int
    batch_size: int
    dataset_size: int
    kl_weight: float
    beta_summed: float
    beta: float
    sigma: float | None
    sigma_squared: float | None
    config: dict = field(default_factory=dict)
    python: str = ""

    def to_json(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "input_dim": self.input_dim,
            "latent_dim": self.latent_dim,
            "batch_size": self.batch_size,
            "dataset_size": self.dataset_size,
            "kl_weight": self.kl_weight,
            "beta_summed": self.beta_summed,
            "beta": self.beta,
            "sigma": self.sigma,
            "sigma_squared": self.sigma_squared,
            "config": dict(self.config),
            "elbo_loss": self.python,
        }


@dataclass(frozen=True)
class PresetExplanation:
    """What a preset optimizes at its own data (``original``) and at the user's (``yours``),
    with the vaebalance settings that train the same objective at the user's data."""

    preset: Preset
    original: PresetSetting
    yours: PresetSetting
    command: str
    elbo_loss: str
    units: str
    text: str

    @property
    def beta(self) -> float:
        return self.yours.beta

    @property
    def sigma(self) -> float | None:
        return self.yours.sigma

    def to_json(self) -> dict:
        p = self.preset
        return {
            "preset": p.name,
            "title": p.title,
            "url": p.url,
            "version": p.version,
            "encodes": list(p.encodes),
            "likelihood": p.likelihood,
            "original": self.original.to_json(),
            "yours": self.yours.to_json(),
            "command": self.command,
            "elbo_loss": self.elbo_loss,
            "units": self.units,
        }


def explain_preset(
    name: str,
    input_shape: tuple[int, ...] | None = None,
    latent_dim: int | None = None,
    batch_size: int | None = None,
    dataset_size: int | None = None,
) -> PresetExplanation:
    """Explain preset ``name`` at the original's data and at the user's.

    Args:
        name: one of :func:`names` (``pytorch-vae``, ``lightning-bolts``, ...).
        input_shape: the user's example shape, e.g. ``(3, 64, 64)``; K is its product.
        latent_dim: the user's J. Sizes not given are the original's.
        batch_size, dataset_size: M and N, for conventions whose weight depends on them.

    Example:
        >>> e = explain_preset("pytorch-vae")
        >>> round(e.original.beta_summed, 4), round(e.original.sigma, 4)  # 0.00025 · 12288
        (3.072, 1.2394)
    """
    preset = get(name)
    shape = _check_shape(input_shape) if input_shape is not None else preset.input_shape
    for what, value in (
        ("latent_dim", latent_dim),
        ("batch_size", batch_size),
        ("dataset_size", dataset_size),
    ):
        check(
            value is None or (isinstance(value, int) and value > 0),
            f"{what} must be a positive integer, got {value}",
            (what,),
        )
    original = _setting(preset, preset.input_shape, preset.latent_dim, None, None)
    yours = _setting(preset, shape, latent_dim or preset.latent_dim, batch_size, dataset_size)
    command = "vaebalance train " + " ".join(f"--set {k}={v}" for k, v in yours.config.items())
    return PresetExplanation(
        preset, original, yours, command, yours.python, UNITS, _text(preset, original, yours)
    )


def parse_shape(text: str) -> tuple[int, ...]:
    """``"3,64,64"`` → ``(3, 64, 64)``; a UserError for anything else."""
    parts = [p.strip() for p in str(text).replace("x", ",").split(",")]
    ok = all(p.isdigit() for p in parts) and bool(parts)
    check(
        ok and all(int(p) > 0 for p in parts),
        f"input_shape must be positive integers separated by commas, like 3,64,64; got {text!r}",
        ("input_shape",),
    )
    return tuple(int(p) for p in parts)


def _check_shape(shape) -> tuple[int, ...]:
    if isinstance(shape, str):
        return parse_shape(shape)
    ok = isinstance(shape, (tuple, list)) and len(shape) > 0
    ok = ok and all(isinstance(d, int) and d > 0 for d in shape)
    check(ok, f"input_shape must be positive integers, like (3, 64, 64); got {shape!r}")
    return tuple(shape)


def _setting(preset: Preset, shape, latent_dim, batch_size, dataset_size) -> PresetSetting:
    k = math.prod(shape)
    m = batch_size or preset.batch_size
    n = dataset_size or preset.dataset_size
    w = preset.weight(batch_size, dataset_size)
    sizes = dict(input_shape=tuple(shape), input_dim=k, latent_dim=latent_dim, batch_size=m,
                 dataset_size=n, kl_weight=w)  # fmt: skip
    if preset.recon == "nll":
        # The likelihood's own NLL summed over elements + w · KL summed: β = w, no σ.
        config = {"balancer.name": "constant", "balancer.beta": float(f"{w:.6g}")}
        python = f"ELBOLoss(<your likelihood>, balancer=Constant(beta={w:.6g}))"
        return PresetSetting(**sizes, beta_summed=w, beta=w, sigma=None, sigma_squared=None,
                             config=config, python=python)  # fmt: skip
    args = (preset.recon, preset.recon_reduction, preset.kl_reduction, w, k, latent_dim)
    beta_s = effective_beta(*args, recon_scale=preset.recon_scale)
    e = explain(*args, recon_scale=preset.recon_scale)
    keep = e.suggestions[-1]  # "to keep exactly this objective"
    return PresetSetting(**sizes, beta_summed=beta_s, beta=e.beta, sigma=e.sigma,
                         sigma_squared=e.sigma_squared, config=dict(keep.config),
                         python=keep.python)  # fmt: skip


def _describe(s: PresetSetting) -> str:
    shape = " x ".join(map(str, s.input_shape))
    where = f"{shape} (K = {s.input_dim}), J = {s.latent_dim}"
    sizes = f", batch {s.batch_size}, N = {s.dataset_size}"
    weight = f"weight {s.kl_weight:.6g} on the KL as written"
    if s.sigma is None:
        return f"{where}{sizes}: {weight}; beta = {s.beta:.6g}"
    return (
        f"{where}{sizes}: {weight}; {s.beta_summed:.6g} on the summed KL against the summed "
        f"squared error, i.e. the ELBO of a Gaussian decoder with sigma = {s.sigma:.6g}, or "
        f"beta = {s.beta:.6g} with sigma = 1"
    )


def _text(preset: Preset, original: PresetSetting, yours: PresetSetting) -> str:
    lines = [
        f"{preset.title} — {preset.url} (read from {preset.version})",
        *(f"  - {line}" for line in preset.encodes),
        f"Weight: {preset.weight_rule}.",
        f"At the original's data: {_describe(original)}.",
        f"At yours:               {_describe(yours)}.",
        *preset.notes,
        f"Units: {UNITS}.",
        f"The same objective in vaebalance (at yours): {yours.python}",
    ]
    if preset.recon == "nll":
        lines.append(
            "vaebalance has no negative-binomial likelihood: the beta above applies to any "
            "likelihood whose NLL is summed over genes."
        )
    return "\n".join(lines)
