"""What a sweep's report shows: the recommendation, the rate–distortion plane, each metric
against the varied field, and the comparison table; the plots are also written as PNG files."""

from __future__ import annotations

from pathlib import Path

from ..runs import REPORT, RunDir
from ..schema import SweepRow
from ..storage import atomic_write, read_json
from ..sweeps.recommend import Goal, Recommendation, recommend
from ..sweeps.results import SWEEP_JSON, Sweep, load_sweep
from .cells import config_rows, data_uri, number
from .plots import rate_distortion, sweep_axis, versus
from .side_by_side import side_by_side

RD_PNG, VERSUS_PNG = "rate_distortion.png", "versus.png"


def write_plots(sweep: Sweep, recommended: str | None) -> dict[str, bytes]:
    """Render the sweep's plots and write them beside ``sweep.csv``; returns name -> PNG."""
    base = read_json(sweep.path / SWEEP_JSON).get("base_config") or {}
    data = Path(str((base.get("data") or {}).get("name", ""))).name
    plots = {RD_PNG: rate_distortion(sweep.rows, recommended, data)}
    if any(r.finished for r in sweep.rows):
        plots[VERSUS_PNG] = versus(sweep.rows, list(sweep.grid))
    for name, png in plots.items():
        atomic_write(sweep.path / name, png)
    return plots


def sweep_context(path: Path, goal: Goal | None = None) -> dict:
    """The template's variables for the sweep in ``path`` (writes its plots as a side effect)."""
    sweep = load_sweep(path)
    record = read_json(path / SWEEP_JSON)
    choice = recommend(sweep.rows, goal)
    plots = write_plots(sweep, choice.run if choice else None)
    keys = list(sweep.grid)
    rows = [_row(path, r, keys, choice) for r in sweep.rows]
    pictures, pictures_note = side_by_side(path, sweep.rows)
    # A metric no run has (IWAE NLL when it was not computed) would be a column of dashes.
    columns = [
        c
        for c in [*keys, "status", *SweepRow.TABLE]
        if c in keys or any(r["cells"][c] != "—" for r in rows)
    ]
    return {
        "kind": "sweep",
        "title": f"vaebalance sweep {path.name}",
        "name": path.name,
        "path": str(path.resolve()),
        "grid": [{"key": k, "values": ", ".join(map(str, v))} for k, v in sweep.grid.items()],
        "axis": sweep_axis(keys),
        "counts": _counts(sweep),
        "goal": goal.text() if goal is not None and goal.given() else "",
        "recommendation": _recommendation(choice),
        "rate_distortion": data_uri(plots[RD_PNG]),
        "versus": data_uri(plots[VERSUS_PNG]) if VERSUS_PNG in plots else None,
        "pictures": pictures,
        "pictures_note": pictures_note,
        "columns": columns,
        "headings": {
            **{k: k.rpartition(".")[2] for k in keys},
            "status": "status",
            **{c.key: f"{c.label} [{c.unit}]" for c in map(SweepRow.column, SweepRow.TABLE)},
        },
        "rows": rows,
        "config": config_rows(resolved_base(path, sweep, record.get("base_config") or {})),
    }


def resolved_base(path: Path, sweep: Sweep, base: dict) -> dict:
    """The base config with ``likelihood.name = "auto"`` replaced by what the runs resolved it
    to on their data (e.g. ``"gaussian-learned (auto)"``): a reader needs the likelihood used."""
    likelihood = base.get("likelihood") or {}
    if likelihood.get("name") != "auto":
        return base
    names = []
    for row in sweep.rows:
        run = RunDir(path / str(row.run))
        if run.is_run():
            name = (run.config().get("likelihood") or {}).get("name")
            names += [name] if name and name not in names else []
    if not names:
        return base
    return {**base, "likelihood": {**likelihood, "name": f"{', '.join(names)} (auto)"}}


def _recommendation(choice: Recommendation | None) -> dict | None:
    return None if choice is None else {"run": choice.run, "reason": choice.reason}


def _counts(sweep: Sweep) -> str:
    total = 1
    for values in sweep.grid.values():
        total *= len(values)
    finished = sum(r.finished for r in sweep.rows)
    failed = sum(r.status == "failed" for r in sweep.rows)
    return (
        f"{total} runs: {finished} finished, {failed} failed, {total - finished - failed} not run"
    )


def _row(path: Path, row: SweepRow, keys: list[str], choice: Recommendation | None) -> dict:
    name = str(row.run or "")
    cells = {k: number((row.values or {}).get(k)) for k in keys}
    cells["status"] = number(row.status)
    cells.update({k: number(row[k]) for k in SweepRow.TABLE})
    has_report = bool(name) and (path / name / REPORT).is_file()
    return {
        "run": name,
        "cells": cells,
        "error": str(row.error or ""),
        "link": f"{name}/{REPORT}" if has_report else None,
        "recommended": choice is not None and name == choice.run,
    }
