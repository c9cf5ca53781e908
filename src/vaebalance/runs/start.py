"""Start and resume runs: the library behind ``vaebalance train`` and ``train --resume``.

Everything that can be wrong with the user's input (config, data, model size, balancer
parameters) is checked before the run directory is created, so a mistake never leaves a
half-written run behind.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from pathlib import Path

import torch

from .._version import __version__
from ..config import RunConfig, resolve
from ..data import Dataset, dataset_names, load_dataset
from ..data.validation import hold_out
from ..errors import UserError
from ..schema import RunMetrics
from ..storage import remove_temporary_files, write_csv, write_json, write_tensors
from ..training import Hooks, NonFiniteError, Trainer, build, distributed, runtime
from ..training.checkpoint import LATEST, clean_checkpoint_dir, load_checkpoint, module_tensors
from ..training.trackers import TensorBoardTracker
from .finish import final_metrics
from .layout import CONFIG, HISTORY, MODEL, RUN, STANDARDIZATION, TENSORBOARD_DIR, RunDir
from .load import run_dataset
from .newdir import default_run_dir, make_run_dir
from .pictures import cache_pictures

log = logging.getLogger("vaebalance")

# Fields a resumed run may change: how long it trains and how it uses the machine.
RESUMABLE_CHANGES = {"train.epochs", "train.steps", "train.threads", "train.tensorboard"}


class RunInterrupted(KeyboardInterrupt):
    """Training was interrupted (Ctrl-C); ``path`` is the run, resumable from its checkpoint."""

    def __init__(self, path: Path):
        super().__init__(str(path))
        self.path = path


def train(
    cfg: RunConfig, out: str | Path | None = None, hooks: Hooks | None = None
) -> tuple[Path, RunMetrics]:
    """Train a new run as configured; returns its directory and final test metrics.

    Under torchrun every process calls this; only process 0 writes the run directory, and the
    others return None for the metrics (:mod:`vaebalance.training.distributed`)."""
    world, device = _start_process(cfg)
    d = cfg.data
    data = _dataset(d.name, d.data_dir, d.test_fraction, cfg.train.seed, d.size, d.examples,
                    d.factors, d.val_fraction)  # fmt: skip
    check_splits(data)
    if cfg.data.standardize:
        data = data.standardized()
    cfg = resolve(cfg, data)
    model, loss_fn = build(cfg, data)
    run = RunDir(_same_everywhere(world, str(out or default_run_dir(cfg))))
    info = {
        "status": "running",
        "created": datetime.now().isoformat(timespec="seconds"),
        "vaebalance": __version__,
        "torch": torch.__version__,
        "dataset": dataset_info(data),
    }
    files: dict = {CONFIG: cfg.to_dict(), RUN: info}
    if data.standardization is not None:
        files[STANDARDIZATION] = data.standardization.to_tensors()
    if world is None or world.main:
        make_run_dir(run.path, files)
    trainer = _trainer(world, cfg, data, model, loss_fn, device, run, hooks)
    metrics = _fit(run, trainer)
    distributed.finish()
    return run.path, metrics


def _start_process(cfg: RunConfig):
    """Join the torchrun job the environment describes, if any; then threads, seeds, device."""
    t = cfg.train
    world, device, threads = distributed.setup(t.device, t.threads, t.batch_size)
    return world, runtime.configure(threads, t.seed, device)


def _same_everywhere(world, value):
    """Process 0's value in every process (a default run name holds the time)."""
    return value if world is None else distributed.DataParallel(world).broadcast(value)


def _trainer(world, cfg, data, model, loss_fn, device, run: RunDir, hooks) -> Trainer:
    """Only process 0 writes checkpoints and reports progress."""
    if world is None or world.main:
        return Trainer(cfg, data, model, loss_fn, device, run.checkpoint_dir, hooks)
    return Trainer(cfg, data, model, loss_fn, device, None, Hooks())


def _dataset(name, data_dir, test_fraction, seed, size, examples, factors, val_fraction):
    """The run's dataset. Named ones in their default places (not paths or a ``data_dir``,
    whose files may change between runs) come from a cache of the last one loaded here: the
    runs of a sweep or a tuning study on one worker share one copy instead of reading and
    decoding the files again each (≈ 0.3–0.5 s for Fashion-MNIST). Datasets are never
    modified in place, and the validation split is drawn into new tensors, so sharing one is
    safe."""
    if name in dataset_names() and data_dir is None and factors is None:
        return hold_out(_named_dataset(name, test_fraction, seed, size, examples), val_fraction,
                        seed)  # fmt: skip
    return load_dataset(name, data_dir, test_fraction, seed, size=size, examples=examples,
                        factors=factors, val_fraction=val_fraction)  # fmt: skip


@functools.lru_cache(maxsize=1)
def _named_dataset(name, test_fraction, seed, size, examples) -> Dataset:
    return load_dataset(name, None, test_fraction, seed, size=size, examples=examples)


def dataset_info(data: Dataset) -> dict:
    """The ``dataset`` entry of ``run.json``: enough to reload the data and rebuild the model."""
    return {
        "name": data.name,
        "shape": list(data.shape),
        "input_dim": data.input_dim,
        "eight_bit": data.eight_bit,
        "train_examples": len(data.train),
        "val_examples": 0 if data.val is None else len(data.val),
        "test_examples": len(data.test),
        "source": data.source,
        "scaling": data.scaling,
        "standardized": data.standardization is not None,
        "log_det_nats": data.log_det_nats,
    }


