"""Data-parallel training with ``torch.distributed``: one run on N processes, as ``torchrun`` or
Slurm (through ``torchrun``) starts them.

``torchrun --nproc_per_node N -m vaebalance train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; :func:`setup` finds them and joins the process group (gloo on a CPU, nccl on
CUDA). One step of B = ``train.batch_size`` examples (the *global* batch) then runs as:

- every process draws the same permutation (same seed) and takes its contiguous shard of
  each batch, b = B / N examples (B must divide by N);
- each process draws the noise of the whole batch and keeps its own rows
  (:attr:`vaebalance.models.VAE.noise_rows`), so z is the same as in one process;
- the batch statistics (rate, distortion, KL per dimension, MSE) are averaged across the
  processes before the balancer sees them (:attr:`ELBOLoss.stats_hook`): every balancer's
  moving averages and controller state then evolve identically, and all processes apply the
  same β at every step;
- the gradients are averaged with one all-reduce per step over a flat buffer, what
  ``DistributedDataParallel`` does, without wrapping the model: the loss module's own
  parameters (a learned decoder σ) are averaged too, and checkpoints hold the plain model.

With equal shards, the mean of the per-process batch means is the global batch mean, so a run
gives the weights of a one-process run with the same batch and seed up to the order of float
additions. The global torch RNG advances identically in every process (and as in one process),
so a checkpoint resumes with any number of processes.

Only process 0 writes (run directory, checkpoints, logs, report): :mod:`vaebalance.runs`
passes the other processes no directory. A process that dies takes the job down: torchrun
stops the others, and a collective that loses its peer fails within ``VAEBALANCE_DIST_TIMEOUT``
seconds (default 60) with a one-line error instead of hanging.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import signal
import threading
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from ..errors import UserError
from ..objective.terms import Stats

TIMEOUT_ENV = "VAEBALANCE_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class World:
    """This process's place in the job: rank of size processes, local_rank on this node."""

    rank: int
    size: int
    local_rank: int = 0
    local_size: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def shard(self, n: int) -> tuple[int, int]:
        """This process's rows [lo, hi) of n: contiguous, sizes differing by at most one."""
        return n * self.rank // self.size, n * (self.rank + 1) // self.size


def from_env(environ=None) -> World | None:
    """The world torchrun (or a launcher setting the same variables) describes; None when this
    is the only process."""
    env = os.environ if environ is None else environ
    size = int(env.get("WORLD_SIZE", "1"))
    if size <= 1:
        return None
    return World(int(env["RANK"]), size, int(env.get("LOCAL_RANK", "0")),
                 int(env.get("LOCAL_WORLD_SIZE", str(size))))  # fmt: skip


