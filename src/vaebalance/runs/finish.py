"""The end of a run: its final test metrics with the facts of its training."""

from __future__ import annotations

from ..evaluation.evaluate import evaluate_dataset
from ..schema import RunMetrics
from ..training import Trainer
from ..training.checkpoint import TrainState


def final_metrics(trainer: Trainer, state: TrainState) -> RunMetrics:
    """Test metrics at the end of training, with the run's facts and the balancer's verdict."""
    cfg, likelihood = trainer.cfg, trainer.loss_fn.likelihood
    evaluation = evaluate_dataset(
        trainer.model,
        likelihood,
        trainer.data,
        iw_samples=cfg.eval.iw_samples,
        batch_size=cfg.eval.batch_size,
        seed=cfg.train.seed,
        factor_metrics=cfg.eval.factor_metrics,
        intervention_batches=cfg.eval.intervention_batches,
        share=trainer.parallel,  # under torchrun each process measures its shard of the IWAE
    )
    balancer = trainer.loss_fn.balancer
    status = state.balancer_status
    if status is None and (now := balancer.status()) is not None:
        status = now.to_json()
    schedule = balancer.schedule_steps()
    completed = None if schedule is None else min(1.0, state.step / max(schedule, 1))
    return RunMetrics.from_json(evaluation.to_json()).replace(
        schedule_steps=schedule,
        schedule_completed=completed,
        epochs=state.epoch,
        steps=state.step,
        skipped_steps=state.bad_steps,
        train_seconds=state.seconds,
        likelihood=likelihood.name,
        balancer=cfg.balancer.name,
        balancer_state=state.balancer_report or balancer.report(),
        target_status=status,
        target_met=None if status is None else status["met"],
        decoder_scale=likelihood.decoder_scale,
        decoder_scale_kind=likelihood.scale_kind,
    )