def check_splits(data: Dataset) -> None:
    """The final evaluation needs two test examples; say so before any file is written."""
    if len(data.test) < 2:
        n = len(data.train) + len(data.test) + (0 if data.val is None else len(data.val))
        raise UserError(
            f"the test split of {data.name} has {len(data.test)} example(s) of "
            f"{n}; evaluation needs at least 2: use more data "
            "or a larger data.test_fraction"
        )


def resume(
    path: str | Path, overrides: dict | None = None, hooks: Hooks | None = None
) -> tuple[Path, RunMetrics]:
    """Continue a stopped run from its last checkpoint to its configured end."""
    run = RunDir(path).require()
    cfg = _resumed_config(run, overrides or {})
    world, device = _start_process(cfg)
    main = world is None or world.main
    data = run_dataset(run)
    if cfg.data.standardize and data.standardization is None:
        raise UserError(f"{run.path} has data.standardize on but no {STANDARDIZATION}; "
                        "the run directory is damaged")  # fmt: skip
    cfg = resolve(cfg, data)  # a no-op on configs this version wrote
    model, loss_fn = build(cfg, data)
    trainer = _trainer(world, cfg, data, model, loss_fn, device, run, hooks)
    if (run.checkpoint_dir / LATEST).is_file():
        trainer.state = load_checkpoint(
            run.checkpoint_dir, trainer.model, trainer.loss_fn, trainer.optimizer, trainer.batch_rng
        )  # else it stopped before its first checkpoint: start over, with the same seed
    if main:  # a process killed mid-write leaves temporary files (never read); remove them
        remove_temporary_files(run.path)
        clean_checkpoint_dir(run.checkpoint_dir)
    if trainer.done and run.has_metrics() and run.info().get("status") == "finished":
        # Nothing left to train: say so rather than re-evaluate behind an empty progress bar.
        log.warning("%s finished already (%d steps); nothing to resume: extend it with "
                    "--epochs N, or re-measure it with `vaebalance evaluate`",
                    run.path, trainer.state.step)  # fmt: skip
        return run.path, run.metrics() if main else None
    if main:
        if overrides:
            write_json(run / CONFIG, cfg.to_dict())
        run.update_info(status="running")
    metrics = _fit(run, trainer)
    distributed.finish()
    return run.path, metrics


def _resumed_config(run: RunDir, overrides: dict) -> RunConfig:
    cfg = RunConfig.from_dict(run.config())
    for key, value in overrides.items():
        if key not in RESUMABLE_CHANGES:
            raise UserError(
                f"--resume cannot change {key} of an existing run; changeable: "
                f"{', '.join(sorted(RESUMABLE_CHANGES))}"
            )
        cfg = cfg.with_value(key, value)
    return cfg


class HistoryFile:
    """The tracker that keeps ``history.csv`` equal to the run's history after every epoch."""

    def __init__(self, run: RunDir):
        self.run = run

    def log_epoch(self, state, records, model, likelihood) -> None:
        write_csv(self.run / HISTORY, state.history)

    def close(self) -> None:
        pass


def _trackers(run: RunDir, trainer: Trainer) -> list:
    trackers = [HistoryFile(run)]
    # Created when training starts, after a resume has loaded its checkpoint, and only if
    # there is training left: an empty event file would be noise.
    if trainer.cfg.train.tensorboard and not trainer.done:
        tensorboard = TensorBoardTracker.create(run / TENSORBOARD_DIR, trainer.data)
        if tensorboard is not None:
            trackers.append(tensorboard)
    return trackers


def _fit(run: RunDir, trainer: Trainer) -> RunMetrics | None:
    if trainer.checkpoint_dir is None:  # a process of a torchrun job other than process 0
        final_metrics(trainer, trainer.fit())  # its share of the final IWAE; process 0 writes
        return None
    trackers = _trackers(run, trainer)
    try:
        state = trainer.fit(trackers)
        write_tensors(run / MODEL, module_tensors(trainer.model, trainer.loss_fn))
        metrics = final_metrics(trainer, state)
        run.write_metrics(metrics)
    except NonFiniteError as e:
        # The model holds its last finite weights (bad steps were skipped): keep them.
        write_tensors(run / MODEL, module_tensors(trainer.model, trainer.loss_fn))
        _mark(run, status="failed: non-finite training", error=str(e))
        raise
    except KeyboardInterrupt:
        _mark(run, status="interrupted")
        raise RunInterrupted(run.path) from None
    except UserError as e:  # e.g. a disk that filled up: the last checkpoint still resumes
        _mark(run, status="interrupted", error=str(e))
        raise
    finally:
        for tracker in trackers:
            tracker.close()
    run.update_info(status="finished", error=None)
    cache_pictures(run.path, trainer.data)  # so that a report needs neither model nor torch
    return metrics


def _mark(run: RunDir, **changes) -> None:
    """Record why a run stopped, if the disk still lets us; the original error matters more."""
    try:
        run.update_info(**changes)
    except UserError:
        pass
