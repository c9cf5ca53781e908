"""``explain_loss``: what objective a user's own loss function optimizes, found by calling it
(the probes and the exact fits are in :mod:`.probe`), and ``load_loss_function`` for the CLI."""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError, check
from .explain import Explanation, explain
from .probe import BATCH_SIZES, KINDS, Deviation, check_hint, probe_batch
from .probe_call import Caller


@dataclass(frozen=True)
class LossExplanation:
    """A loss ``a·Σ_k r + b·Σ_j KL`` per example (r: ``recon``), reduced over the batch by
    ``batch_reduction``; ``beta_summed`` = b/a, and ``beta``/``sigma`` its meaning as in
    :func:`.explain.explain` (squared error: σ² = β_S/2 and β = σ² at σ = 1)."""

    recon: str  # "mse", "bce" (probabilities) or "bce-logits"
    recon_coefficient: float  # a
    kl_coefficient: float  # b
    batch_reduction: str  # "mean", "sum" or "other"
    beta_summed: float
    beta: float
    sigma: float | None
    sigma_squared: float | None
    input_dim: int
    latent_dim: int
    calls: int
    explanation: Explanation
    text: str

    def to_json(self) -> dict:
        return {
            "recon": self.recon,
            "recon_coefficient": self.recon_coefficient,
            "kl_coefficient": self.kl_coefficient,
            "batch_reduction": self.batch_reduction,
            "beta_summed": self.beta_summed,
            "beta": self.beta,
            "sigma": self.sigma,
            "sigma_squared": self.sigma_squared,
            "input_dim": self.input_dim,
            "latent_dim": self.latent_dim,
            "calls": self.calls,
            "suggestions": [
                {"what": s.what, "config": dict(s.config), "python": s.python}
                for s in self.explanation.suggestions
            ],
        }


def explain_loss(
    fn,
    input_shape: tuple[int, ...],
    latent_dim: int,
    likelihood_hint: str | None = None,
    rtol: float = 1e-6,
    seed: int = 0,
) -> LossExplanation:
    """Say what objective ``fn(x, recon, mu, logvar)`` optimizes, by calling it.

    ``fn`` gets float64 torch tensors (NumPy arrays if it fails on tensors): x and recon of
    shape ``[B, *input_shape]`` with values in (0, 1) (recon is read as probabilities, or as
    logits for ``"bce-logits"``), mu and logvar ``[B, latent_dim]``. It must return one number,
    or a tuple whose first element, or a dict whose ``"loss"``, is that number.

    Args:
        likelihood_hint: None (try all), ``"gaussian"``/``"mse"``, ``"bernoulli"`` (BCE of
            probabilities or logits), ``"bce"`` or ``"bce-logits"``.
        rtol: how exactly the fits must hold (relative to the loss's variation).

    Raises:
        UserError: naming where ``fn`` departs from ``a·recon + b·KL + c`` (a per-element
        weighting, a nonlinearity, a KL of another form, terms reduced differently over the
        batch), or if it does not depend on one of the terms.

    Example:
        >>> import torch.nn.functional as F
        >>> def loss(x, recon, mu, logvar):
        ...     kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).mean()
        ...     return F.mse_loss(recon, x) + 0.1 * kl
        >>> e = explain_loss(loss, (1, 28, 28), 32)
        >>> round(e.sigma_squared, 6), e.batch_reduction  # 0.1 · 784 / 32 / 2
        (1.225, 'mean')
    """
    kinds = check_hint(likelihood_hint)
    shape = _check_sizes(input_shape, latent_dim)
    check(0 < rtol < 1, f"rtol must be in (0, 1), got {rtol}", ("rtol",))
    caller = Caller(fn)
    f1 = probe_batch(caller, kinds, shape, latent_dim, BATCH_SIZES[0], rtol, seed)
    f2 = probe_batch(caller, (f1.kind,), shape, latent_dim, BATCH_SIZES[1], rtol, seed)
    kind = f1.kind
    for f in (f1, f2):
        check(f.alpha > 0, f"the loss does not grow with the {KINDS[kind]} (coefficient "
              f"{f.alpha:.6g} at batch size {f.batch_size})")  # fmt: skip
        check(f.gamma > 0, f"the loss does not grow with the KL (coefficient {f.gamma:.6g} at "
              f"batch size {f.batch_size}): there is no KL term")  # fmt: skip
    betas = [f.gamma / f.alpha for f in (f1, f2)]
    slack = rtol + f1.round_off + f2.round_off
    if abs(betas[0] - betas[1]) > slack * max(betas):
        raise Deviation(
            f"the reconstruction and the KL are reduced differently over the batch: the KL "
            f"weight is {betas[0]:.6g} at batch size {f1.batch_size} but {betas[1]:.6g} at "
            f"{f2.batch_size} (e.g. a sum over the batch for one term and a mean for the other)"
        )
    reduction, per_example = _batch_reduction(f1, f2, slack)
    k = math.prod(shape)
    a, b = f1.alpha * per_example, f1.gamma * per_example
    recon = "bce" if kind.startswith("bce") else "mse"
    e = explain(recon, "sum", "sum", b / a, input_dim=k, latent_dim=latent_dim)
    text = _text(kind, a, b, reduction, k, latent_dim, caller.calls, e)
    return LossExplanation(kind, a, b, reduction, b / a, e.beta, e.sigma, e.sigma_squared, k,
                           latent_dim, caller.calls, e, text)  # fmt: skip


