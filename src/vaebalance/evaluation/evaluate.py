"""``evaluate_model``: every number of a trained VAE on a set of (test) examples, units in the keys."""

from __future__ import annotations

import time

import torch
from torch import Tensor, nn

from ..data import Standardization
from ..errors import check
from ..objective import likelihoods
from ..objective.kl import kl_normal_std
from ..objective.units import LN2, bits_per_dim
from ..schema import Evaluation
from .disentangle import factor_metrics as factor_metrics_of
from .latent import ACTIVE_UNITS_THRESHOLD, active_units, aggregate_posterior_metrics, kl_per_dim
from .likelihood import (
    DEFAULT_MEMORY_BUDGET_MB,
    PRECISIONS,
    IWAEResult,
    check_examples,
    importance_weighted_nll,
)
from .reconstruction import reconstruction_error


def evaluate_model(
    model: nn.Module,
    likelihood: likelihoods.Likelihood | str,
    x: Tensor,
    *,
    iw_samples: int = 1000,
    batch_size: int = 256,
    discretization_bits: int | None = None,
    seed: int = 0,
    generator: torch.Generator | None = None,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    precision: str = "fp32",
    standardization: Standardization | None = None,
    share=None,
) -> Evaluation:
    """Evaluate a VAE on the examples x: ELBO terms, IWAE NLL, latent usage, reconstructions.

    Per example in nats, then averaged over the N examples: rate
    R = KL(q(z|x) ‖ N(0, I)) in closed form, summed over J; distortion D = E_q[−log p(x|z)]
    summed over the K elements; −ELBO = R + D.

    Keys (all means over the examples unless stated):

    - ``elbo_nats`` (= −(R + D)), ``neg_elbo_nats``, ``rate_nats``, ``distortion_nats``, and
      ``bits_per_dim`` (of −ELBO), ``rate_bits_per_dim``, ``distortion_bits_per_dim``: the
      bits/dim add up, with any discretization correction counted in the distortion.
    - ``nll_iw_nats``, ``nll_iw_bits_per_dim``: −L_k, the IWAE bound with k = ``iw_samples``
      (Burda et al. 2016; :func:`~vaebalance.evaluation.likelihood.importance_weighted_nll`).
      ``None`` when ``iw_samples`` = 0.
    - ``bits_per_dim_convention``: how bits/dim were computed (the 8-bit correction or none).
    - ``active_units`` (count of Var_x(μ_j) > ``active_units_threshold``), ``kl_per_dim``
      (list, nats, per latent dim).
    - ``mutual_info_nats``, ``total_correlation_nats``, ``aggregate_kl_nats``,
      ``dimwise_kl_nats``, ``mutual_info_bound_nats`` (= log N): see
      :func:`~vaebalance.evaluation.latent.aggregate_posterior_metrics` for their biases.
    - ``mse_per_element``, ``psnr_db``: of the decoder mean at z = μ (the posterior mean).
    - ``log_det_nats``: Σ_d log s_d for standardized data (0 otherwise), already added to the
      distortion, −ELBO and IWAE NLL (and their bits/dim) so that they are in the units of the
      data as given: −log p(data) = −log p(x) + Σ_d log s_d for x = (data − m) / s
      (:mod:`vaebalance.data.standardize`). The rate does not change.
    - ``iw_samples``, ``distortion_samples`` (z draws per example behind D), ``examples``,
      ``input_dim``, ``latent_dim``, ``seconds`` (wall time of this call).

    The distortion is averaged over the same k importance samples (one sample when
    ``iw_samples`` = 0): an unbiased estimate, k times less noisy than the single draw of a
    training step. With the ``gaussian-optimal`` likelihood σ is the MSE of each decoder call
    (a chunk of samples), so its NLL is only approximately per-example.

    Args:
        model: a VAE: ``encode(x) -> (mu, logvar)``, ``decode(z)``, ``latent_dim``.
        likelihood: the trained :class:`~vaebalance.likelihoods.Likelihood` (with its learned
            σ, e.g. ``loss_fn.likelihood``), or a name for one without learned parameters.
        x: float examples [N ≥ 2, *shape] (in [0, 1] for the Bernoulli family).
        iw_samples: k for the IWAE bound; 0 skips it.
        batch_size: most examples per encoder/decoder block.
        discretization_bits: 8 for 8-bit data under a continuous density (adds 8 bits/dim,
            :func:`vaebalance.objective.units.bits_per_dim`); None for discrete likelihoods.
        seed: seeds the noise when ``generator`` is None.
        generator: a CPU ``torch.Generator``; draws ``randn(N, J)`` for the latent statistics,
            then ``randn(max(k, 1), J)`` per example in order for the IWAE and distortion.
        memory_budget_mb: roughly what one decoder call may use (sets the chunk sizes).
        precision: ``"fp32"`` or ``"bf16"`` (the IWAE decoder calls under autocast).
        standardization: the per-element mean and std x was standardized with, if it was
            (x is then as the model sees it); the numbers are reported in the data's units.
        share: in data-parallel training (:class:`vaebalance.training.distributed.DataParallel`)
            each process computes the IWAE of its ``share.shard(N)`` examples, with their own
            noise (the generator skips the examples before them), and ``share.sum`` gathers
            them: the same numbers as in one process, computed N_proc times faster.

    Returns:
        An :class:`~vaebalance.schema.Evaluation` (also a read-only mapping of the keys above
        to plain Python numbers and one list), ready for ``metrics.json``.
    """
    start = time.perf_counter()
    if isinstance(likelihood, str):
        likelihood = likelihoods.get(likelihood)
    _check_arguments(likelihood, x, iw_samples, batch_size, discretization_bits, precision)
    if generator is None:
        generator = torch.Generator().manual_seed(seed)
    was_training = model.training, likelihood.training
    model.eval()
    likelihood.eval()
    try:
        with torch.inference_mode():
            check_examples(model, likelihood, x)
            encoded = _encode(model, x, batch_size)
            # Noise order (documented above): the latent statistics first, then the IWAE.
            aggregate = aggregate_posterior_metrics(
                *encoded, eps=torch.randn(*encoded[0].shape, generator=generator)
            )
            iw = _iwae(model, likelihood, x, max(iw_samples, 1), share,
                       batch_size=batch_size, memory_budget_mb=memory_budget_mb,
                       generator=generator, precision=precision, validate=False)  # fmt: skip
            # Change of variables to the data's units: one constant on every NLL, none on R.
            log_det = 0.0 if standardization is None else standardization.log_det_nats
            scale = None if standardization is None else standardization.std
            terms = _elbo_terms(encoded, iw, iw_samples, x[0].numel(), discretization_bits,
                                log_det)  # fmt: skip
            error = reconstruction_error(model, likelihood, x, batch_size, scale)
    finally:
        model.train(was_training[0])
        likelihood.train(was_training[1])
    return Evaluation.from_json({**terms, **aggregate.to_json(), **error.to_json()}).replace(
        examples=len(x), seconds=time.perf_counter() - start
    )


