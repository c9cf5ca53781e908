"""The loop of ``vaebalance tune``: propose a β, train it as a sweep run, measure, repeat.

Layout of a tune directory::

    tune.json       the command (base config and goal), then the goal, tolerance, history
                    and chosen run, rewritten after every run
    tune.csv        one :class:`~vaebalance.schema.TuneRow` per run, in search order
    run01_beta-…/   each run's directory, as ``vaebalance train`` writes it

Runs are trained by the sweep machinery (:func:`~vaebalance.sweeps.worker.run_task` through
a backend), one at a time since each β depends on the runs before it. The search is a pure
function of the finished runs' measurements (:mod:`vaebalance.sweeps.tune`), so repeating the
command replays it exactly: finished runs are read back, an interrupted run resumes from its
checkpoint, a failed one is trained again, and the search goes on from there. A larger
``max_runs`` or another tolerance continues the same search.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .._version import __version__
from ..config import RunConfig
from ..errors import UserError, check
from ..runs import RunDir
from ..schema import TuneRow
from ..storage import read_csv, read_json, write_csv, write_json
from .backends import get_backend
from .claim import claim, config_difference, lock
from .tune import Target, closest, first_beta, plateau, propose
from .worker import Task

TUNE_JSON, TUNE_CSV = "tune.json", "tune.csv"
KNOB = "balancer.beta"
BALANCER = "constant"


@dataclass
class TuneResult:
    """A tune's runs so far, why it stopped, and the run it chose."""

    path: Path
    target: Target
    tolerance: float
    rows: list[TuneRow]
    stopped: str  # reached, max_runs, repeat (noise-limited), plateau, failed
    first_beta: float
    chosen: TuneRow | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return self.stopped == "reached"


def tune_config(base: RunConfig) -> tuple[RunConfig, float | None]:
    """The config every run shares, and the fixed Gaussian σ the first β is read against.

    The knob is β of the constant balancer, so the balancer must be that one with no weight
    of its own. ``likelihood.name = auto`` becomes ``gaussian`` with σ = 1: a fixed σ makes β
    the weight on the KL against SSE/2 (:func:`~vaebalance.sweeps.tune.first_beta`).
    """
    if base.balancer.name != BALANCER:
        raise UserError(
            f"tune searches β of the constant balancer; drop --balancer {base.balancer.name}"
        )
    for param in base.balancer.params:
        raise UserError(f"tune sets {KNOB} itself; drop balancer.{param}")
    cfg = base
    if cfg.likelihood.name == "auto":
        cfg = cfg.with_value("likelihood.name", "gaussian")
    params = cfg.likelihood.params
    fixed = cfg.likelihood.name == "gaussian" and not params.get("learn_scale", False)
    return cfg, (float(params.get("sigma", 1.0)) if fixed else None)


def run_tune(
    base: RunConfig,
    target: Target,
    out: str | Path | None = None,
    *,
    tolerance: float = 0.05,
    max_runs: int = 6,
    min_active_units: int | None = None,
    backend: str = "local",
    after_run: Callable[[Path], object] | None = None,
    on_start: Callable[[Path], None] | None = None,
    on_row: Callable[[TuneRow, bool], None] | None = None,
) -> TuneResult:
    """Search β until a run's ``target.key`` is within ``tolerance`` (relative) of the target.

    Args:
        base: the config every run shares (see :func:`tune_config`).
        target: the metric and value to reach, on the test split.
        out: the tune directory (default ``sweeps/<time>-<data>-tune``).
        tolerance: the relative distance that counts as reached.
        max_runs: stop after this many runs, reached or not.
        min_active_units: a constraint reported on the chosen run, not searched for.
        backend: the sweep backend that trains each run (``local`` or ``ray``).
        after_run: called with each new run's directory once it has finished.
        on_start: called with the directory once it is claimed, before any run.
        on_row: called with each run's row as it ends, and whether it had finished before.
    """
    check(0 < tolerance < 1, f"tolerance must be in (0, 1), got {tolerance:g}", ("tolerance",))
    check(max_runs >= 1, f"max_runs must be ≥ 1, got {max_runs}", ("max_runs",))
    if min_active_units is not None:
        check(min_active_units >= 1, "min_active_units must be ≥ 1", ("min_active_units",))
    cfg, sigma = tune_config(base)
    run_on = get_backend(backend)
    path = Path(out) if out else default_tune_dir(cfg)
    record = _record(cfg, target)
    _claim(path, record)
    first = first_beta(target, sigma)
    result = TuneResult(path, target, tolerance, [], "max_runs", first)
    with lock(path, "tune"):
        if on_start:
            on_start(path)
        walls = {r.get(TuneRow.key.run): r for r in read_csv(path / TUNE_CSV)}
        while len(result.rows) < max_runs:
            beta = _next_beta(result)
            if beta is None:
                break
            row, before = _one_run(path, cfg, beta, len(result.rows) + 1, walls, run_on, after_run)
            row = _judge(row, target, tolerance)
            result.rows.append(row)
            _write(result, record, min_active_units)
            if on_row:
                on_row(row, before)
            if not row.finished or row.within_tolerance:
                result.stopped = "reached" if row.finished else "failed"
                break
        _write(result, record, min_active_units)
    return result


