"""``vaebalance evaluate DIR``: recompute a run's test metrics from its saved weights."""

from __future__ import annotations

from pathlib import Path

from ..errors import check
from ..runs import METRICS, RunDir, write_json
from ..training.run import TRAINING_FACTS, load_run
from .evaluate import evaluate_dataset


def evaluate_run(
    path: str | Path,
    iw_samples: int = 1000,
    batch_size: int | None = None,
    precision: str = "fp32",
) -> dict:
    """Evaluate the run in ``path`` on its test split and rewrite its ``metrics.json``.

    Facts about training (epochs, steps, the balancer's final state) are kept from the
    previous ``metrics.json``; every measured number is recomputed.
    """
    check(iw_samples >= 1, f"--iw-samples must be ≥ 1, got {iw_samples}")
    check(batch_size is None or batch_size >= 1, f"--batch-size must be ≥ 1, got {batch_size}")
    run = load_run(path)
    data = run.dataset()
    metrics = evaluate_dataset(
        run.model,
        run.loss_fn.likelihood,
        data,
        iw_samples=iw_samples,
        batch_size=batch_size or run.config.eval.batch_size,
        seed=run.config.train.seed,
        precision=precision,
    )
    metrics.update({k: v for k, v in run.metrics.items() if k in TRAINING_FACTS})
    write_json(RunDir(path) / METRICS, metrics)
    return metrics
