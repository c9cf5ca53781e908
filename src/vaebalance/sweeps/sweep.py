"""A resumable sweep: one run directory per grid point, ``sweep.csv`` and ``sweep.json``.

Layout of a sweep directory::

    sweep.json      the base config and the grid: what makes two commands "the same sweep"
    sweep.csv       one row per ended run, in grid order, rewritten atomically after each
    <run name>/     each run's directory, as ``vaebalance train`` writes it
    rate_distortion.png, versus.png, report.html

Running the same sweep again skips every run whose ``run.json`` says finished and whose
``metrics.json`` exists, resumes runs that stopped after a checkpoint, and starts the rest
over (failed runs included: a cause may have been fixed since).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..config import RunConfig
from ..errors import UserError
from ..runs import RunDir
from ..schema import SweepRow
from ..storage import write_csv
from .backends import get_backend
from .claim import claim, config_difference, lock
from .grid import Point, check_keys, expand, point_config
from .results import SWEEP_CSV, SWEEP_JSON, Sweep, read_rows
from .worker import Task, make_row

# Config fields that may differ between re-runs of one sweep: they change speed, not results.
MACHINE_FIELDS = (("train", "threads"),)


@dataclass(frozen=True)
class Plan:
    """What a sweep is about to do: runs in all, finished before, to run, and how."""

    path: Path
    total: int
    finished: int
    todo: int
    workers: int
    threads: int


def run_sweep(
    base: RunConfig,
    grid: dict[str, list[str]],
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    backend: str = "local",
    address: str | None = None,
    after_run: Callable[[Path], object] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_row: Callable[[SweepRow], None] | None = None,
    configure: Callable[[RunConfig, Point], RunConfig] | None = None,
) -> Sweep:
    """Run every point of ``grid`` on top of ``base``, skipping runs finished before.

    Args:
        base: the config every run shares.
        grid: ``{dotted key: [raw values]}``, as :func:`~vaebalance.sweeps.grid.parse_grid`
            returns it.
        out: the sweep directory (default ``sweeps/<time>-<data>-<varied fields>``).
        workers: runs at once (default: one per core, at most one per run left to do);
            each run trains with cores // workers threads unless ``base.train.threads`` is set.
        backend: ``"local"`` (worker processes) or ``"ray"``.
        address: the Ray cluster for the ray backend (``"auto"``, ``"ray://HOST:PORT"``;
            default ``RAY_ADDRESS``, else a local Ray), :func:`~.backends.run_ray`.
        after_run: called in the worker with each new run's directory once it has finished
            (e.g. to write its report); a module-level function, so workers can receive it.
        on_plan: called once with the :class:`Plan`, before any run starts.
        on_row: called with each row as its run ends.
        configure: builds a point's config from the base (default: the grid's keys are config
            fields, set on the base). Given, the grid's keys need not be config fields: a study
            names points by what it compares (``convention``) and maps each to a config here.
    """
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be ≥ 1, got {workers}")
    if configure is None:
        check_keys(grid, base)
    points = expand(grid)
    configs = [(configure or point_config)(base, p) for p in points]  # every error before a run
    run_on = get_backend(backend, address)
    path = Path(out) if out else default_sweep_dir(base, grid)
    _claim(path, base, grid)
    with lock(path):
        rows = _finished_rows(path, points, grid)
        todo = [p for p in points if p.name not in rows]
        workers = max(1, min(workers or _cores(), len(todo)))
        threads = base.train.threads or max(1, _cores() // workers)
        names = {p.name for p in todo}
        tasks = [
            _task(path, p, c, threads, after_run)
            for p, c in zip(points, configs)
            if p.name in names
        ]
        if on_plan:
            on_plan(Plan(path, len(points), len(rows), len(todo), workers, threads))
        _write_rows(path, points, rows)

        def collect(row: SweepRow) -> None:
            rows[row.run] = row
            _write_rows(path, points, rows)
            if on_row:
                on_row(row)

        if tasks:
            run_on(tasks, workers, collect)
    return Sweep(path, grid, [rows[p.name] for p in points if p.name in rows])


def default_sweep_dir(base: RunConfig, grid: dict) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    data = Path(base.data.name).stem if "/" in base.data.name else base.data.name
    fields = "-".join(k.rpartition(".")[2] for k in grid)
    return Path("sweeps") / f"{stamp}-{data}-{fields}"


def _task(path: Path, point: Point, cfg: RunConfig, threads: int, after_run) -> Task:
    if "train.threads" not in point.values:  # a grid over threads means it
        cfg = cfg.with_value("train.threads", threads)
    return Task(point.name, point.values, str(path / point.name), cfg.to_dict(), after_run)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _record(base: RunConfig, grid: dict) -> dict:
    """What identifies a sweep, as JSON would give it back (tuples become lists)."""
    config = base.to_dict()
    for section, field in MACHINE_FIELDS:
        config[section].pop(field, None)
    return json.loads(json.dumps({"base_config": config, "grid": grid}))


def _claim(path: Path, base: RunConfig, grid: dict) -> None:
    """Start a new sweep directory, or check that an existing one was made by this command."""
    record = _record(base, grid)
    claim(path, "sweep", SWEEP_JSON, record, _stored, _difference, record)


def _stored(old: dict) -> dict:
    return {"base_config": old.get("base_config"), "grid": old.get("grid")}


def _difference(old: dict, new: dict) -> str:
    """The first field that differs, said briefly: ``train.epochs 3 → 5``."""
    if old["grid"] != new["grid"]:
        return f"grid {_grid_text(old['grid'])} → {_grid_text(new['grid'])}"
    return config_difference(old["base_config"], new["base_config"])


def _grid_text(grid) -> str:
    if not isinstance(grid, dict):
        return "none"
    return " ".join(f"{k}={','.join(map(str, v))}" for k, v in grid.items())


def _finished_rows(path: Path, points: list[Point], grid: dict) -> dict[str, SweepRow]:
    """Rows of runs that finished before, keyed by name; their wall times from sweep.csv."""
    previous = {r.run: r for r in read_rows(path, grid)}
    rows = {}
    for point in points:
        run = RunDir(path / point.name)
        if not (run.is_run() and run.has_metrics()):
            continue
        try:
            finished = run.info().get("status") == "finished"
            metrics = run.metrics()
        except UserError:  # a damaged record: the run is done again
            continue
        if not finished:
            continue
        before = previous.get(point.name)
        wall = before.wall_seconds if before is not None and before.finished else None
        if not isinstance(wall, (int, float)):
            wall = metrics.train_seconds
        task = Task(point.name, point.values, str(run.path), {})
        rows[point.name] = make_row(task, "finished", metrics, wall)
    return rows


def _write_rows(path: Path, points: list[Point], rows: dict[str, SweepRow]) -> None:
    ordered = [rows[p.name].to_json() for p in points if p.name in rows]
    if ordered or (path / SWEEP_CSV).exists():
        write_csv(path / SWEEP_CSV, ordered)