def timeout_seconds(environ=None) -> float:
    env = os.environ if environ is None else environ
    text = env.get(TIMEOUT_ENV, "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT_S
    except ValueError:
        value = -1.0
    if not value > 0:
        raise UserError(f"{TIMEOUT_ENV}={text!r} must be a number of seconds > 0")
    return value


def check_batch(world: World, batch_size: int) -> None:
    if batch_size % world.size:
        raise UserError(
            f"train.batch_size={batch_size} is the batch of all {world.size} processes together "
            f"and must divide by {world.size}: use a multiple of {world.size}, e.g. "
            f"{max(world.size, batch_size // world.size * world.size)}"
        )


def setup(
    device: str, threads: int | None, batch_size: int
) -> tuple[World | None, str, int | None]:
    """Join the process group the environment describes (once per process).

    Returns the world (None in one process), the device this process trains on (``cuda`` →
    ``cuda:<local rank>``) and its threads: ``train.threads``, else the node's cores shared
    among its processes (torchrun sets ``OMP_NUM_THREADS=1``, too few for a CPU run).
    """
    world = from_env()
    if world is None:
        return None, device, threads
    check_batch(world, batch_size)
    if not world.main:  # process 0 speaks for the job
        logging.getLogger("vaebalance").setLevel(logging.ERROR)
    cuda = device.startswith("cuda")
    if cuda:  # not checked on a GPU in this project's CI (no GPU there)
        if not torch.cuda.is_available():
            raise UserError(f"train.device is {device!r} but no CUDA device is available")
        device = f"cuda:{world.local_rank}"
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(
            "nccl" if cuda else "gloo", timeout=timedelta(seconds=timeout_seconds())
        )
        atexit.register(_leave)
        if threading.current_thread() is threading.main_thread():
            # torchrun stops the other processes with SIGTERM when one fails: stop like Ctrl-C,
            # so the run is marked interrupted (its last checkpoint resumes).
            signal.signal(signal.SIGTERM, _interrupt)
    if threads is None and not cuda:
        threads = max(1, (os.cpu_count() or 1) // world.local_size)
    return world, device, threads


def _interrupt(signum, frame) -> None:
    # Once: a second SIGTERM while the first is being handled (the run being marked
    # interrupted) would cut that short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def finish() -> None:
    """End this process's part in the job once every process got here: a process that tears
    its group down while a peer still finishes its last collective can abort at exit
    ("terminate called without an active exception"), failing a job that succeeded."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def current() -> World | None:
    """The world of the process group this process has joined; None outside one."""
    if not dist.is_available() or not dist.is_initialized() or dist.get_world_size() == 1:
        return None
    env = from_env()
    local = (env.local_rank, env.local_size) if env is not None else (0, 1)
    return World(dist.get_rank(), dist.get_world_size(), *local)


def is_main() -> bool:
    """True in process 0 of a job, and in a process that is alone."""
    world = current()
    return world is None or world.main


class PeerLost(UserError):
    """Another process of the job stopped, so this one cannot go on."""


def _collective(fn, *args, **kwargs):
    """Run one collective; a peer gone (killed, crashed, timed out) becomes one clear line."""
    try:
        return fn(*args, **kwargs)
    except (RuntimeError, dist.DistError) as e:
        # gloo's text starts with its source location and runs on: keep the first sentence.
        first = re.sub(r"^\[[^\]]*\]\s*", "", (str(e).strip().splitlines() or [""])[0])
        first = first.split(". ")[0][:160]
        world = current()
        where = f"process {world.rank} of {world.size}" if world else "this process"
        raise PeerLost(
            f"{where}: another process of the job stopped or stopped answering ({first}); "
            "the last checkpoint is intact: resume with `vaebalance train --resume RUN` "
            "(with any number of processes)"
        ) from None


class DataParallel:
    """The trainer's hooks for data-parallel training in ``world`` (see the module docstring)."""

    def __init__(self, world: World):
        self.world = world

    def attach(self, model, loss_fn) -> None:
        loss_fn.stats_hook = self.reduce_stats
        self.model = model

    def batch_shard(self, batch_size: int) -> tuple[int, int]:
        """This process's rows of every training batch; its noise follows them."""
        lo, hi = self.world.shard(batch_size)
        return lo, hi

    def noise_rows(self, rows: tuple[int, int] | None) -> None:
        """Draw the noise of a whole batch and keep ``rows`` = (first row, batch size)."""
        if hasattr(self.model, "noise_rows"):
            self.model.noise_rows = rows

    def reduce_stats(self, stats: Stats) -> Stats:
        """The whole batch's statistics: the mean of the processes' equal-shard batch means."""
        flat = torch.cat([stats.rate.reshape(1), stats.distortion.reshape(1),
                          stats.mse_per_element.reshape(1), stats.kl_per_dim])  # fmt: skip
        flat = self.mean(flat)
        return Stats(flat[0], flat[1], flat[3:], flat[2], stats.step)

    def shard(self, n: int) -> tuple[int, int]:
        """This process's examples [lo, hi) of n (an evaluation's share)."""
        return self.world.shard(n)

    def mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """The mean of ``tensor`` over the processes (a new tensor)."""
        return self.sum(tensor).div_(self.world.size)

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The sum of ``tensor`` over the processes (a new tensor on its device)."""
        out = tensor.detach().clone()
        if dist.get_backend() == "nccl" and out.device.type != "cuda":  # nccl: CUDA tensors
            out = out.cuda()
        _collective(dist.all_reduce, out)
        return out.to(tensor.device)

    def average_gradients(self, grads: list[torch.Tensor]) -> None:
        """Replace every gradient by its mean over the processes, in one all-reduce."""
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        _collective(dist.all_reduce, flat)
        flat.div_(self.world.size)
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def broadcast(self, obj):
        """Process 0's ``obj`` (a small picklable value made by this program) in every process."""
        box = [obj]
        _collective(dist.broadcast_object_list, box, src=0)
        return box[0]


def data_parallel() -> DataParallel | None:
    """The hooks for the process group this process has joined; None in one process."""
    world = current()
    return None if world is None else DataParallel(world)
