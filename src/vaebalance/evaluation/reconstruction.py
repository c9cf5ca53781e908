"""Reconstruction quality of the posterior mean: MSE per element and PSNR."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..objective.likelihoods import Likelihood
from ..objective.units import psnr_db
from ..schema import Evaluation


@torch.inference_mode()
def reconstruction_error(
    model: nn.Module,
    likelihood: Likelihood,
    x: Tensor,
    batch_size: int = 256,
    scale: Tensor | None = None,
) -> Evaluation:
    """MSE per element and PSNR of x̂ = E[x | z = μ(x)], the decoder mean at the posterior mean.

    Decoding μ rather than a sample z ~ q(z|x) is the convention of reconstruction figures: it
    shows what the code says about x without the sampling noise, so the number is deterministic.
    ``psnr_db = 10 log10(1 / MSE)`` for data in [0, 1], from the MSE over all N·K elements
    (not a mean of per-image PSNRs).

    ``scale``: the per-element std s of standardized data (x as the model sees it is
    (data − m) / s), so that the MSE is in the data's units: mean of s² (x̂ − x)².
    """
    device = next(model.parameters()).device
    sse, count = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        xb = x[start : start + batch_size].to(device)
        mu, _ = model.encode(xb)
        x_hat = likelihood.mean(model.decode(mu))
        err = (x_hat.double() - xb.double()).pow(2)
        if scale is not None:
            err = err * scale.to(err.device, torch.float64).pow(2)
        sse += float(err.sum())
        count += xb.numel()
    mse = sse / count
    return Evaluation(mse_per_element=mse, psnr_db=float(psnr_db(mse)) if mse > 0 else math.inf)
