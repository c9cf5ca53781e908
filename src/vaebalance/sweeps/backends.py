"""Where a sweep's runs execute: worker processes on this machine, or a Ray cluster.

A backend takes the tasks, a worker count and a callback, and calls the callback in *this*
process with each run's row as soon as that run ends, in whatever order runs end; the caller
writes ``sweep.csv`` from there, so only one process ever writes it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from functools import partial
from pathlib import Path

from ..errors import UserError, unknown_choice
from ..schema import SweepRow
from .worker import Task, make_row, one_line, run_task

OnRow = Callable[[SweepRow], None]
WORKER_DIED = "a worker process died before this run ended; repeat the sweep to complete it"
WORKER_LOST = "the Ray worker or node running this run was lost; repeat the sweep to complete it"
Backend = Callable[[list[Task], int, OnRow], None]


def run_local(tasks: list[Task], workers: int, on_row: OnRow) -> None:
    """Run the tasks in ``workers`` spawned processes (in this process when ``workers`` is 1).

    Spawn, not fork: a forked child inherits torch's thread pools and locks mid-state, and
    fork is unsafe once threads exist; a fresh interpreter costs a second of imports per
    worker, once.

    Workers ignore SIGINT: an interrupt (Ctrl-C to the process group, or SIGINT to this
    process alone from ``timeout`` or a scheduler) is handled here, once, by stopping every
    worker; their runs resume from their checkpoints when the sweep is repeated.
    """
    if workers <= 1:
        for task in tasks:
            on_row(run_task(task))
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_sigint)
    try:
        futures = {pool.submit(run_task, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                row = future.result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory): its run and those queued behind it
                # did not end. Re-running the sweep resumes them from their checkpoints.
                row = make_row(futures[future], "incomplete", {}, None, WORKER_DIED)
            except Exception as e:
                row = make_row(futures[future], "failed", {}, None, one_line(e))
            on_row(row)
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the workers now (their runs keep their last checkpoint) and the pool after them.

    Waiting for running runs to finish would hang an interrupted sweep for as long as a run
    takes; the executor has no public handle on its processes, hence ``_processes``.
    """
    processes = list((pool._processes or {}).values())
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def run_ray(tasks: list[Task], workers: int, on_row: OnRow, address: str | None = None) -> None:
    """Run the tasks as Ray tasks on the cluster at ``address`` (``"auto"``: the one
    ``ray start`` began on this machine; ``"ray://HOST:PORT"``: a remote one through Ray
    Client; None: ``RAY_ADDRESS``, else a Ray started here for this sweep). A Ray already
    initialised in this process (``ray.init(...)`` in a notebook or a test) is used as is.

    Each run asks Ray for as many CPUs as its ``train.threads`` (and one GPU when it trains on
    CUDA); Ray decides how many run at once, so ``workers`` does not apply. Run directories are
    written by the workers: on a cluster the sweep directory must be on a file system every
    node shares (its path is made absolute here). A run whose worker or node is lost (Ray's
    system errors: a crashed worker, a dead node, out of memory) is ``incomplete`` and a
    repeated sweep resumes it from its checkpoint; Ray does not retry it by itself
    (``max_retries=0``), so one sweep never runs a run twice at once.
    """
    import ray  # optional: the [ray] extra, checked by get_backend

    connect_ray(address)
    remote = ray.remote(run_task)
    remotes = {}
    for task in tasks:
        task = replace(task, path=str(Path(task.path).resolve()))
        train = task.config["train"]
        gpus = 1 if str(train.get("device", "cpu")).startswith("cuda") else 0
        options = dict(num_cpus=train.get("threads") or 1, num_gpus=gpus, max_retries=0)
        remotes[remote.options(**options).remote(task)] = task
    pending = list(remotes)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            on_row(_ray_row(ray, done[0], remotes[done[0]]))
    except BaseException:
        for ref in pending:  # an interrupted sweep: its runs resume when it is repeated
            ray.cancel(ref, force=True)
        raise


def connect_ray(address: str | None) -> None:
    """Join the Ray cluster at ``address`` (see :func:`run_ray`) unless Ray is initialised; a
    cluster that cannot be reached is one line, before the sweep writes anything."""
    import ray

    if ray.is_initialized():
        return
    where = address or os.environ.get("RAY_ADDRESS")
    try:
        if where is None:
            ray.init(include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    except Exception as e:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
        why = " ".join(str(e).split())[:200]
        what = f"connect to the Ray cluster at {where!r}" if where else "start a local Ray"
        raise UserError(
            f"cannot {what} ({type(e).__name__}: {why}); start one with `ray start --head` "
            "and give --address auto, or ray://HOST:10001 for a remote one"
        ) from None


def _ray_row(ray, ref, task: Task) -> SweepRow:
    """The run's row; an error of Ray's own (not of the run) leaves the run incomplete."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:  # raised by the task's code itself
        return make_row(task, "failed", {}, None, one_line(e.cause or e))
    except ray.exceptions.RayError as e:  # worker crashed, node died, out of memory, cancelled
        why = " ".join(str(e).split())[:200]
        return make_row(task, "incomplete", {}, None, f"{WORKER_LOST} ({type(e).__name__}: {why})")


BACKENDS: dict[str, Backend] = {"local": run_local, "ray": run_ray}


def get_backend(name: str, address: str | None = None) -> Backend:
    """The named backend; checks its dependency now, before any run starts. ``address`` is
    the Ray cluster's (``--address``), for the ray backend only."""
    if name not in BACKENDS:
        raise unknown_choice("backend", name, BACKENDS)
    if address is not None and name != "ray":
        raise UserError(f"--address {address} is a Ray cluster's address: add --backend ray")
    if name == "ray":
        try:
            import ray  # noqa: F401  (optional: the [ray] extra)
        except ImportError:
            raise UserError(
                "--backend ray needs the ray package: pip install 'vaebalance[ray]'"
            ) from None
        connect_ray(address)
        return partial(run_ray, address=address)
    return BACKENDS[name]
