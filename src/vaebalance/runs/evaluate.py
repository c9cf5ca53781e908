"""``vaebalance evaluate DIR``: recompute a run's test metrics from its saved weights."""

from __future__ import annotations

from pathlib import Path

from ..data.factors import attach_factors
from ..errors import check
from ..evaluation.evaluate import evaluate_dataset
from ..schema import RunMetrics
from .layout import RunDir
from .load import load_run


def evaluate_run(
    path: str | Path,
    iw_samples: int = 1000,
    batch_size: int | None = None,
    precision: str = "fp32",
    factors: str | Path | None = None,
    factor_metrics: bool | None = None,
) -> RunMetrics:
    """Evaluate the run in ``path`` on its test split and rewrite its ``metrics.json``.

    Facts about training (epochs, steps, the balancer's final state) are kept from the
    previous ``metrics.json``; every measured number is recomputed. ``factors``: a factors
    file (one integer row per example of the run's data) for the factor metrics;
    ``factor_metrics``: None = when the data has factors, True = required, False = never.
    """
    check(iw_samples >= 1, f"iw_samples must be ≥ 1, got {iw_samples}", params=("iw_samples",))
    check(batch_size is None or batch_size >= 1, f"batch_size must be ≥ 1, got {batch_size}",
          params=("batch_size",))  # fmt: skip
    run = load_run(path)
    data = run.dataset()
    if factors is not None:
        data = attach_factors(data, factors)
    if factor_metrics is None:
        factor_metrics = run.config.eval.factor_metrics
    evaluation = evaluate_dataset(
        run.model,
        run.loss_fn.likelihood,
        data,
        iw_samples=iw_samples,
        batch_size=batch_size or run.config.eval.batch_size,
        seed=run.config.train.seed,
        precision=precision,
        factor_metrics=factor_metrics,
        intervention_batches=run.config.eval.intervention_batches,
    )
    facts = {k: v for k, v in run.metrics.facts().items() if v is not None}
    metrics = RunMetrics.from_json({**evaluation.to_json(), **facts})
    RunDir(path).write_metrics(metrics)
    return metrics
