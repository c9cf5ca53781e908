"""``vaebalance evaluate DIR``: recompute a run's test metrics from its saved weights."""

from __future__ import annotations

from pathlib import Path

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
) -> RunMetrics:
    """Evaluate the run in ``path`` on its test split and rewrite its ``metrics.json``.

    Facts about training (epochs, steps, the balancer's final state) are kept from the
    previous ``metrics.json``; every measured number is recomputed.
    """
    check(iw_samples >= 1, f"iw_samples must be ≥ 1, got {iw_samples}", params=("iw_samples",))
    check(batch_size is None or batch_size >= 1, f"batch_size must be ≥ 1, got {batch_size}",
          params=("batch_size",))  # fmt: skip
    run = load_run(path)
    evaluation = evaluate_dataset(
        run.model,
        run.loss_fn.likelihood,
        run.dataset(),
        iw_samples=iw_samples,
        batch_size=batch_size or run.config.eval.batch_size,
        seed=run.config.train.seed,
        precision=precision,
    )
    facts = {k: v for k, v in run.metrics.facts().items() if v is not None}
    metrics = RunMetrics.from_json({**evaluation.to_json(), **facts})
    RunDir(path).write_metrics(metrics)
    return metrics
