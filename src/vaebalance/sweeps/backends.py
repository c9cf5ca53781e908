"""Where a sweep's runs execute: worker processes on this machine, or a Ray cluster.

A backend takes the tasks, a worker count and a callback, and calls the callback in *this*
process with each run's row as soon as that run ends, in whatever order runs end; the caller
writes ``sweep.csv`` from there, so only one process ever writes it.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from ..errors import UserError, unknown_choice
from ..schema import SweepRow
from .worker import Task, make_row, one_line, run_task

OnRow = Callable[[SweepRow], None]
WORKER_DIED = "a worker process died before this run ended; repeat the sweep to complete it"
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


def run_ray(tasks: list[Task], workers: int, on_row: OnRow) -> None:
    """Run the tasks as Ray tasks (on the cluster ``RAY_ADDRESS`` names, else a local one).

    Each task asks Ray for as many CPUs as its ``train.threads``; Ray decides how many run at
    once. Run directories are written by the workers, so on a cluster the sweep directory must
    be on a file system every node shares.
    """
    import ray  # optional: the [ray] extra, checked by get_backend

    ray.init(ignore_reinit_error=True)
    remote = ray.remote(run_task)
    remotes = {}
    for task in tasks:
        cpus = task.config["train"].get("threads") or 1
        remotes[remote.options(num_cpus=cpus).remote(task)] = task
    pending = list(remotes)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        try:
            row = ray.get(done[0])
        except Exception as e:  # the Ray worker died
            row = make_row(remotes[done[0]], "failed", {}, None, one_line(e))
        on_row(row)


BACKENDS: dict[str, Backend] = {"local": run_local, "ray": run_ray}


def get_backend(name: str) -> Backend:
    """The named backend; checks its dependency now, before any run starts."""
    if name not in BACKENDS:
        raise unknown_choice("backend", name, BACKENDS)
    if name == "ray":
        try:
            import ray  # noqa: F401  (optional: the [ray] extra)
        except ImportError:
            raise UserError(
                "--backend ray needs the ray package: pip install 'vaebalance[ray]'"
            ) from None
    return BACKENDS[name]
