"""Call a user's loss ``fn(x, recon, mu, logvar)`` on designed inputs and read off its objective.

The hypothesis is that, for a batch of B examples,

    fn = α · Σ_{b,k} r(x_bk, recon_bk) + γ · Σ_{b,j} KL_bj + c,
    KL_bj = ½(μ_bj² + σ_bj² − 1 − log σ_bj²),

with r the squared error, the BCE of probabilities or the BCE of logits. Three families of
calls test it, each one exactly (float64 inputs, so an exact convention fits to ~1e-13):

- one element changed at a time (recon at (b, k); μ or log σ² at (b, j)): every ratio
  Δfn / Δr, and every Δfn / ΔKL, must be the same number — else a per-element weighting, or a
  KL whose log σ² part is not the Gaussian KL's;
- many elements redrawn at once: fn must be affine in Σr (resp. ΣKL) — else a nonlinearity
  such as a clipped log or a free-bits clamp;
- everything redrawn: fn − αΣr − γΣKL must be constant — else the terms interact.

Repeating at two batch sizes tells a mean over the batch (α ∝ 1/B) from a sum, and catches a
KL and a reconstruction reduced differently over the batch (then β would depend on B). β_S =
γ/α is the weight on the summed KL against the summed reconstruction, and
:func:`.explain.explain` says what it means (σ² = β_S/2 for squared errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import UserError, check
from .probe_call import Caller

F64 = torch.float64
KINDS = {
    "mse": "squared error",
    "bce": "binary cross-entropy of probabilities",
    "bce-logits": "binary cross-entropy of logits",
}
HINTS = {
    None: ("mse", "bce", "bce-logits"),
    "gaussian": ("mse",),
    "mse": ("mse",),
    "bernoulli": ("bce", "bce-logits"),
    "bce": ("bce",),
    "bce-logits": ("bce-logits",),
}
BATCH_SIZES = (2, 3)
N_REDRAWS = 6


def elementwise(kind: str, x: Tensor, recon: Tensor) -> Tensor:
    if kind == "mse":
        return (x - recon) ** 2
    if kind == "bce":
        return -(x * torch.log(recon) + (1 - x) * torch.log1p(-recon))
    return F.binary_cross_entropy_with_logits(recon, x, reduction="none")


def gaussian_kl(mu: Tensor, lv: Tensor) -> Tensor:
    return 0.5 * (mu**2 + lv.exp() - 1 - lv)


@dataclass(frozen=True)
class Call:
    """One probe: its inputs, fn's value, and which family it belongs to."""

    family: str  # base | recon-element | mu-element | logvar-element | recon | kl | joint
    where: tuple[int, int] | None
    x: Tensor
    recon: Tensor
    mu: Tensor
    lv: Tensor
    value: float
    noise: float  # round-off bound of value (from the dtype fn computed in)

    def recon_sum(self, kind: str) -> float:
        return float(elementwise(kind, self.x, self.recon).sum())

    def kl_sum(self) -> float:
        return float(gaussian_kl(self.mu, self.lv).sum())


@dataclass(frozen=True)
class BatchFit:
    batch_size: int
    kind: str  # the reconstruction loss that fits
    alpha: float  # on Σ_{b,k} r
    gamma: float  # on Σ_{b,j} KL
    calls: int
    round_off: float  # relative round-off bound of alpha and gamma (fn's dtype)


class Deviation(UserError):
    """The function is not of the form; the message says where. ``stage`` is how far the
    probes got (0: one element at a time, 1: many elements, 2: the KL, 3: both terms
    together) and ``misfit`` how badly the failing fit missed, to pick the closest reading."""

    def __init__(self, message: str, stage: int = 0, misfit: float = math.inf):
        super().__init__(message)
        self.stage, self.misfit = stage, misfit