def _iwae(model, likelihood, x, k, share, **options) -> IWAEResult:
    """:func:`importance_weighted_nll` of every example, sharded across processes by ``share``."""
    if share is None:
        return importance_weighted_nll(model, likelihood, x, k, **options)
    lo, hi = share.shard(len(x))
    latent_dim = model.latent_dim
    for _ in range(lo):  # the noise of the examples before this shard, drawn in order
        torch.randn(k, latent_dim, generator=options["generator"])
    both = torch.zeros(2, len(x), dtype=torch.float64)
    block = chunk = 0
    if hi > lo:
        part = importance_weighted_nll(model, likelihood, x[lo:hi], k, **options)
        both[0, lo:hi], both[1, lo:hi] = part.nll_nats, part.distortion_nats
        block, chunk = part.block_examples, part.chunk_samples
    both = share.sum(both)
    return IWAEResult(both[0].float(), both[1].float(), k, block, chunk)


def _check_arguments(likelihood, x, iw_samples, batch_size, discretization_bits, precision):
    check(isinstance(likelihood, likelihoods.Likelihood),
          f"likelihood must be a Likelihood or a name, got {type(likelihood).__name__}",
          params=("likelihood",))  # fmt: skip
    check(isinstance(iw_samples, int) and not isinstance(iw_samples, bool) and iw_samples >= 0,
          f"iw_samples must be an integer ≥ 0 (0 skips the IWAE bound), got {iw_samples!r}",
          params=("iw_samples",))  # fmt: skip
    check(isinstance(batch_size, int) and batch_size >= 1,
          f"batch_size must be an integer ≥ 1, got {batch_size!r}", params=("batch_size",))  # fmt: skip
    check(discretization_bits is None
          or (isinstance(discretization_bits, int) and discretization_bits > 0),
          f"discretization_bits must be None or a positive integer, got {discretization_bits!r}")  # fmt: skip
    check(precision in PRECISIONS, f"precision must be one of {PRECISIONS}, got {precision!r}",
          params=("precision",))  # fmt: skip
    check(isinstance(x, Tensor) and x.dim() >= 2 and x.shape[0] >= 2,
          f"x must be a tensor [N, *example_shape] with N ≥ 2 examples; got "
          f"{tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__}")  # fmt: skip