def _batch_reduction(f1, f2, slack) -> tuple[str, int]:
    """("mean", B) if the coefficients scale as 1/B, ("sum", 1) if they do not change."""
    ratio = f2.alpha / f1.alpha
    if abs(ratio - f1.batch_size / f2.batch_size) <= slack:
        return "mean", f1.batch_size
    if abs(ratio - 1) <= slack:
        return "sum", 1
    return "other", 1


def _reading(a: float, k: int) -> str:
    for value, words in ((1.0, "a sum over"), (0.5, "half the sum over")):
        if math.isclose(a, value, rel_tol=1e-6):
            return f"{words} the {k} elements"
    if math.isclose(a * k, 1.0, rel_tol=1e-6):
        return f"a mean over the {k} elements"
    return f"{a * k:.6g} × the mean over the {k} elements"


def _text(kind, a, b, reduction, k, j, calls, e: Explanation) -> str:
    batch = {"mean": "averaged over", "sum": "summed over"}.get(reduction, "scaled with")
    lines = [
        f"Probed with {calls} calls: per example, your loss is {a:.6g} · Σ {KINDS[kind]} "
        f"({_reading(a, k)}) + {b:.6g} · Σ KL (b·J = {b * j:.6g}), {batch} the batch.",
        f"That is the summed reconstruction + {b / a:.6g} · the summed KL, up to a positive "
        "factor.",
    ]
    if kind == "bce":
        lines.append(
            "Your decoder outputs probabilities; vaebalance's bernoulli likelihood takes logits "
            "(drop the final sigmoid)."
        )
    kept = [
        line
        for line in e.text.splitlines()[1:]
        if not line.startswith(("Both terms are sums", "The effective weight"))
    ]
    kept.insert(
        min(4, len(kept)),
        "These numbers hold at the probed K and J; if your code divides by K or J (a mean over "
        "input elements or latent dims), probe again at other sizes: the weight will move.",
    )
    return "\n".join([*lines, *kept])


def _check_sizes(input_shape, latent_dim) -> tuple[int, ...]:
    ok = isinstance(input_shape, (tuple, list)) and len(input_shape) > 0
    ok = ok and all(isinstance(d, int) and d > 0 for d in input_shape)
    check(ok, f"input_shape must be positive integers, like (1, 28, 28); got {input_shape!r}",
          ("input_shape",))  # fmt: skip
    check(isinstance(latent_dim, int) and latent_dim > 0,
          f"latent_dim must be a positive integer, got {latent_dim}", ("latent_dim",))  # fmt: skip
    return tuple(input_shape)


def load_loss_function(path: str | Path, name: str):
    """The function ``name`` of the Python file ``path``.

    This **runs the file** (as ``python path`` would): use it on your own code only.
    """
    path = Path(path)
    check(path.is_file(), f"loss file {path} does not exist")
    check(path.suffix == ".py", f"loss file {path} must be a Python file (.py)")
    module_name = f"_vaebalance_loss_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001  (the user's file may raise anything)
        del sys.modules[module_name]
        raise UserError(f"running {path} failed: {type(e).__name__}: {e}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        defined = sorted(
            n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
            and getattr(v, "__module__", None) == module_name
        )  # fmt: skip
        raise UserError(
            f"{path} has no function {name!r}; it defines: {', '.join(defined) or 'none'}"
        )
    return fn