def probe_batch(caller: Caller, kinds, shape, latent_dim, b, rtol, seed) -> BatchFit:
    """All probes at batch size ``b``; the fit for the first kind in ``kinds`` that passes."""
    calls = _calls(caller, shape, latent_dim, b, seed)
    failures = []
    for kind in kinds:
        try:
            alpha, u_alpha = _recon_coefficient(calls, kind, rtol)
            gamma, u_gamma = _kl_coefficient(calls, rtol)
            _check_joint(calls, kind, alpha, gamma, rtol)
            round_off = u_alpha / abs(alpha or 1) + u_gamma / abs(gamma or 1)
            return BatchFit(b, kind, alpha, gamma, len(calls), round_off)
        except Deviation as e:
            failures.append(e)
    # The reading that got furthest, and among those the one that missed least.
    closest = min(failures, key=lambda e: (-e.stage, e.misfit))
    raise Deviation(f"fn is not of the form a·recon + b·KL + c: {closest}")


def _calls(caller: Caller, shape, latent_dim, b, seed) -> list[Call]:
    g = torch.Generator().manual_seed(seed + b)
    k = math.prod(shape)
    x = 0.05 + 0.9 * torch.rand(b, k, generator=g, dtype=F64)
    recon = 0.2 + 0.6 * torch.rand(b, k, generator=g, dtype=F64)
    mu = 0.5 * torch.randn(b, latent_dim, generator=g, dtype=F64)
    lv = 0.5 * torch.randn(b, latent_dim, generator=g, dtype=F64)
    r_pos = _positions(b, k)
    z_pos = _positions(b, latent_dim)
    for i, j in r_pos:  # a known element: x = 0.1, recon 0.5 → 0.9 changes every r by O(1)
        x[i, j], recon[i, j] = 0.1, 0.5
    for i, j in z_pos:
        mu[i, j], lv[i, j] = 0.0, 0.0

    def call(family, where, x_, recon_, mu_, lv_) -> Call:
        xs, rs = x_.reshape(b, *shape), recon_.reshape(b, *shape)
        value, noise = caller(xs, rs, mu_, lv_)
        return Call(family, where, x_, recon_, mu_, lv_, value, noise)

    out = [call("base", None, x, recon, mu, lv)]
    for pos in r_pos:
        out.append(call("recon-element", pos, x, _set(recon, pos, 0.9), mu, lv))
    for n, pos in enumerate(z_pos):
        out.append(call("mu-element", pos, x, recon, _set(mu, pos, 1.0), lv))
        out.append(call("logvar-element", pos, x, recon, mu, _set(lv, pos, (-1.0) ** n)))
    for n in range(N_REDRAWS):
        out.append(call("recon", None, x, _probabilities(b, k, g), mu, lv))
        scale = (0.3, 1.0, 2.0)[n % 3]
        mu_n = scale * torch.randn(b, latent_dim, generator=g, dtype=F64)
        lv_n = scale * torch.randn(b, latent_dim, generator=g, dtype=F64)
        out.append(call("kl", None, x, recon, mu_n, lv_n))
        x_n = torch.rand(b, k, generator=g, dtype=F64)
        out.append(call("joint", None, x_n, _probabilities(b, k, g), mu_n.flip(0), lv_n * 0.5))
    return out