def _encode(model, x: Tensor, batch_size: int) -> tuple[Tensor, Tensor]:
    """The posterior parameters (μ, log σ²) of every example, in fp32 on the CPU."""
    device = next(model.parameters()).device
    mus, logvars = [], []
    for s in range(0, len(x), batch_size):
        mu, logvar = model.encode(x[s : s + batch_size].to(device))
        mus.append(mu.float().cpu())
        logvars.append(logvar.float().cpu())
    return torch.cat(mus), torch.cat(logvars)


def _elbo_terms(encoded, iw, iw_samples, input_dim, discretization_bits, log_det) -> dict:
    """Rate (closed form), distortion and IWAE NLL in nats and bits/dim, and the latent usage;
    ``log_det`` (Σ_d log s_d of a standardization) is added to every NLL."""
    mu, logvar = encoded
    rate = float(kl_normal_std(mu.double(), logvar.double()).sum(1).mean())
    distortion = float(iw.distortion_nats.double().mean()) + log_det
    neg_elbo = rate + distortion

    def bpd(nats, discretized=True):
        return float(bits_per_dim(nats, input_dim, discretization_bits if discretized else None))

    nll_iw = float(iw.nll_nats.double().mean()) + log_det if iw_samples > 0 else None
    return dict(
        elbo_nats=-neg_elbo, neg_elbo_nats=neg_elbo, rate_nats=rate, distortion_nats=distortion,
        bits_per_dim=bpd(neg_elbo), rate_bits_per_dim=bpd(rate, discretized=False),
        distortion_bits_per_dim=bpd(distortion), nll_iw_nats=nll_iw,
        nll_iw_bits_per_dim=bpd(nll_iw) if nll_iw is not None else None,
        bits_per_dim_convention=_convention(input_dim, discretization_bits),
        discretization_bits=discretization_bits, active_units=active_units(mu)[0],
        active_units_threshold=ACTIVE_UNITS_THRESHOLD,
        kl_per_dim=[float(v) for v in kl_per_dim(mu, logvar)], iw_samples=iw_samples,
        distortion_samples=max(iw_samples, 1), input_dim=input_dim, latent_dim=mu.shape[1],
        log_det_nats=log_det,
    )  # fmt: skip


def _convention(input_dim: int, discretization_bits: int | None) -> str:
    base = f"bits/dim = nats / (K ln 2) with K = {input_dim} (1 nat = {1 / LN2:.4f} bits)"
    if not discretization_bits:
        return base + "; no discretization correction (a discrete likelihood or continuous data)"
    return (
        f"{base}, plus {discretization_bits} bits/dim for {discretization_bits}-bit data under a "
        f"continuous density (bins of width 2^-{discretization_bits}, Theis et al. 2016); the "
        f"correction is in bits_per_dim, distortion_bits_per_dim and nll_iw_bits_per_dim, not in "
        f"rate_bits_per_dim"
    )


def evaluate_dataset(
    model,
    likelihood,
    data,
    *,
    iw_samples,
    batch_size,
    seed=0,
    precision="fp32",
    split="test",
    factor_metrics: bool | None = None,
    intervention_batches: int = 0,
    share=None,
):
    """:func:`evaluate_model` on a dataset's split (``"test"`` by default), with its bits/dim
    convention, for standardized data its numbers in the data's units, and the factor metrics
    (:func:`~vaebalance.evaluation.disentangle.factor_metrics`) where the test split has
    generative factors.

    8-bit data under a density (any likelihood that is not itself discrete) gets the bin-width
    correction, so its bits/dim compare with discrete models.

    ``factor_metrics``: None computes them when the data has factors; True requires factors
    (a UserError otherwise); False skips them. ``intervention_batches``: training batches of
    the BetaVAE and FactorVAE scores (0 skips them; only datasets with a factor grid).
    ``share``: the IWAE sharded across the processes of a data-parallel job (:func:`evaluate_model`).
    """
    if isinstance(likelihood, str):
        likelihood = likelihoods.get(likelihood)
    bits = 8 if data.eight_bit and not likelihood.discrete else None
    device = next(model.parameters()).device
    want_factors = split == "test" and (
        factor_metrics is True or (factor_metrics is None and data.factors_test is not None)
    )
    if want_factors and data.factors_test is None:
        factor_metrics_of(model, data)  # raises the UserError that says why
    evaluation = evaluate_model(
        model,
        likelihood,
        data.to_float(data.split(split).to(device)),
        iw_samples=iw_samples,
        batch_size=batch_size,
        discretization_bits=bits,
        seed=seed,
        precision=precision,
        standardization=data.standardization,
        share=share,
    )
    if not want_factors:
        return evaluation
    start = time.perf_counter()
    factors = factor_metrics_of(
        model, data, seed=seed, intervention_batches=intervention_batches, batch_size=batch_size
    )
    measured = {k: v for k, v in factors.to_json().items() if v is not None}
    return evaluation.replace(**measured, seconds=evaluation.seconds + time.perf_counter() - start)
