"""The importance-weighted estimate of log p(x) (the IWAE bound), computed in vectorized chunks.

Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016 (arXiv 1509.00519):
with z_1..z_k drawn from q(z|x) and log weights

    log w_i = log p(x|z_i) + log p(z_i) − log q(z_i|x),

    L_k(x) = log (1/k) Σ_i w_i   satisfies   ELBO = E[L_1] ≤ E[L_k] ≤ E[L_{k+1}] ≤ log p(x),

and E[L_k] → log p(x) as k → ∞. The negative, −L_k, is the usual "NLL" of a VAE (in nats per
example here; bits/dim by :func:`vaebalance.objective.units.bits_per_dim`). Because the bound
holds in expectation, one draw of −L_k can sit slightly below the true NLL; over a test set the
average is a conservative (upper) estimate of the NLL.

How the work is laid out: a block of B examples is encoded once; the k samples are decoded in
chunks of S, each chunk one decoder call on z of shape [S, B, J] flattened to [S·B, J]; a running
log-sum-exp over the chunks keeps memory at O(S·B) whatever k is. B and S come from a memory
budget (:func:`plan_chunks`). The noise for example n is drawn as one ``randn(k, J)`` in example
order, so the result depends on the seed only, not on the batch size or the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import UserError, check
from ..objective.likelihoods import Likelihood

PRECISIONS = ("fp32", "bf16")
# On a CPU a decoder call of about a thousand rows (784 outputs each) keeps its activations in
# cache and ran fastest in bench/iwae_throughput.py (8–16 MB beat 64–128 MB by 10–30%); on a GPU
# raise it (a few GB) so that each call fills the device.
DEFAULT_MEMORY_BUDGET_MB = 16.0
# Examples per block at least, so that a huge k or huge images still put several examples in
# each decoder call rather than one (the pythae-style loop this module replaces).
MIN_BLOCK_EXAMPLES = 8


@dataclass(frozen=True)
class IWAEResult:
    """Per-example results of :func:`importance_weighted_nll` (all ``[N]``, nats per example).

    Attributes:
        nll_nats: −L_k(x), the importance-weighted NLL estimate.
        distortion_nats: −log p(x|z) averaged over the same k samples z ~ q(z|x): an unbiased
            estimate of the distortion term of the negative ELBO, k times less noisy than one draw.
        samples: k.
        block_examples: B, examples per decoder call.
        chunk_samples: S, samples per example per decoder call.
    """

    nll_nats: Tensor
    distortion_nats: Tensor
    samples: int
    block_examples: int
    chunk_samples: int


def plan_chunks(
    k: int, n: int, batch_size: int, bytes_per_row: int, memory_budget_bytes: float
) -> tuple[int, int]:
    """Examples per block B and samples per chunk S so that one decoder call of S·B rows fits.

    Rows that fit = budget / bytes_per_row. All k samples of B examples go into one call when
    that fits (B = rows // k, at most ``batch_size``); otherwise B stays at a few examples and
    the samples are split into chunks of S = rows // B.
    """
    rows = max(1, int(memory_budget_bytes // max(1, bytes_per_row)))
    block = max(rows // k, min(MIN_BLOCK_EXAMPLES, n))
    block = max(1, min(block, batch_size, n))
    chunk = max(1, min(k, rows // block))
    return block, chunk


def check_examples(model: nn.Module, likelihood: Likelihood, x: Tensor) -> None:
    """Raise :class:`UserError` unless x is a finite float tensor [N ≥ 1, ...] that the model
    encodes, whose decoder output the likelihood accepts, and (Bernoulli family) in [0, 1]."""
    check(isinstance(x, Tensor), f"x must be a torch.Tensor, got {type(x).__name__}")
    check(
        x.is_floating_point(),
        f"x must be a float tensor (convert 8-bit data with dataset.to_float); got dtype {x.dtype}",
    )
    check(
        x.dim() >= 2 and x.shape[0] >= 1,
        f"x must be [N, *example_shape] with N ≥ 1; got shape {tuple(x.shape)}",
    )
    check(bool(torch.isfinite(x).all()), "x contains NaN or inf")
    first = x[:1].to(_device_of(model))
    try:
        with torch.inference_mode():
            mu, logvar = model.encode(first)
            output = model.decode(mu)
    except RuntimeError as e:  # the layer that rejected the shape says best what it expected
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UserError(
            f"x of shape {tuple(x.shape)} does not fit the model (examples must have the shape "
            f"it was built for): {detail}"
        ) from None
    latent_dim = getattr(model, "latent_dim", mu.shape[-1])
    check(
        mu.shape == (1, latent_dim) and logvar.shape == mu.shape,
        f"the encoder returned mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} for one "
        f"example; expected [1, {latent_dim}] each",
    )
    example, p = tuple(x.shape[1:]), likelihood.outputs_per_element
    expected = (example[0] * p, *example[1:])
    check(
        tuple(output.shape[1:]) == expected,
        f"x of shape {tuple(x.shape)} does not fit the model: for examples of shape {example} "
        f"the decoder should give {expected} ({likelihood.name} takes {p} output(s) per "
        f"element) but gives {tuple(output.shape[1:])}",
    )
    if likelihood.data_in_unit_interval:
        lo, hi = float(x.min()), float(x.max())
        check(
            lo >= 0.0 and hi <= 1.0,
            f"{likelihood.name} needs x in [0, 1]; x spans [{lo:.4g}, {hi:.4g}]",
        )


@torch.inference_mode()
def importance_weighted_nll(
    model: nn.Module,
    likelihood: Likelihood,
    x: Tensor,
    k: int = 1000,
    *,
    batch_size: int = 256,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    seed: int = 0,
    generator: torch.Generator | None = None,
    precision: str = "fp32",
    validate: bool = True,
) -> IWAEResult:
    """−L_k(x) per example (the IWAE bound, Burda et al. 2016), vectorized and chunked.

    Args:
        model: a VAE with ``encode(x) -> (mu, logvar)`` ([B, J] each) and ``decode(z)``.
        likelihood: the decoder distribution (``nll(x, output) -> [B]`` nats).
        x: float examples [N, *shape] (in [0, 1] for the Bernoulli family).
        k: importance samples per example, ≥ 1 (k = 1 gives a one-sample −ELBO).
        batch_size: most examples per block.
        memory_budget_mb: what one decoder call may use, roughly; sets B and S.
        seed: seeds a fresh CPU generator when ``generator`` is None.
        generator: the source of the noise (CPU); draws ``randn(k, J)`` once per example, in
            example order.
        precision: ``"fp32"``, or ``"bf16"`` to run the decoder under CPU/GPU autocast (the NLL
            and the log-sum-exp stay in fp32). On the reference MLP (Fashion-MNIST, k = 1000)
            bf16 was 2.4× faster on a 2-core AVX512-BF16 CPU and moved the mean NLL by about
            0.001 nats (single examples by up to 0.1): bench/iwae_throughput.py.
        validate: check the inputs (turn off when the caller has).

    Returns:
        :class:`IWAEResult` with ``[N]`` tensors on the CPU.
    """
    if validate:
        check(
            isinstance(k, int) and not isinstance(k, bool) and k >= 1,
            f"k (iw_samples) must be an integer ≥ 1, got {k!r}",
        )
        check(
            isinstance(batch_size, int) and batch_size >= 1,
            f"batch_size must be ≥ 1, got {batch_size!r}",
        )
        check(memory_budget_mb > 0, f"memory_budget_mb must be > 0, got {memory_budget_mb}")
        check(precision in PRECISIONS, f"precision must be one of {PRECISIONS}, got {precision!r}")
    if generator is None:
        generator = torch.Generator().manual_seed(seed)
    device = _device_of(model)
    was_training = model.training, likelihood.training
    model.eval()
    likelihood.eval()
    try:
        if validate:
            check_examples(model, likelihood, x)
        n = x.shape[0]
        probe = _decode(model, model.encode(x[:1].to(device))[0], precision)
        # Decoder output, the repeated targets and two elementwise temporaries of the NLL, fp32;
        # activations inside the decoder are assumed not to be larger than its output.
        bytes_per_row = 4 * 4 * probe[0].numel()
        block, chunk = plan_chunks(k, n, batch_size, bytes_per_row, memory_budget_mb * 2**20)
        nll = torch.empty(n)
        distortion = torch.empty(n)
        for start in range(0, n, block):
            xb = x[start : start + block].to(device)
            lse, dist = _block(model, likelihood, xb, k, chunk, generator, precision)
            nll[start : start + len(xb)] = math.log(k) - lse.cpu()
            distortion[start : start + len(xb)] = dist.cpu()
    finally:
        model.train(was_training[0])
        likelihood.train(was_training[1])
    return IWAEResult(nll, distortion, k, block, chunk)


def _block(model, likelihood, xb, k, chunk, generator, precision):
    """log Σ_i w_i and the mean −log p(x|z_i) over k samples for one block of examples."""
    b = xb.shape[0]
    mu, logvar = model.encode(xb)
    mu, logvar = mu.float(), logvar.float()
    std = torch.exp(0.5 * logvar)
    latent_dim = mu.shape[1]
    # One randn(k, J) per example, in example order: the noise (hence the result) does not
    # depend on how examples are blocked. Laid out [k, B, J] for sample-major decoder rows.
    eps = torch.empty(b, k, latent_dim)
    for i in range(b):
        torch.randn(k, latent_dim, generator=generator, out=eps[i])
    eps = eps.to(mu.device).transpose(0, 1)
    # Row s·B + i of a chunk holds example i, so a shorter last chunk is a prefix of x_rep.
    x_rep = xb.repeat(chunk, *([1] * (xb.dim() - 1)))
    half_logdet = 0.5 * logvar.sum(1)  # [B]
    lse = torch.full((b,), -math.inf, device=mu.device)
    dist_sum = torch.zeros(b, device=mu.device)
    for s0 in range(0, k, chunk):
        e = eps[s0 : s0 + chunk]  # [S, B, J]
        s = e.shape[0]
        z = mu + std * e
        out = _decode(model, z.reshape(s * b, latent_dim), precision)
        log_px_z = -likelihood.nll(x_rep[: s * b], out, validate=False).view(s, b)
        # log p(z) − log q(z|x): the 2π terms cancel and (z − μ)²/σ² = ε² exactly.
        log_pz_qz = 0.5 * (e.pow(2).sum(2) - z.pow(2).sum(2)) + half_logdet
        lse = torch.logaddexp(lse, torch.logsumexp(log_px_z + log_pz_qz, dim=0))
        dist_sum -= log_px_z.sum(0)
    return lse, dist_sum / k


def _decode(model, z, precision):
    if precision == "bf16":
        with torch.autocast(device_type=z.device.type, dtype=torch.bfloat16):
            return model.decode(z).float()
    return model.decode(z)


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")