def _next_beta(result: TuneResult) -> float | None:
    """The next β to try, or None (with the reason in ``result.stopped``) when trying more
    along this search is pointless: the target lies beyond a plateau, or the search proposes
    a β it has tried (the metric is not monotone at this scale: noise-limited)."""
    history = [(r.beta, r[result.target.key]) for r in result.rows]
    if plateau(history, result.target):
        result.stopped = "plateau"
        return None
    beta = propose(history, result.target, result.first_beta)
    if any(r.beta == beta for r in result.rows):
        result.stopped = "repeat"
        return None
    return beta


def _one_run(path, cfg, beta, number, walls, run_on, after_run) -> tuple[TuneRow, bool]:
    """The row of run ``number`` at ``beta``: read back if it finished before, else trained
    (or resumed from its checkpoint) by the backend; and whether it had finished before."""
    name = f"run{number:02d}_beta-{beta:g}"
    task = Task(name, {KNOB: repr(beta)}, str(path / name), cfg.with_value(KNOB, beta).to_dict(),
                after_run)  # fmt: skip
    row = _finished(task, beta, walls.get(name))
    if row is not None:
        return row, True
    return _run(run_on, task, beta), False


def _run(run_on, task: Task, beta: float) -> TuneRow:
    collected = []
    run_on([task], 1, collected.append)
    swept = collected[0]
    metrics = RunDir(task.path).metrics() if swept.finished else {}
    return TuneRow.of(task.name, beta, swept.status, metrics, swept.wall_seconds, swept.error)


def _finished(task: Task, beta: float, before: dict | None) -> TuneRow | None:
    """The row of a run that finished before (wall time from tune.csv), or None."""
    run = RunDir(task.path)
    if not (run.is_run() and run.has_metrics()):
        return None
    try:
        if run.info().get("status") != "finished":
            return None
        metrics = run.metrics()
    except UserError:  # a damaged record: the run is done again
        return None
    wall = (before or {}).get(TuneRow.key.wall_seconds)
    if not isinstance(wall, (int, float)):
        wall = metrics.train_seconds
    return TuneRow.of(task.name, beta, "finished", metrics, wall)


def _judge(row: TuneRow, target: Target, tolerance: float) -> TuneRow:
    """The row with its distance to the target; a finished run that did not measure the
    goal's metric (a non-finite one) is a failed step of the search."""
    value = row[target.key]
    if not row.finished:
        return row.replace(within_tolerance=False)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return row.replace(status="failed", within_tolerance=False,
                           error=f"the run measured no finite {target.label}")  # fmt: skip
    return row.replace(
        relative_error=round(target.relative_error(value), 6),
        within_tolerance=target.within(value, tolerance),
    )


def choose(result: TuneResult, min_active_units: int | None) -> None:
    """The first run within tolerance, else the closest; notes on the constraint."""
    within = [r for r in result.rows if r.within_tolerance]
    result.chosen = within[0] if within else closest(result.rows, result.target)
    result.notes = []
    chosen = result.chosen
    if chosen is not None and min_active_units is not None:
        units = chosen.active_units
        if units is None or units < min_active_units:
            result.notes.append(
                f"{chosen.run} has {units} active units, fewer than the {min_active_units} asked "
                "for: at this MSE the latent space uses fewer dimensions; a looser target, "
                "a larger model or more epochs may keep more"
            )


def _write(result: TuneResult, record: dict, min_active_units: int | None) -> None:
    choose(result, min_active_units)
    write_csv(result.path / TUNE_CSV, [r.to_json() for r in result.rows])
    old = read_json(result.path / TUNE_JSON)
    write_json(
        result.path / TUNE_JSON,
        {
            "command": record,
            "created": old.get("created"),
            "vaebalance": __version__,
            "goal": {"metric": result.target.key, "target": result.target.value,
                     "tolerance": result.tolerance, "min_active_units": min_active_units},
            "knob": KNOB,
            "first_beta": result.first_beta,
            "stopped": result.stopped,
            "chosen": result.chosen.run if result.chosen else None,
            "notes": result.notes,
            "history": [r.to_json() for r in result.rows],
        },
    )  # fmt: skip


def default_tune_dir(cfg: RunConfig) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    data = Path(cfg.data.name).stem if "/" in cfg.data.name else cfg.data.name
    return Path("sweeps") / f"{stamp}-{data}-tune"


def _record(cfg: RunConfig, target: Target) -> dict:
    """What makes two tune commands the same search: the shared config and the goal (not
    the tolerance or the number of runs, which only say when to stop)."""
    config = cfg.to_dict()
    config["train"].pop("threads", None)  # speed, not results
    return json.loads(json.dumps({"base_config": config, "goal": [target.key, target.value]}))


def _claim(path: Path, record: dict) -> None:
    """Start a new tune directory, or check that an existing one was made by this command."""
    claim(path, "tune", TUNE_JSON, record, lambda old: old.get("command") or {}, _difference,
          {"command": record})  # fmt: skip


def _difference(old: dict, new: dict) -> str:
    if old.get("goal") != new["goal"]:
        return f"goal {_goal_text(old.get('goal'))} → {_goal_text(new['goal'])}"
    return config_difference(old.get("base_config"), new["base_config"])


def _goal_text(goal) -> str:
    return f"{goal[0]}={goal[1]:g}" if isinstance(goal, list) and len(goal) == 2 else "none"
