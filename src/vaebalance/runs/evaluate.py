"""``vaebalance evaluate DIR``: recompute a run's test metrics from its saved weights, or
measure the run's model on other data (``--data``) beside them."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import torch

from ..config import check_unit_interval
from ..data import Dataset, load_dataset, split_indices
from ..data.factors import attach_factors
from ..errors import UserError, check
from ..evaluation.evaluate import evaluate_dataset
from ..schema import Evaluation, RunMetrics
from .layout import RunDir
from .load import Run, load_run

# Sources that come with their own test split; of any other source every example is evaluated.
OWN_SPLIT = ("idx", "cifar10")


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
    run = _load_checked(path, iw_samples, batch_size)
    data = run.dataset()
    if factors is not None:
        data = attach_factors(data, factors)
    if factor_metrics is None:
        factor_metrics = run.config.eval.factor_metrics
    evaluation = _measure(run, data, iw_samples, batch_size, precision,
                          factor_metrics=factor_metrics,
                          intervention_batches=run.config.eval.intervention_batches)  # fmt: skip
    facts = {k: v for k, v in run.metrics.facts().items() if v is not None}
    metrics = RunMetrics.from_json({**evaluation.to_json(), **facts})
    RunDir(path).write_metrics(metrics)
    return metrics


def evaluate_other(
    path: str | Path,
    source: str | os.PathLike,
    iw_samples: int = 1000,
    batch_size: int | None = None,
    precision: str = "fp32",
    data_dir: str | None = None,
) -> tuple[Path, Evaluation]:
    """Evaluate the run in ``path`` on other data and write ``metrics-<name>.json`` beside its
    own ``metrics.json`` (which is never touched).

    ``source`` is anything ``--data`` takes (a name or a path). Sources with their own test
    split (MNIST-style idx files, CIFAR-10) are measured on it; any other source (a held-out
    ``.npy``/``.csv``, a folder of images, digits) on all of its examples. The examples must
    have the shape the run was trained on; a run trained with ``data.standardize`` applies its
    own training statistics (never ones refitted on the new data), and the numbers are in the
    units of the data as given, as in ``metrics.json``.

    Returns:
        The file written and the evaluation.
    """
    run = _load_checked(path, iw_samples, batch_size)
    data, split = _other_data(run, source, data_dir)
    evaluation = _measure(run, data, iw_samples, batch_size, precision)
    name = os.fspath(source)
    record = {**data.source, "split": split}
    written = RunDir(path).write_other_metrics(_short_name(name), evaluation, name, record)
    return written, evaluation


def _load_checked(path, iw_samples: int, batch_size: int | None) -> Run:
    check(iw_samples >= 1, f"iw_samples must be ≥ 1, got {iw_samples}", params=("iw_samples",))
    check(batch_size is None or batch_size >= 1, f"batch_size must be ≥ 1, got {batch_size}",
          params=("batch_size",))  # fmt: skip
    return load_run(path)


def _measure(run: Run, data: Dataset, iw_samples, batch_size, precision, **options):
    """The run's model on ``data`` with the run's own seed and evaluation batch size."""
    return evaluate_dataset(run.model, run.loss_fn.likelihood, data, iw_samples=iw_samples,
                            batch_size=batch_size or run.config.eval.batch_size,
                            seed=run.config.train.seed, precision=precision, **options)  # fmt: skip


def _other_data(run: Run, source, data_dir) -> tuple[Dataset, str]:
    """The other data as the run's model sees it, and which of its examples are measured."""
    # Half and half: a split any file of two or more examples allows; it is undone below.
    data = load_dataset(source, data_dir, 0.5, 0)
    expected = tuple(run.info["dataset"]["shape"])
    if data.shape != expected:
        raise UserError(
            f"{os.fspath(source)} has examples of shape {data.shape}, but the run's model "
            f"takes {expected}"
        )
    split = "test"
    if data.source.get("kind") not in OWN_SPLIT:
        split = "all"
        data = replace(data, test=_in_source_order(data))
    if run.standardization is not None:
        data = data.standardized(run.standardization)
    if run.loss_fn.likelihood.data_in_unit_interval:
        check_unit_interval(run.loss_fn.likelihood.name, data)
    check(len(data.test) >= 2, f"{os.fspath(source)} has {len(data.test)} example(s) to "
          "evaluate; evaluation needs at least 2")  # fmt: skip
    return data, split


def _in_source_order(data: Dataset) -> torch.Tensor:
    """All examples of a randomly split source, in the order of the source (so that each
    example meets the same noise however the source was split)."""
    n = len(data.train) + len(data.test)
    train_idx, test_idx = split_indices(n, data.source["test_fraction"], data.source["seed"])
    examples = torch.empty((n, *data.train.shape[1:]), dtype=data.train.dtype)
    examples[train_idx], examples[test_idx] = data.train, data.test
    return examples


def _short_name(name: str) -> str:
    """A dataset's name for a file name: the stem of a path, or the name itself."""
    return Path(name).stem if ("/" in name or os.sep in name or Path(name).suffix) else name
