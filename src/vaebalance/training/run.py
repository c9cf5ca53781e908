"""Start, resume and load runs: the library behind ``vaebalance train`` and ``load_run``.

Everything that can be wrong with the user's input (config, data, model size, balancer
parameters) is checked before the run directory is created, so a mistake never leaves a
half-written run behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import torch

from .. import __version__
from ..config import RunConfig
from ..data import Dataset, load_dataset, load_from_source
from ..errors import UserError
from ..evaluation.evaluate import evaluate_dataset
from ..models import VAE
from ..objective.elbo import ELBOLoss
from ..runs import (
    CONFIG,
    METRICS,
    MODEL,
    RUN,
    RunDir,
    read_tensors,
    remove_temporary_files,
    write_json,
    write_tensors,
)
from . import runtime
from .checkpoint import (
    LATEST,
    clean_checkpoint_dir,
    load_checkpoint,
    load_module_tensors,
    module_tensors,
)
from .trainer import Hooks, NonFiniteError, Trainer, build

# Fields a resumed run may change: how long it trains and how it uses the machine.
RESUMABLE_CHANGES = {"train.epochs", "train.steps", "train.threads", "train.tensorboard"}


@dataclass
class Run:
    """A finished (or stopped) run, loaded back."""

    path: Path
    config: RunConfig
    model: VAE
    loss_fn: ELBOLoss
    metrics: dict
    info: dict

    def dataset(self) -> Dataset:
        """The run's dataset, from where the run found it (a UserError if it moved)."""
        return load_from_source(self.info["dataset"]["source"])


def default_run_dir(cfg: RunConfig) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    data = Path(cfg.data.name).stem if "/" in cfg.data.name else cfg.data.name
    return Path("runs") / f"{stamp}-{data}-{cfg.likelihood.name}-{cfg.balancer.name}"


def dataset_info(data: Dataset) -> dict:
    return {
        "name": data.name,
        "shape": list(data.shape),
        "input_dim": data.input_dim,
        "eight_bit": data.eight_bit,
        "train_examples": len(data.train),
        "test_examples": len(data.test),
        "source": data.source,
        "scaling": data.scaling,
    }


def train(
    cfg: RunConfig, out: str | Path | None = None, hooks: Hooks | None = None
) -> tuple[Path, dict]:
    """Train a new run as configured; returns its directory and final test metrics."""
    device = runtime.configure(cfg.train.threads, cfg.train.seed, cfg.train.device)
    data = load_dataset(cfg.data.name, cfg.data.data_dir, cfg.data.test_fraction, cfg.train.seed)
    check_splits(data)
    model, loss_fn = build(cfg, data)
    run = RunDir(out or default_run_dir(cfg))
    info = {
        "status": "running",
        "created": datetime.now().isoformat(timespec="seconds"),
        "vaebalance": __version__,
        "torch": torch.__version__,
        "dataset": dataset_info(data),
    }
    _make_run_dir(run.path, {CONFIG: cfg.to_dict(), RUN: info})
    trainer = Trainer(cfg, data, model, loss_fn, device, run, hooks)
    return run.path, _fit(run, trainer)


def check_splits(data: Dataset) -> None:
    """The final evaluation needs two test examples; say so before any file is written."""
    if len(data.test) < 2:
        raise UserError(
            f"the test split of {data.name} has {len(data.test)} example(s) of "
            f"{len(data.train) + len(data.test)}; evaluation needs at least 2: use more data "
            "or a larger data.test_fraction"
        )


