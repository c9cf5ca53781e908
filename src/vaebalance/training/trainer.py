"""The training loop, written for speed on a CPU and for runs that survive interruption.

One step: index a random batch out of the in-memory dataset, forward, the balanced ELBO,
backward, a fused Adam step. The hot loop never asks the host for a number: epoch statistics
are summed on the device and read once per epoch, and a non-finite loss or gradient skips the
optimizer step through Adam's ``found_inf`` input (the mechanism AMP's GradScaler uses),
counted on the device and checked every few steps.

After each epoch the trainer evaluates the held-out split — validation where the data has
one, else test — (:func:`evaluate_split`), hands the
epoch's records to its trackers and writes a checkpoint; it knows nothing else about run
directories (that is :mod:`vaebalance.runs`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import UserError
from ..models.codes import standardize_codes
from ..objective.kl import moment_kl
from ..schema import EpochRecord
from .build import make_optimizer, steps_per_epoch, total_steps
from .checkpoint import TrainState, save_checkpoint
from .distributed import data_parallel
from .runtime import autocast

CHECK_EVERY = 16  # steps between host reads of the non-finite counter

log = logging.getLogger("vaebalance")


class NonFiniteError(UserError):
    """Training produced only non-finite losses or gradients for too many steps in a row."""


@dataclass
class Hooks:
    """Optional callbacks; the library itself prints nothing."""

    on_start: Callable[[int, int], None] | None = None  # (samples done, samples in all)
    on_samples: Callable[[int], None] | None = None  # called with the batch size, host-only
    # {"train": record, "held_out": record}; the held-out record's split says which it is
    on_epoch_end: Callable[[dict], None] | None = None
    on_checkpoint: Callable[[TrainState], None] | None = None


@dataclass(frozen=True)
class StepStats:
    """The per-step statistics summed over an epoch, in the order of the device tensor."""

    loss: float
    elbo_nats: float
    rate_nats: float
    distortion_nats: float
    mse_per_element: float
    beta: float
    # Of a held-out split only (evaluate_split): how far its codes' moments sit from the prior.
    moment_kl_nats: float | None = None

    WIDTH = 6  # the values a step stacks (stack): the fields above but the last

    @classmethod
    def of(cls, values: list[float], moment_kl_nats: float | None = None) -> StepStats:
        return cls(*values, moment_kl_nats=moment_kl_nats)

    @staticmethod
    def stack(out, mse: torch.Tensor | None = None) -> torch.Tensor:
        """The step's :class:`~vaebalance.objective.LossOutput` as one detached tensor;
        ``mse`` replaces its MSE (e.g. by one in the data's units, :func:`data_units_mse`)."""
        mse = out.mse_per_element if mse is None else mse
        parts = (out.loss, out.elbo, out.rate, out.distortion, mse, out.beta)
        with torch.no_grad():  # one stack, no graph: cheaper than detaching each part
            return torch.stack(parts).float()


@torch.no_grad()
def data_units_mse(data, likelihood, x, output) -> torch.Tensor | None:
    """MSE per element of the decoder mean in the data's units, mean_d s_d² (x̂_d − x_d)², for
    standardized data; None otherwise (the loss's own MSE is already in the data's units)."""
    if data.standardization is None:
        return None
    err = (likelihood.mean(output) - x) * data.standardization.std
    return err.pow(2).mean()


class Trainer:
    """Trains ``model`` with ``loss_fn`` on ``data`` as configured; ``fit`` runs to the end.

    Args:
        cfg: the resolved run config.
        checkpoint_dir: where a checkpoint is written after every epoch (None: nowhere).
        hooks: progress callbacks.
    """

    def __init__(self, cfg, data, model, loss_fn, device, checkpoint_dir: Path | None = None,
                 hooks: Hooks | None = None):  # fmt: skip
        if data.standardization is not None:  # statistics on the device, not copied per batch
            data = data.standardized(data.standardization.to(device))
        self.cfg, self.data, self.device = cfg, data, device
        self.model, self.loss_fn = model.to(device), loss_fn.to(device)
        self.optimizer = make_optimizer(cfg, self.model, self.loss_fn)
        self._params = [p for g in self.optimizer.param_groups for p in g["params"]]
        self._one = torch.ones((), device=device)  # the unscale factor of the non-finite check
        self.batch_rng = torch.Generator().manual_seed(cfg.train.seed)
        self.checkpoint_dir, self.hooks = checkpoint_dir, hooks or Hooks()
        self.state = TrainState()
        self.train_x = data.train.to(device)
        self.held_out_split, held_out = data.held_out
        self.held_out_x = held_out.to(device)
        self.steps_per_epoch = steps_per_epoch(cfg, len(self.train_x))
        self.total_steps = total_steps(cfg, len(self.train_x))
        # Under torchrun: this process's shard of each batch, averaged statistics and gradients.
        self.parallel = data_parallel()
        if self.parallel is not None:
            self.parallel.attach(self.model, self.loss_fn)

    @property
    def done(self) -> bool:
        return self.state.step >= self.total_steps

    def fit(self, trackers=()) -> TrainState:
        """Train to ``total_steps``; each epoch's records go to every tracker."""
        self._warn_short_schedule()
        if self.hooks.on_start:
            b = self.cfg.train.batch_size
            self.hooks.on_start(self.state.step * b, self.total_steps * b)
        while not self.done:
            start = time.perf_counter()
            train_stats, skipped = self.train_epoch()
            if self.done and self.cfg.train.standardize_codes:
                self._standardize_codes()
            train_seconds = time.perf_counter() - start
            held_out = evaluate_split(self.model, self.loss_fn, self.data, self.held_out_x,
                                      self.cfg, self.parallel)  # fmt: skip
            elapsed = time.perf_counter() - start
            self.state.seconds += elapsed
            self.state.epoch += 1
            records = self._records(train_stats, skipped, held_out, elapsed, train_seconds)
            self.state.history += [r.to_json() for r in records]
            if self.hooks.on_epoch_end:
                self.hooks.on_epoch_end({"train": records[0], "held_out": records[1]})
            for tracker in trackers:
                tracker.log_epoch(self.state, records, self.model, self.loss_fn.likelihood)
            if self.checkpoint_dir is not None:
                self._checkpoint()
        return self.state

    @torch.no_grad()
    def _standardize_codes(self) -> None:
        """Move the training split's codes onto the prior's moments (:mod:`..models.codes`):
        the rate falls by their moment KL and nothing decoded changes. Every process holds the
        whole training split; the moments are averaged across processes all the same, so the
        models stay equal bit for bit whatever the kernels' reduction order."""
        self.model.eval()
        sums = torch.zeros(3, self.model.latent_dim, dtype=torch.float64, device=self.device)
        for start in range(0, len(self.train_x), self.cfg.eval.batch_size):
            x = self.data.to_float(self.train_x[start : start + self.cfg.eval.batch_size])
            mu, logvar = self.model.encode(x)
            sums += _code_sums(mu, logvar)
        if self.parallel:
            sums = self.parallel.mean(sums)
        mean, spread = _code_moments(sums, len(self.train_x))
        before = moment_kl(mean, spread)
        standardize_codes(self.model, mean, spread)
        log.info("codes standardized: the rate fell by their moment KL, %.4g nats", before)

    def _warn_short_schedule(self) -> None:
        """A warm-up (or any schedule) longer than the run never finishes: say so up front."""
        n = self.loss_fn.balancer.schedule_steps()
        if n is not None and n > self.total_steps and not self.done:
            log.warning(
                "the %s balancer's schedule takes %d steps but the run has %d: it will stop %.0f%% "
                "of the way; raise train.epochs or shorten the schedule (balancer.steps)",
                self.cfg.balancer.name, n, self.total_steps, 100 * self.total_steps / n,
            )  # fmt: skip

    def _checkpoint(self) -> None:
        save_checkpoint(self.checkpoint_dir, self.state, self.model, self.loss_fn,
                        self.optimizer, self.batch_rng)  # fmt: skip
        if self.hooks.on_checkpoint:
            self.hooks.on_checkpoint(self.state)

    def train_epoch(self) -> tuple[StepStats, int]:
        """One pass over a fresh permutation (the last partial batch is dropped): the epoch's
        mean statistics and the number of non-finite steps skipped."""
        self.model.train()
        self.loss_fn.train()
        b, dev = self.cfg.train.batch_size, self.device
        lo, hi = self.parallel.batch_shard(b) if self.parallel else (0, b)  # this process's rows
        perm = torch.randperm(len(self.train_x), generator=self.batch_rng).to(dev)
        steps = min(self.steps_per_epoch, self.total_steps - self.state.step)
        # Each step writes its statistics and its skip flag into a row of these (two device
        # copies, no host read); sums, skip counts and runs are worked out from them in bulk.
        # Fewer small ops per step is what keeps a tiny model's step cheap.
        rows = torch.zeros(steps, StepStats.WIDTH, device=dev)
        flags = torch.zeros(steps, device=dev)
        found_inf = torch.zeros((), device=dev)
        self.optimizer.found_inf = found_inf
        # Consecutive non-finite steps, continued across epochs, and the longest such run seen
        # since the last host check: a run that ends between two checks must still stop.
        run, checked = self.state.bad_run, 0
        if self.parallel:
            self.parallel.noise_rows((lo, b))
        try:
            for i in range(steps):
                x = self.data.to_float(self.train_x[perm[i * b + lo : i * b + hi]])
                rows[i] = self._step(x, found_inf)
                flags[i] = found_inf
                if (i + 1) % CHECK_EVERY == 0 or i == steps - 1:
                    run = self._check_bad_run(flags[checked : i + 1], run, self.state.step + i + 1)
                    checked = i + 1
                if self.hooks.on_samples:
                    self.hooks.on_samples(b)
        finally:
            del self.optimizer.found_inf
            if self.parallel:
                self.parallel.noise_rows(None)
        self.state.step += steps
        n_bad = int(flags.sum())
        self.state.bad_steps += n_bad
        self.state.bad_run = run
        # Skipped steps count for nothing (their NaN would poison the sums).
        sums = (torch.nan_to_num(rows) * (1.0 - flags)[:, None]).sum(0)
        if self.parallel:  # the same on every process but for data_units_mse
            sums = self.parallel.mean(sums)
        # An epoch whose every step was skipped has no statistics (NaN: an empty CSV cell).
        means = sums / (steps - n_bad) if n_bad < steps else torch.full_like(sums, math.nan)
        return StepStats.of(means.tolist()), n_bad

    def _step(self, x, found_inf) -> torch.Tensor:
        with autocast(self.device, self.cfg.train.precision):
            output, mu, logvar = self.model(x)
        out = self.loss_fn(x, output.float(), mu.float(), logvar.float())
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        found_inf.zero_()
        grads = [p.grad for p in self._params if p.grad is not None]
        # Sets found_inf to 1 if any gradient is inf/NaN (a NaN loss gives NaN gradients).
        if self.parallel:  # averaged first: every process then skips the same steps
            self.parallel.average_gradients(grads)
        torch._amp_foreach_non_finite_check_and_unscale_(grads, found_inf, self._one)
        self.optimizer.step()
        mse = data_units_mse(self.data, self.loss_fn.likelihood, x, output.float())
        return StepStats.stack(out, mse)

    def _check_bad_run(self, flags, run: int, step: int) -> int:
        """Carry the run of consecutive skipped steps through ``flags`` (one host read) and
        stop training if it reached ``train.max_bad_steps`` anywhere; the run at the end."""
        worst = run
        for bad in flags.tolist():
            run = run + 1 if bad else 0
            worst = max(worst, run)
        n = worst
        if n >= self.cfg.train.max_bad_steps:
            raise NonFiniteError(
                f"training stopped at step {step}: {n} consecutive steps had a non-finite loss "
                f"or gradient (train.max_bad_steps={self.cfg.train.max_bad_steps}); likely "
                f"causes: a learning rate too high (train.lr={self.cfg.train.lr:g}), a decoder "
                "scale collapsing (a learned σ near its clip), an extreme β from the "
                f"{self.cfg.balancer.name!r} balancer, or NaN/inf in the data; the saved weights "
                "are the last finite ones"
            )
        return run

    def _records(self, train_stats, skipped, held_out, elapsed, train_seconds):
        balancer, status = self._balancer_summary()
        met = None if status is None else status.met
        common = dict(epoch=self.state.epoch, step=self.state.step, seconds=elapsed,
                      balancer=balancer, target_met=met,
                      log_det=self.data.log_det_nats)  # fmt: skip
        return [
            _record(train_stats, split="train", **common, skipped_steps=skipped,
                    train_seconds=train_seconds),
            _record(held_out, split=self.held_out_split, **common),
        ]  # fmt: skip

    def _balancer_summary(self):
        """The balancer's report and its verdict on its target, read once per epoch."""
        balancer = self.loss_fn.balancer
        summary = dict(balancer.report())
        status = balancer.status()
        if status is not None and status.infeasible:
            log.warning(
                "epoch %d: the %s balancer's %s sits at its bound (%.4g) and its %s "
                "(%.4g, reaching %s) looks infeasible",
                self.state.epoch, self.cfg.balancer.name, status.multiplier[0],
                status.multiplier[1], status.target, status.value, _fmt(status.reached),
            )  # fmt: skip
        self.state.balancer_report = summary
        self.state.balancer_status = None if status is None else status.to_json()
        return summary, status


def _record(stats: StepStats, log_det: float, **fields) -> EpochRecord:
    """The record of one split; ``log_det`` (Σ log s_d of standardized data, else 0) puts the
    NLL terms in the data's units, as in ``metrics.json`` (the MSE already is, through
    :func:`data_units_mse`; the balancers still see the MSE of what the model sees)."""
    return EpochRecord(loss=stats.loss + log_det, elbo_nats=stats.elbo_nats - log_det,
                       rate_nats=stats.rate_nats, distortion_nats=stats.distortion_nats + log_det,
                       mse_per_element=stats.mse_per_element, beta=stats.beta,
                       moment_kl_nats=stats.moment_kl_nats, **fields)  # fmt: skip


def _fmt(value) -> str:
    return "?" if value is None else f"{value:.4g}"


@torch.no_grad()
def evaluate_split(model, loss_fn, data, x_all, cfg, parallel=None) -> StepStats:
    """Batch-mean statistics of the (β-)ELBO on a split, without touching the training RNG.

    With ``parallel`` (:class:`~.distributed.DataParallel`) each process evaluates its shard of
    every batch, with that batch's noise rows, and the sums are added across processes."""
    model.eval()
    loss_fn.eval()
    sums = torch.zeros(StepStats.WIDTH, device=x_all.device)
    codes = torch.zeros(3, model.latent_dim, dtype=torch.float64, device=x_all.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.train.seed + 1)
        for start in range(0, len(x_all), cfg.eval.batch_size):
            batch = x_all[start : start + cfg.eval.batch_size]
            lo, hi = parallel.world.shard(len(batch)) if parallel else (0, len(batch))
            if parallel:
                parallel.noise_rows((lo, len(batch)))
            if hi > lo:  # a batch smaller than the world leaves some processes nothing
                batch_sums, batch_codes = _split_sums(model, loss_fn, data,
                                                      data.to_float(batch[lo:hi]))  # fmt: skip
                sums += batch_sums
                codes += batch_codes
            elif parallel:
                torch.randn(len(batch), model.latent_dim, device=x_all.device)  # as the others
    if parallel:
        parallel.noise_rows(None)
        sums, codes = parallel.sum(sums), parallel.sum(codes)
    return StepStats.of((sums / len(x_all)).tolist(), moment_kl(*_code_moments(codes, len(x_all))))


def _code_sums(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Σ μ, Σ μ², Σ σ² per latent dim ([3, J], float64: the variance is a difference)."""
    mu = mu.double()
    return torch.stack([mu.sum(0), (mu * mu).sum(0), logvar.double().exp().sum(0)])


def _code_moments(sums: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The aggregate posterior's mean and variance per dim, Var μ + E σ², from those sums."""
    mean_mu, mean_mu2, mean_var = (sums / n).unbind(0)
    return mean_mu, (mean_mu2 - mean_mu * mean_mu).clamp(min=0) + mean_var


def _split_sums(model, loss_fn, data, x) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's summed statistics, and its Σ μ, Σ μ², Σ σ² per latent dim."""
    output, mu, logvar = model(x)
    out = loss_fn(x, output.float(), mu.float(), logvar.float())
    mse = data_units_mse(data, loss_fn.likelihood, x, output.float())
    return StepStats.stack(out, mse) * len(x), _code_sums(mu, logvar)