def _positions(b: int, n: int) -> list[tuple[int, int]]:
    candidates = [(0, 0), (0, n - 1), (b - 1, n // 2), (b - 1, 0), (0, n // 3), (b - 1, n - 1)]
    return list(dict.fromkeys(candidates))


def _set(t: Tensor, pos, value: float) -> Tensor:
    t = t.clone()
    t[pos] = value
    return t


def _probabilities(b, k, g) -> Tensor:
    """Values in (0, 1) with a fifth at the extremes 1e-3 and 1 − 1e-3, where a clipped or
    offset log (log(p + ε), clamp(p, 0.01, 0.99)) departs from the BCE."""
    p = 0.01 + 0.98 * torch.rand(b, k, generator=g, dtype=F64)
    extreme = torch.rand(b, k, generator=g, dtype=F64)
    p = torch.where(extreme < 0.1, torch.full_like(p, 1e-3), p)
    return torch.where(extreme > 0.9, torch.full_like(p, 1 - 1e-3), p)


def _slopes(calls, family, delta) -> list[tuple[tuple[int, int], float, float]]:
    """(where, Δfn/Δ, its round-off bound) for each one-element probe of ``family``."""
    base = calls[0]
    out = []
    for c in calls:
        if c.family == family:
            d = delta(c)
            out.append((c.where, (c.value - base.value) / d, (c.noise + base.noise) / abs(d)))
    return out


def _agree(slopes, rtol) -> tuple | None:
    """The first pair of slopes that differ beyond tolerance, or None."""
    where0, s0, u0 = slopes[0]
    for where, s, u in slopes[1:]:
        if abs(s - s0) > rtol * max(abs(s0), abs(s)) + u + u0:
            return (where0, s0), (where, s)
    return None


def _unequal(what: str, pair, unit: str) -> str:
    (w0, s0), (w1, s1) = pair
    whose = "the examples of a batch" if w0[0] != w1[0] and w0[1] == w1[1] else f"{unit}s"
    return (
        f"{what} weights {whose} unequally: its weight is {s0:.6g} at "
        f"(example {w0[0]}, {unit} {w0[1]}) but {s1:.6g} at (example {w1[0]}, {unit} {w1[1]})"
    )


def _recon_coefficient(calls, kind, rtol) -> tuple[float, float]:
    base = calls[0]

    def delta(c):
        return float(
            (elementwise(kind, c.x, c.recon) - elementwise(kind, base.x, base.recon)).sum()
        )

    slopes = _slopes(calls, "recon-element", delta)
    pair = _agree(slopes, rtol)
    if pair:
        raise Deviation(_unequal(f"the {KINDS[kind]}", pair, "element"), 0)
    alpha = slopes[0][1]
    fam = [c for c in calls if c.family in ("base", "recon")]
    _check_affine(fam, [c.recon_sum(kind) for c in fam], alpha, rtol, 1, (
        f"the reconstruction term is not linear in the summed {KINDS[kind]} when many elements "
        "change at once (e.g. a clipped or offset log, a square root, a norm)"))  # fmt: skip
    return alpha, slopes[0][2]


def _kl_coefficient(calls, rtol) -> tuple[float, float]:
    base = calls[0]

    def delta(c):
        return float((gaussian_kl(c.mu, c.lv) - gaussian_kl(base.mu, base.lv)).sum())

    mu_slopes = _slopes(calls, "mu-element", delta)
    pair = _agree(mu_slopes, rtol)
    if pair:
        raise Deviation(_unequal("the KL", pair, "latent dim"), 2)
    pair = _agree([mu_slopes[0], *_slopes(calls, "logvar-element", delta)], rtol)
    if pair:
        (_, s0), (_, s1) = pair
        raise Deviation(
            f"the KL is not ½(μ² + σ² − 1 − log σ²) (a KL of another form): as a multiple of it, "
            f"its μ part has weight {s0:.6g} but its log σ² part {s1:.6g}",
            2,
        )
    gamma = mu_slopes[0][1]
    fam = [c for c in calls if c.family in ("base", "kl")]
    _check_affine(fam, [c.kl_sum() for c in fam], gamma, rtol, 2, (
        "the KL term is not linear in the summed KL when many dims change at once (e.g. a "
        "free-bits clamp max(KL, λ) or a capacity term |KL − C|)"))  # fmt: skip
    return gamma, mu_slopes[0][2]


def _check_affine(calls, features, slope, rtol, stage, message) -> None:
    """fn − slope·feature must be the same at every call of the family."""
    rest = [c.value - slope * f for c, f in zip(calls, features)]
    spread = max(c.value for c in calls) - min(c.value for c in calls)
    noise = max(c.noise for c in calls) * 4
    miss = max(rest) - min(rest)
    if miss > rtol * spread + noise + 1e-12 * abs(slope * max(features)):
        raise Deviation(message, stage, miss / (spread or 1.0))


def _check_joint(calls, kind, alpha, gamma, rtol) -> None:
    fam = [c for c in calls if c.family in ("base", "joint")]
    features = [alpha * c.recon_sum(kind) + gamma * c.kl_sum() for c in fam]
    _check_affine(fam, features, 1.0, rtol, 3, (
        f"each term alone is a multiple of the summed {KINDS[kind]} and of the summed KL, but "
        "together they do not add up: the terms interact (e.g. a weight computed from the "
        "loss, or a loss divided by its own total)"))  # fmt: skip


def check_hint(hint) -> tuple[str, ...]:
    check(
        hint in HINTS,
        f"likelihood_hint must be one of {', '.join(str(h) for h in HINTS if h)} or None; "
        f"got {hint!r}",
        ("likelihood_hint",),
    )
    return HINTS[hint]
