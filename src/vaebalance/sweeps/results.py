"""A sweep directory's record as written so far: what re-runs and reports read.

``sweep.json`` holds the base config and the grid, ``sweep.csv`` one row per ended run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..runs import read_csv, read_json

SWEEP_JSON, SWEEP_CSV = "sweep.json", "sweep.csv"
# The test metrics a sweep compares, as sweep.csv columns (units in the names).
ROW_METRICS = (
    "rate_nats",
    "distortion_nats",
    "elbo_nats",
    "nll_iw_nats",
    "mse_per_element",
    "active_units",
)


@dataclass
class Sweep:
    """A sweep's directory, grid and rows (runs that ended, in grid order)."""

    path: Path
    grid: dict[str, list[str]]
    rows: list[dict]


def load_sweep(path: str | Path) -> Sweep:
    """A sweep directory's grid and rows, as written so far."""
    path = Path(path)
    if not (path / SWEEP_JSON).is_file():
        raise UserError(f"{path} is not a sweep directory (no {SWEEP_JSON})")
    grid = read_json(path / SWEEP_JSON)["grid"]
    return Sweep(path, grid, read_csv(path / SWEEP_CSV))
