"""The training loop, written for speed on a CPU and for runs that survive interruption.

One step (see DESIGN.md): index a random batch out of the in-memory dataset, forward, the
balanced ELBO, backward, a fused Adam step. The hot loop never asks the host for a number:
epoch statistics are summed on the device and read once per epoch, and a non-finite loss or
gradient skips the optimizer step through Adam's ``found_inf`` input (the mechanism AMP's
GradScaler uses), counted on the device and checked every few steps.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .. import balancers, likelihoods
from ..config import RunConfig
from ..data import Dataset
from ..errors import UserError
from ..models import VAE, build_model
from ..objective.elbo import ELBOLoss
from ..runs import HISTORY, RunDir, write_csv
from .checkpoint import TrainState, save_checkpoint
from .runtime import autocast
from .trackers import TensorBoardTracker

# Per-step statistics summed over an epoch, in this order (weighted by batch size).
STAT_NAMES = ("loss", "elbo_nats", "rate_nats", "distortion_nats", "mse_per_element", "beta")
CHECK_EVERY = 16  # steps between host reads of the non-finite counter


log = logging.getLogger("vaebalance")


class NonFiniteError(UserError):
    """Training produced only non-finite losses or gradients for too many steps in a row."""


def resolve_likelihood(cfg: RunConfig, data: Dataset) -> None:
    """Turn ``likelihood.name = "auto"`` into a concrete choice, recorded in the config."""
    if cfg.likelihood.name != "auto":
        return
    sample = data.train[: min(len(data.train), 10_000)]
    binary = bool(((sample == 0) | (sample == (255 if data.eight_bit else 1))).all())
    cfg.likelihood.name = "bernoulli" if binary else "gaussian-learned"


def resolve_initial_sigma(cfg: RunConfig, data: Dataset) -> None:
    """Start a learned σ at the data's standard deviation unless the user chose one.

    That is the maximum-likelihood σ of a decoder that predicts the mean image, i.e. a
    calibrated start; starting at σ = 1 on [0, 1] data weights the KL so heavily that the
    posterior collapses long before the single log σ parameter has learned its way down.
    """
    if cfg.likelihood.name != "gaussian-learned" or "sigma" in cfg.likelihood.params:
        return
    x = data.to_float(data.train[: min(len(data.train), 10_000)])
    std = float(x.var(0, unbiased=False).mean().sqrt())
    cfg.likelihood.params["sigma"] = round(max(std, 1e-3), 4)


def build(cfg: RunConfig, data: Dataset) -> tuple[VAE, ELBOLoss]:
    """The model and loss for ``cfg``; all component errors surface here, before any file."""
    resolve_likelihood(cfg, data)
    resolve_initial_sigma(cfg, data)
    likelihood = likelihoods.get(cfg.likelihood.name, **cfg.likelihood.params)
    model = build_model(cfg.model, data.shape, likelihood.outputs_per_element)
    balancer = balancers.get(cfg.balancer.name, **cfg.balancer.params)
    loss_fn = ELBOLoss(likelihood, balancer, validate=False)
    loss_fn.bind(data.input_dim, cfg.model.latent_dim)
    return model, loss_fn


def make_optimizer(cfg: RunConfig, model: nn.Module, loss_fn: nn.Module) -> torch.optim.Adam:
    t = cfg.train
    params = [*model.parameters(), *loss_fn.parameters()]
    return torch.optim.Adam(
        params, lr=t.lr, betas=tuple(t.betas), weight_decay=t.weight_decay, fused=True
    )


@dataclass
class Hooks:
    """Optional callbacks; the library itself prints nothing."""

    on_start: Callable[[int, int], None] | None = None  # (samples done, samples in all)
    on_samples: Callable[[int], None] | None = None  # called with the batch size, host-only
    on_epoch_end: Callable[[dict], None] | None = None  # called with {"train": row, "test": row}
    on_checkpoint: Callable[[TrainState], None] | None = None


class Trainer:
    """Trains ``model`` with ``loss_fn`` on ``data`` as configured; ``fit`` runs to the end."""

    def __init__(self, cfg, data, model, loss_fn, device, run: RunDir | None = None, hooks=None):
        self.cfg, self.data, self.device = cfg, data, device
        self.model, self.loss_fn = model.to(device), loss_fn.to(device)
        self.optimizer = make_optimizer(cfg, self.model, self.loss_fn)
        self.batch_rng = torch.Generator().manual_seed(cfg.train.seed)
        self.run, self.hooks = run, hooks or Hooks()
        self.tracker = None  # created when training starts, not before a resume has loaded
        self.state = TrainState()
        self.train_x = data.train.to(device)
        self.test_x = data.test.to(device)
        self.steps_per_epoch = max(1, len(self.train_x) // cfg.train.batch_size)
        t = cfg.train
        self.total_steps = t.steps or t.epochs * self.steps_per_epoch

    def fit(self) -> TrainState:
        left = self.state.step < self.total_steps
        if self.run is not None and self.cfg.train.tensorboard and left:
            self.tracker = TensorBoardTracker.create(self.run / "tensorboard", self.data)
        if self.hooks.on_start:
            b = self.cfg.train.batch_size
            self.hooks.on_start(self.state.step * b, self.total_steps * b)
        while self.state.step < self.total_steps:
            start = time.perf_counter()
            train_row = self.train_epoch()
            test_row = evaluate_split(self.model, self.loss_fn, self.data, self.test_x, self.cfg)
            elapsed = time.perf_counter() - start
            self.state.seconds += elapsed
            self.state.epoch += 1
            rows = self._rows(train_row, test_row, elapsed)
            self.state.history += rows
            if self.hooks.on_epoch_end:
                self.hooks.on_epoch_end({"train": rows[0], "test": rows[1]})
            if self.run is not None:
                self._save(rows)
        if self.tracker:
            self.tracker.close()
        return self.state

    def _save(self, rows) -> None:
        if self.tracker:
            split_rows = {"train": rows[0], "test": rows[1]}
            self.tracker.log_epoch(split_rows, self.state.step, self.model, self.loss_fn.likelihood)
        write_csv(self.run / HISTORY, self.state.history)
        save_checkpoint(
            self.run.checkpoint_dir,
            self.state,
            self.model,
            self.loss_fn,
            self.optimizer,
            self.batch_rng,
        )
        if self.hooks.on_checkpoint:
            self.hooks.on_checkpoint(self.state)

    def train_epoch(self) -> dict:
        """One pass over a fresh permutation (the last partial batch is dropped)."""
        self.model.train()
        self.loss_fn.train()
        b, dev = self.cfg.train.batch_size, self.device
        perm = torch.randperm(len(self.train_x), generator=self.batch_rng).to(dev)
        steps = min(self.steps_per_epoch, self.total_steps - self.state.step)
        sums = torch.zeros(len(STAT_NAMES), device=dev)
        found_inf = torch.zeros((), device=dev)
        # Consecutive non-finite steps, continued across epochs, and the longest such run seen:
        # a run that ends between two host checks must still stop training.
        bad_run = torch.full((), float(self.state.bad_run), device=dev)
        worst_run = bad_run.clone()
        bad_total = torch.zeros((), device=dev)
        self.optimizer.found_inf = found_inf
        try:
            for i in range(steps):
                x = self.data.to_float(self.train_x[perm[i * b : (i + 1) * b]])
                stats = self._step(x, found_inf)
                good = 1.0 - found_inf
                sums += torch.nan_to_num(stats) * good
                bad_run.mul_(found_inf).add_(found_inf)
                torch.maximum(worst_run, bad_run, out=worst_run)
                bad_total += found_inf
                if (i + 1) % CHECK_EVERY == 0 or i == steps - 1:
                    self._check_bad_run(worst_run, self.state.step + i + 1)
                if self.hooks.on_samples:
                    self.hooks.on_samples(len(x))
        finally:
            del self.optimizer.found_inf
        self.state.step += steps
        n_bad = int(bad_total)
        self.state.bad_steps += n_bad
        self.state.bad_run = int(bad_run)
        # An epoch whose every step was skipped has no statistics (NaN: an empty CSV cell).
        means = sums / (steps - n_bad) if n_bad < steps else torch.full_like(sums, math.nan)
        row = dict(zip(STAT_NAMES, means.tolist()))
        row["skipped_steps"] = n_bad
        return row

    def _step(self, x, found_inf) -> torch.Tensor:
        with autocast(self.device, self.cfg.train.precision):
            output, mu, logvar = self.model(x)
        out = self.loss_fn(x, output.float(), mu.float(), logvar.float())
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        found_inf.zero_()
        grads = [
            p.grad for g in self.optimizer.param_groups for p in g["params"] if p.grad is not None
        ]
        # Sets found_inf to 1 if any gradient is inf/NaN (a NaN loss gives NaN gradients).
        torch._amp_foreach_non_finite_check_and_unscale_(
            grads, found_inf, torch.ones((), device=x.device)
        )
        self.optimizer.step()
        return torch.stack(
            [
                out.loss.detach(),
                out.elbo.detach(),
                out.rate.detach(),
                out.distortion.detach(),
                out.mse_per_element,
                out.beta.detach().float(),
            ]
        )

    def _check_bad_run(self, worst_run, step: int) -> None:
        n = int(worst_run)
        if n >= self.cfg.train.max_bad_steps:
            raise NonFiniteError(
                f"training stopped at step {step}: {n} consecutive steps had a non-finite loss "
                f"or gradient (train.max_bad_steps={self.cfg.train.max_bad_steps}); likely "
                f"causes: a learning rate too high (train.lr={self.cfg.train.lr:g}), a decoder "
                "scale collapsing (a learned σ near its clip), an extreme β from the "
                f"{self.cfg.balancer.name!r} balancer, or NaN/inf in the data; the saved weights "
                "are the last finite ones"
            )

    def _rows(self, train_row: dict, test_row: dict, elapsed: float) -> list[dict]:
        common = {"epoch": self.state.epoch, "step": self.state.step}
        rows = [
            {**common, "split": "train", **train_row, "seconds": elapsed},
            {**common, "split": "test", **test_row, "seconds": elapsed},
        ]
        report = self.loss_fn.balancer.report()
        # A controller pinned at its clamp for a whole epoch cannot reach its target.
        pinned = report.get("at_clamp_steps", 0) >= self.steps_per_epoch
        if pinned:
            report["target_met"] = False
            log.warning(
                "epoch %d: the %s balancer's multiplier sat at its clamp for the whole epoch; "
                "its target looks infeasible (%s)",
                self.state.epoch,
                self.cfg.balancer.name,
                ", ".join(f"{k}={v}" for k, v in report.items() if k.startswith("target")),
            )
        self.state.balancer_report = report
        for row in rows:
            row.update({f"balancer_{k}": v for k, v in report.items() if _scalar(v)})
        return rows


def _scalar(v) -> bool:
    return isinstance(v, (int, float, bool)) and not isinstance(v, str)


@torch.no_grad()
def evaluate_split(model, loss_fn, data, x_all, cfg) -> dict:
    """Batch-mean statistics of the (β-)ELBO on a split, without touching the training RNG."""
    model.eval()
    loss_fn.eval()
    sums = torch.zeros(len(STAT_NAMES), device=x_all.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.train.seed + 1)
        for start in range(0, len(x_all), cfg.eval.batch_size):
            x = data.to_float(x_all[start : start + cfg.eval.batch_size])
            output, mu, logvar = model(x)
            out = loss_fn(x, output.float(), mu.float(), logvar.float())
            stats = torch.stack(
                [
                    out.loss,
                    out.elbo,
                    out.rate,
                    out.distortion,
                    out.mse_per_element,
                    out.beta.float(),
                ]
            )
            sums += stats * len(x)
    return dict(zip(STAT_NAMES, (sums / len(x_all)).tolist()))
