"""Which run of a sweep to use: the one that meets a stated goal best, or the frontier's knee.

Goals are constraints, the way the rate–distortion problem and GECO state them:

- ``target_mse``: MSE per element ≤ target. Among the runs that meet it, the one with the
  lowest rate: min R subject to a distortion bound (GECO's problem), the most compressed
  code that still reconstructs well enough.
- ``target_rate``: rate ≤ target nats. Among those, the lowest distortion: D(R), the best
  reconstruction the rate budget allows.
- ``min_active_units``: at least that many active latent units.

Given together they all must hold; the objective is the rate if a target MSE is given, else
the distortion if a target rate is given, else −ELBO = R + D. When no run meets the goal, the
run that misses it least wins: the smallest sum of relative shortfalls
max(0, MSE/target − 1) + max(0, R/target − 1) + max(0, (n − AU)/n).
Without a goal the recommendation is the knee of the frontier
(:func:`~vaebalance.sweeps.frontier.knee`). Only finished runs count, and ties go to the run
first in grid order, so the answer never depends on timing.

When the grid varies ``train.seed``, runs that differ only in their seed are one setting, and
settings are compared by their means over the seeds: one lucky seed must not win. The
recommendation then names the setting's first run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import UserError
from ..schema import SweepRow
from .frontier import knee, pareto_front


@dataclass(frozen=True)
class Goal:
    target_mse: float | None = None
    target_rate: float | None = None
    min_active_units: int | None = None

    def __post_init__(self):
        checks = (
            ("target_mse", self.target_mse, lambda v: v > 0, "> 0"),
            ("target_rate", self.target_rate, lambda v: v > 0, "> 0 nats"),
            ("min_active_units", self.min_active_units, lambda v: v >= 1, "≥ 1"),
        )
        for name, value, ok, bound in checks:
            if value is not None and not ok(value):
                raise UserError(f"{name} must be {bound}, got {value}", params=(name,))

    def given(self) -> bool:
        return any(
            v is not None for v in (self.target_mse, self.target_rate, self.min_active_units)
        )

    def text(self) -> str:
        parts = []
        if self.target_mse is not None:
            parts.append(f"MSE per element ≤ {self.target_mse:.4g}")
        if self.target_rate is not None:
            parts.append(f"rate ≤ {self.target_rate:.4g} nats")
        if self.min_active_units is not None:
            parts.append(f"≥ {self.min_active_units} active units")
        return " and ".join(parts)


@dataclass(frozen=True)
class Recommendation:
    run: str  # the run's name (its directory in the sweep)
    reason: str  # one sentence


def recommend(rows: list[SweepRow], goal: Goal | None = None) -> Recommendation | None:
    """The recommended run of ``rows`` (``sweep.csv`` rows); None if no run finished."""
    rows = [SweepRow.from_row(r) for r in rows]
    runs = [r for r in rows if r.finished and _point(r) is not None]
    if not runs:
        return None
    runs, seeds = seed_means(runs)
    choice = _for_goal(runs, goal) if goal is not None and goal.given() else _at_knee(runs)
    if seeds > 1:
        note = f" Each setting is the mean of its {seeds} seeds; {choice.run} is its first run."
        choice = Recommendation(choice.run, choice.reason + note)
    return choice


SEED = "train.seed"


def seed_means(runs: list[SweepRow]) -> tuple[list[SweepRow], int]:
    """Runs that differ only in ``train.seed`` as one row of mean metrics (named after the
    first of them), and the largest number of seeds behind a row; unchanged without seeds."""
    if not any(SEED in (r.values or {}) for r in runs):
        return runs, 1
    groups: dict[tuple, list[SweepRow]] = {}
    for r in runs:
        setting = tuple((k, v) for k, v in (r.values or {}).items() if k != SEED)
        groups.setdefault(setting, []).append(r)
    means = [_mean_row(members) for members in groups.values()]
    return means, max(len(m) for m in groups.values())


def _mean_row(members: list[SweepRow]) -> SweepRow:
    means = {}
    for key in SweepRow.METRICS:
        values = [_num(getattr(r, key)) for r in members]
        finite = [v for v in values if math.isfinite(v)]
        means[key] = sum(finite) / len(finite) if len(finite) == len(values) else None
    first = members[0]
    return first.replace(**means)


def _for_goal(runs: list[dict], goal: Goal) -> Recommendation:
    objective, label = _objective(goal)
    keys = [(_shortfall(r, goal), objective(r), i) for i, r in enumerate(runs)]
    best = runs[min(keys)[2]]
    met = [r for r, k in zip(runs, keys) if k[0] == 0]
    name, facts = best.run, _facts(best)
    if not met:
        return Recommendation(name, f"No run meets {goal.text()}; {name} comes closest ({facts}).")
    return Recommendation(
        name,
        f"{name} has the lowest {label} of the {len(met)} finished run"
        f"{'s' if len(met) > 1 else ''} that meet {goal.text()} ({facts}).",
    )


def _at_knee(runs: list[dict]) -> Recommendation:
    points = [_point(r) for r in runs]
    i = knee(points)
    front = pareto_front(points)
    if i is not None:
        name = runs[i].run
        return Recommendation(
            name,
            f"{name} is the knee of the rate–distortion frontier: of its {len(front)} runs it "
            f"lies farthest below the line joining the frontier's ends ({_facts(runs[i])}), "
            "where more rate stops buying much lower distortion.",
        )
    i = min(front, key=lambda j: (sum(points[j]), j))
    name = runs[i].run
    return Recommendation(
        name,
        f"{name} has the best ELBO of the {len(front)} run{'s' if len(front) > 1 else ''} on "
        f"the frontier, too few for a knee ({_facts(runs[i])}).",
    )


def _objective(goal: Goal):
    if goal.target_mse is not None:
        return (lambda r: _num(r.rate_nats)), "rate"
    if goal.target_rate is not None:
        return (lambda r: _num(r.distortion_nats)), "distortion"
    return (lambda r: sum(_point(r))), "−ELBO"


def _shortfall(row: SweepRow, goal: Goal) -> float:
    """How far a run misses the goal, as a sum of relative shortfalls (0 = met)."""
    total = 0.0
    if goal.target_mse is not None:
        total += max(0.0, _num(row.mse_per_element) / goal.target_mse - 1)
    if goal.target_rate is not None:
        total += max(0.0, _num(row.rate_nats) / goal.target_rate - 1)
    if goal.min_active_units is not None:
        au = _num(row.active_units, missing=0.0)
        total += max(0.0, (goal.min_active_units - au) / goal.min_active_units)
    return total


def _facts(row: SweepRow) -> str:
    parts = [
        f"rate {_num(row.rate_nats):.4g} nats",
        f"distortion {_num(row.distortion_nats):.4g} nats",
    ]
    mse = _num(row.mse_per_element)
    if math.isfinite(mse):
        parts.append(f"MSE {mse:.3g} per element")
    au = _num(row.active_units)
    if math.isfinite(au):
        parts.append(f"{au:.0f} active units")
    return ", ".join(parts)


def _point(row: SweepRow) -> tuple[float, float] | None:
    r, d = _num(row.rate_nats), _num(row.distortion_nats)
    return (r, d) if math.isfinite(r) and math.isfinite(d) else None


def _num(value, missing: float = math.inf) -> float:
    """A csv cell as a finite float; ``missing`` for '', None or text (never a winner)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return missing
    return value if math.isfinite(value) else missing
