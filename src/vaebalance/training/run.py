"""Start, resume and load runs: the library behind ``vaebalance train`` and ``load_run``.

Everything that can be wrong with the user's input (config, data, model size, balancer
parameters) is checked before the run directory is created, so a mistake never leaves a
half-written run behind.
"""

from __future__ import annotations

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
from ..runs import CONFIG, MODEL, RUN, RunDir, read_tensors, write_json, write_tensors
from . import runtime
from .checkpoint import LATEST, load_checkpoint, load_module_tensors, module_tensors
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
    model, loss_fn = build(cfg, data)
    run = RunDir(out or default_run_dir(cfg))
    if run.path.exists() and any(run.path.iterdir()):
        raise UserError(f"output directory {run.path} exists and is not empty (use --resume)")
    run.path.mkdir(parents=True, exist_ok=True)
    write_json(run / CONFIG, cfg.to_dict())
    write_json(
        run / RUN,
        {
            "status": "running",
            "created": datetime.now().isoformat(timespec="seconds"),
            "vaebalance": __version__,
            "torch": torch.__version__,
            "dataset": dataset_info(data),
        },
    )
    trainer = Trainer(cfg, data, model, loss_fn, device, run, hooks)
    return run.path, _fit(run, trainer)


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
    data = load_from_source(run.info()["dataset"]["source"])
    model, loss_fn = build(cfg, data)
    trainer = Trainer(cfg, data, model, loss_fn, device, run, hooks)
    if (run.checkpoint_dir / LATEST).is_file():
        trainer.state = load_checkpoint(
            run.checkpoint_dir, trainer.model, trainer.loss_fn, trainer.optimizer, trainer.batch_rng
        )  # else it stopped before its first checkpoint: start over, with the same seed
    if overrides:
        write_json(run / CONFIG, cfg.to_dict())
    run.update_info(status="running")
    return run.path, _fit(run, trainer)


def _fit(run: RunDir, trainer: Trainer) -> dict:
    try:
        state = trainer.fit()
    except NonFiniteError:
        # The model holds its last finite weights (bad steps were skipped): keep them.
        write_tensors(run / MODEL, module_tensors(trainer.model, trainer.loss_fn))
        run.update_info(status="failed: non-finite training")
        raise
    except KeyboardInterrupt:
        run.update_info(status="interrupted")
        raise
    write_tensors(run / MODEL, module_tensors(trainer.model, trainer.loss_fn))
    metrics = final_metrics(trainer, state)
    write_json(run / "metrics.json", metrics)
    run.update_info(status="finished")
    return metrics


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
    shape = tuple(info["dataset"]["shape"])
    stub = Dataset(
        name=info["dataset"]["name"],
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