def _make_run_dir(path: Path, files: dict[str, dict]) -> None:
    """Create the run directory with its first files in one step: they are written into a
    hidden sibling that is then renamed into place, so a crash never leaves a directory that
    holds config.json but not run.json (neither a run to resume nor an empty output)."""
    if path.exists() and not path.is_dir():
        raise UserError(f"output path {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise UserError(f"output directory {path} exists and is not empty (use --resume)")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():  # e.g. --out some_file.txt/run
        raise UserError(f"cannot create output directory {path}: Not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as e:
        raise UserError(f"cannot create output directory {path}: {e.strerror or e}") from None
    try:
        for name, content in files.items():
            write_json(staging / name, content)
        staging.chmod(0o777 & ~_umask())
        os.replace(staging, path)  # replaces an empty directory, never a full one
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


def resume(path: str | Path, overrides: dict | None = None, hooks: Hooks | None = None):
    """Continue a stopped run from its last checkpoint to its configured end."""
    run = RunDir(path).require()
    cfg = RunConfig.from_dict(run.config())
    for key, value in (overrides or {}).items():
        if key not in RESUMABLE_CHANGES:
            raise UserError(
                f"--resume cannot change {key} of an existing run; changeable: "
                f"{', '.join(sorted(RESUMABLE_CHANGES))}"
            )
        section, _, field = key.partition(".")
        setattr(getattr(cfg, section), field, value)
    device = runtime.configure(cfg.train.threads, cfg.train.seed, cfg.train.device)
    data = load_from_source(dataset_record(run)["source"])
    model, loss_fn = build(cfg, data)
    trainer = Trainer(cfg, data, model, loss_fn, device, run, hooks)
    if (run.checkpoint_dir / LATEST).is_file():
        trainer.state = load_checkpoint(
            run.checkpoint_dir, trainer.model, trainer.loss_fn, trainer.optimizer, trainer.batch_rng
        )  # else it stopped before its first checkpoint: start over, with the same seed
    # A process killed mid-write leaves temporary files (never read); remove them.
    remove_temporary_files(run.path)
    clean_checkpoint_dir(run.checkpoint_dir)
    if overrides:
        write_json(run / CONFIG, cfg.to_dict())
    run.update_info(status="running")
    return run.path, _fit(run, trainer)


def _fit(run: RunDir, trainer: Trainer) -> dict:
    try:
        state = trainer.fit()
        write_tensors(run / MODEL, module_tensors(trainer.model, trainer.loss_fn))
        metrics = final_metrics(trainer, state)
        write_json(run / METRICS, metrics)
    except NonFiniteError as e:
        # The model holds its last finite weights (bad steps were skipped): keep them.
        write_tensors(run / MODEL, module_tensors(trainer.model, trainer.loss_fn))
        _mark(run, status="failed: non-finite training", error=str(e))
        raise
    except KeyboardInterrupt:
        _mark(run, status="interrupted")
        raise
    except UserError as e:  # e.g. a disk that filled up: the last checkpoint still resumes
        _mark(run, status="interrupted", error=str(e))
        raise
    finally:
        if trainer.tracker:
            trainer.tracker.close()
    run.update_info(status="finished", error=None)
    return metrics


def _mark(run: RunDir, **changes) -> None:
    """Record why a run stopped, if the disk still lets us; the original error matters more."""
    try:
        run.update_info(**changes)
    except UserError:
        pass


# Keys of metrics.json that describe training rather than measure the model.
TRAINING_FACTS = (
    "epochs",
    "steps",
    "skipped_steps",
    "train_seconds",
    "likelihood",
    "balancer",
    "balancer_state",
    "target_met",
    "decoder_scale",
)


def final_metrics(trainer: Trainer, state) -> dict:
    """Test metrics at the end of training, with the run's facts and the balancer's verdict."""
    cfg, lik = trainer.cfg, trainer.loss_fn.likelihood
    metrics = evaluate_dataset(
        trainer.model,
        lik,
        trainer.data,
        iw_samples=cfg.eval.iw_samples,
        batch_size=cfg.eval.batch_size,
        seed=cfg.train.seed,
    )
    report = state.balancer_report or trainer.loss_fn.balancer.report()
    metrics.update(
        epochs=state.epoch,
        steps=state.step,
        skipped_steps=state.bad_steps,
        train_seconds=state.seconds,
        likelihood=lik.name,
        balancer=cfg.balancer.name,
        balancer_state=report,
        target_met=report.get("target_met"),
    )
    if hasattr(lik, "current_log_scale"):
        metrics["decoder_scale"] = lik.scale
    return metrics


def load_run(path: str | Path) -> Run:
    """The model (with its trained weights), config and metrics of a run directory."""
    run = RunDir(path).require()
    cfg = RunConfig.from_dict(run.config())
    info = run.info()
    shape = tuple(dataset_record(run)["shape"])
    stub = Dataset(
        name=str(info["dataset"].get("name", run.path.name)),
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
    metrics = run.metrics() if (run / "metrics.json").is_file() else {}
    return Run(run.path, cfg, model, loss_fn, metrics, info)
