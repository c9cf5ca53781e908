"""One run of a sweep as a worker runs it: train (or resume) and hand back its ``sweep.csv`` row.

Everything here must be picklable and importable by a fresh (spawned) process: a
:class:`Task` carries the run's whole config as a plain dict, and :func:`run_task` never
raises for a failing run: the failure becomes the row, so one bad grid value cannot stop the
others. What should follow a finished run (writing its report) is the caller's
``after_run``, a module-level function the worker calls with the run's directory.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import RunConfig
from ..errors import UserError
from ..runs import CHECKPOINT_DIR, RunDir, resume, train
from ..schema import SweepRow
from ..training import NonFiniteError

log = logging.getLogger("vaebalance")


@dataclass(frozen=True)
class Task:
    """What a worker needs to do one run: its name, varied values, directory and config, and
    what to do with the run once it has finished."""

    name: str
    values: dict[str, str]
    path: str
    config: dict
    after_run: Callable[[Path], object] | None = None


def make_row(task: Task, status: str, metrics, wall: float | None, error: str = "") -> SweepRow:
    """The run's ``sweep.csv`` row: name, varied values, status, metrics, wall time, error."""
    return SweepRow.of(task.name, task.values, status, metrics, wall, error)


def run_task(task: Task) -> SweepRow:
    """Train (or finish) one run and return its row; a failure is returned, not raised."""
    start = time.perf_counter()
    try:
        metrics = _train_or_resume(task)
    except Exception as e:  # any failure of one run is that run's result; the sweep goes on
        return make_row(task, "failed", {}, time.perf_counter() - start, one_line(e))
    wall = time.perf_counter() - start
    if task.after_run is not None:
        task.after_run(Path(task.path))
    return make_row(task, "finished", metrics, wall)


def one_line(error: BaseException) -> str:
    """A user error's own sentence; anything else with its type, so a bug reads as one."""
    text = " ".join(str(error).split())
    return text if isinstance(error, UserError) else f"{type(error).__name__}: {text}"


def _train_or_resume(task: Task):
    path = Path(task.path)
    cfg = RunConfig.from_dict(task.config)
    if _resumable(path):
        try:
            return resume(path, {"train.threads": cfg.train.threads})[1]
        except NonFiniteError:
            raise
        except Exception as e:  # a damaged checkpoint or record: the run starts over
            log.warning("run %s cannot be resumed (%s); starting it over", task.name, one_line(e))
    if path.exists():
        shutil.rmtree(path)  # a run left without a checkpoint has nothing worth keeping
    return train(cfg, path)[1]


def _resumable(path: Path) -> bool:
    run = RunDir(path)
    if not (run.is_run() and (path / CHECKPOINT_DIR / "latest.json").is_file()):
        return False
    try:
        status = str(run.info().get("status", ""))
    except Exception:  # an unreadable run.json: not resumable, start over
        return False
    return not status.startswith("failed")
