"""The run directory: its files, and typed reads and writes of each.

Layout::

    config.json         the full resolved RunConfig
    run.json            facts about the run: data shape and provenance, status, versions
    model.safetensors   final weights of the model and of the loss module (learned σ, balancer)
    checkpoint/         latest.json + state-<step>.safetensors, written each epoch
    history.csv         one row per epoch and split (:class:`~vaebalance.schema.EpochRecord`)
    metrics.json        final test metrics (:class:`~vaebalance.schema.RunMetrics`)
    metrics-<name>.json the model evaluated on other data (``vaebalance evaluate --data``)
    standardization.safetensors  per-element mean and std, with ``data.standardize``
    tensorboard/        event files, when enabled
    report.html         written by ``vaebalance report``
    pictures/           the report's pictures as PNG files, each named for what it was drawn
                        from (:mod:`.pictures`): written at the end of training and by
                        ``vaebalance report``, so that a report needs neither the model nor torch

Every file goes through :mod:`vaebalance.storage` (atomic writes, nothing unpickled). Files
written by an earlier version are upgraded as they are read (:mod:`.migrate`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..schema import EpochRecord, Evaluation, RunMetrics
from ..storage import read_csv, read_json, read_tensors, write_json
from .migrate import upgrade_config, upgrade_metrics

if TYPE_CHECKING:
    from ..data import Standardization

CONFIG, RUN, MODEL, HISTORY, METRICS, REPORT = (
    "config.json",
    "run.json",
    "model.safetensors",
    "history.csv",
    "metrics.json",
    "report.html",
)
STANDARDIZATION = "standardization.safetensors"
OTHER_METRICS = "metrics-{}.json"  # one per other dataset the run was evaluated on
CHECKPOINT_DIR = "checkpoint"
TENSORBOARD_DIR = "tensorboard"
PICTURES_DIR = "pictures"


class RunDir:
    """Paths and typed I/O for one run directory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_DIR

    def is_run(self) -> bool:
        return (self / CONFIG).is_file() and (self / RUN).is_file()

    def require(self) -> RunDir:
        """Raise a UserError unless this is a run directory written by ``vaebalance train``."""
        if not self.path.is_dir():
            raise UserError(f"no such run directory: {self.path}")
        if not self.is_run():
            raise UserError(f"{self.path} is not a vaebalance run (no {CONFIG} and {RUN})")
        return self

    def config(self) -> dict:
        """``config.json``, upgraded to this version's fields where an older one wrote it."""
        return upgrade_config(read_json(self / CONFIG))

    def info(self) -> dict:
        return read_json(self / RUN)

    def update_info(self, **changes) -> None:
        write_json(self / RUN, {**self.info(), **changes})

    def has_metrics(self) -> bool:
        return (self / METRICS).is_file()

    def metrics(self) -> RunMetrics:
        """``metrics.json``, upgraded to this version's schema if an older one wrote it."""
        raw = read_json(self / METRICS)
        if not isinstance(raw, dict):
            raise UserError(f"{self / METRICS} is not a JSON object; the run directory is damaged")
        return upgrade_metrics(RunMetrics.from_json(raw))

    def write_metrics(self, metrics: RunMetrics) -> None:
        write_json(self / METRICS, metrics.to_json())

    def history(self) -> list[EpochRecord]:
        return [EpochRecord.from_json(row) for row in read_csv(self / HISTORY)]

    def standardization(self, shape: tuple[int, ...]) -> Standardization | None:
        """The standardization the run was trained with, or None if it had none."""
        from ..data import Standardization  # torch: only where the model is loaded

        path = self / STANDARDIZATION
        if not path.is_file():
            return None
        return Standardization.from_tensors(read_tensors(path), shape, path)

    def other_metrics_path(self, name: str) -> Path:
        """Where the metrics on the dataset called ``name`` go: ``metrics-<slug>.json``."""
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-") or "data"
        return self / OTHER_METRICS.format(slug)

    def write_other_metrics(
        self, name: str, evaluation: Evaluation, given: str, source: dict
    ) -> Path:
        """Write the metrics on the dataset ``given`` (as the user named it) to
        ``metrics-<name>.json``, with where that data came from."""
        path = self.other_metrics_path(name)
        write_json(path, {**evaluation.to_json(), "dataset": given, "dataset_source": source})
        return path

    def other_metrics(self) -> list[tuple[str, Evaluation]]:
        """Every ``metrics-<name>.json``, as (dataset name, evaluation), sorted by file name."""
        found = []
        for path in sorted(self.path.glob(OTHER_METRICS.format("*"))):
            raw = read_json(path)
            if isinstance(raw, dict):
                found.append((str(raw.get("dataset", path.stem)), Evaluation.from_json(raw)))
        return found
