"""A sweep directory's record as written so far: what re-runs and reports read.

``sweep.json`` holds the base config and the grid, ``sweep.csv`` one
:class:`~vaebalance.schema.SweepRow` per ended run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..schema import SweepRow
from ..storage import read_csv, read_json

SWEEP_JSON, SWEEP_CSV = "sweep.json", "sweep.csv"


@dataclass
class Sweep:
    """A sweep's directory, grid and rows (runs that ended, in grid order)."""

    path: Path
    grid: dict[str, list[str]]
    rows: list[SweepRow]


def read_rows(path: Path, grid: dict) -> list[SweepRow]:
    return [SweepRow.from_row(row, grid) for row in read_csv(path / SWEEP_CSV)]


def load_sweep(path: str | Path) -> Sweep:
    """A sweep directory's grid and rows, as written so far."""
    path = Path(path)
    if not (path / SWEEP_JSON).is_file():
        raise UserError(f"{path} is not a sweep directory (no {SWEEP_JSON})")
    grid = read_json(path / SWEEP_JSON)["grid"]
    return Sweep(path, grid, read_rows(path, grid))
