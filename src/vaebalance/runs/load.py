"""A finished (or stopped) run loaded back: its config, model with trained weights, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import RunConfig
from ..data import Dataset, Standardization, load_from_source
from ..errors import UserError
from ..models import VAE
from ..objective.elbo import ELBOLoss
from ..schema import RunMetrics
from ..storage import read_tensors
from ..training import build
from ..training.checkpoint import load_module_tensors
from .layout import MODEL, RUN, RunDir


@dataclass
class Run:
    """A run directory's contents as objects."""

    path: Path
    config: RunConfig
    model: VAE
    loss_fn: ELBOLoss
    metrics: RunMetrics
    info: dict

    standardization: Standardization | None = None

    def dataset(self) -> Dataset:
        """The run's dataset, from where the run found it (a UserError if it moved), with the
        run's standardization attached: ``to_float`` gives what the model saw."""
        data = load_from_source(self.info["dataset"]["source"])
        return data if self.standardization is None else data.standardized(self.standardization)


def run_dataset(run: RunDir) -> Dataset:
    """The dataset of the run in ``run``, standardized as it was in training."""
    record = dataset_record(run)
    data = load_from_source(record["source"])
    stats = run.standardization(tuple(record["shape"]))
    return data if stats is None else data.standardized(stats)


def dataset_record(run: RunDir) -> dict:
    """The ``dataset`` entry of ``run.json``, checked: a UserError if it is damaged."""
    info = run.info()
    record = info.get("dataset") if isinstance(info, dict) else None
    shape = record.get("shape") if isinstance(record, dict) else None
    ok_shape = (
        isinstance(shape, list)
        and shape
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)
    )
    if not (ok_shape and isinstance(record.get("source"), dict)):
        raise UserError(
            f"{run / RUN} has no valid 'dataset' entry (with 'shape' and 'source'); "
            "the run directory is damaged"
        )
    return record


def load_run(path: str | Path) -> Run:
    """The model (with its trained weights), config and metrics of a run directory."""
    run = RunDir(path).require()
    cfg = RunConfig.from_dict(run.config())
    if cfg.likelihood.name == "auto":
        raise UserError(f"{run / 'config.json'} names no likelihood (auto); was it edited?")
    info = run.info()
    record = dataset_record(run)
    shape = tuple(record["shape"])
    stub = Dataset(
        name=str(record.get("name", run.path.name)),
        train=torch.zeros(0, *shape),
        test=torch.zeros(0, *shape),
        shape=shape,
    )
    model, loss_fn = build(cfg, stub)
    if not (run / MODEL).is_file():
        raise UserError(f"{run.path} has no trained weights ({MODEL}); did training finish?")
    load_module_tensors(read_tensors(run / MODEL), model, loss_fn, run / MODEL)
    model.eval()
    loss_fn.eval()
    metrics = run.metrics() if run.has_metrics() else RunMetrics()
    return Run(run.path, cfg, model, loss_fn, metrics, info, run.standardization(shape))
