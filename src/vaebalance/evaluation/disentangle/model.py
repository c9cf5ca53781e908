"""The factor metrics of a trained VAE on a dataset with known factors (encoder mean μ)."""

from __future__ import annotations

import numpy as np
import torch

from ...errors import UserError
from ...schema import Evaluation
from .interventional import betavae_score, factorvae_score
from .observational import disentanglement


def encode_mean(model, x: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """μ(x) ``[N, J]`` as float64, in blocks of ``batch_size`` (no gradients, eval mode)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            parts = [model.encode(x[s : s + batch_size].to(device))[0].double().cpu()
                     for s in range(0, len(x), batch_size)]  # fmt: skip
    finally:
        model.train(was_training)
    return torch.cat(parts).numpy()


def factor_metrics(
    model, data, *, seed: int = 0, intervention_batches: int = 0, batch_size: int = 1000
) -> Evaluation:
    """MIG, DCI, SAP, modularity, explicitness on the test split's codes and factors, plus the
    BetaVAE and FactorVAE scores when the dataset can render its factor grid
    (``data.factor_grid``) and ``intervention_batches`` > 0 (training batches of 64; half as
    many held out; up to 10,000 examples estimate the FactorVAE variances).

    Raises:
        UserError: If the dataset has no factors.
    """
    if data.factors_test is None:
        raise UserError(
            f"the dataset {data.name!r} has no generative factors, so the factor metrics cannot "
            "be computed; give a factors file with --factors (one row of integers per example)",
            params=("data.factors",),
        )
    codes = encode_mean(model, data.to_float(data.test), batch_size)
    names = list(data.factor_names) or None
    scores = disentanglement(codes, data.factors_test.numpy(), seed, factor_names=names)
    result = Evaluation.from_json(scores.to_json())
    grid = data.factor_grid
    if grid is None or intervention_batches <= 0:
        return result

    def representation(x):  # the grid renders floats in [0, 1], as data.to_float gives
        return encode_mean(model, x, batch_size)

    n_train, n_eval = intervention_batches, max(1, intervention_batches // 2)
    beta = betavae_score(grid, representation, seed, num_train=n_train, num_eval=n_eval)
    factor = factorvae_score(grid, representation, seed, num_train=n_train, num_eval=n_eval,
                             num_variance_estimate=min(10_000, 64 * n_train))  # fmt: skip
    return result.replace(
        betavae_score=beta["eval_accuracy"],
        factorvae_score=factor["eval_accuracy"],
        intervention_batches=intervention_batches,
    )
