"""Datasets from a CSV of numeric columns, each scaled to [0, 1] by its training min and max."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vaebalance.data.dataset import Dataset
from vaebalance.data.files import require_exists
from vaebalance.data.split import split_indices
from vaebalance.errors import UserError

Row = tuple[int, list[str]]  # (line number in the file, cells)


def read_rows(path: Path) -> list[Row]:
    """The non-empty rows of a CSV file with their line numbers."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: tolerate a spreadsheet's BOM
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text, so it cannot be read as a CSV") from None
    reader = csv.reader(io.StringIO(text))
    try:
        return [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as err:
        raise UserError(f"{path} is not a valid CSV file (line {reader.line_num}): {err}") from None


def is_number(cell: str) -> bool:
    """Whether ``cell`` parses as a float."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def split_header(rows: list[Row], path: Path) -> tuple[list[str], list[Row]]:
    """Column names and data rows; the first row is a header if any of its cells is not a number."""
    if not rows:
        raise UserError(f"{path} holds no rows")
    first = rows[0][1]
    if all(is_number(cell) for cell in first):
        return [f"col{j + 1}" for j in range(len(first))], rows
    if len(rows) == 1:
        raise UserError(f"{path} holds only a header row and no data")
    return [cell.strip() for cell in first], rows[1:]


def parse_values(columns: list[str], rows: list[Row], path: Path) -> np.ndarray:
    """All data cells as a finite float64 ``[N, D]`` array, or a :class:`UserError` naming a cell."""
    for line, row in rows:
        if len(row) != len(columns):
            raise UserError(
                f"{path} line {line} has {len(row)} values, expected {len(columns)} columns"
            )
    cells = [row for _, row in rows]
    try:
        values = np.array(cells, dtype=np.float64)
    except ValueError:
        raise _bad_cell(
            columns, rows, path, lambda c: not is_number(c), "is not a number"
        ) from None
    if not np.isfinite(values).all():
        count = int((~np.isfinite(values)).sum())
        error = _bad_cell(columns, rows, path, lambda c: not np.isfinite(float(c)), "is not finite")
        raise UserError(f"{error} ({count} non-finite values in all)")
    return values


def _bad_cell(
    columns: list[str], rows: list[Row], path: Path, bad: Callable[[str], bool], problem: str
) -> UserError:
    """The error naming the first cell for which ``bad`` holds (only run once parsing failed)."""
    for line, row in rows:
        for j, cell in enumerate(row):
            if bad(cell):
                where = f"line {line}, column {j + 1} ({columns[j]!r})"
                return UserError(f"{path} {where}: {cell!r} {problem}")
    return UserError(f"{path} has a value that {problem}")


def scale(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> torch.Tensor:
    """Map each column from [low, high] to [0, 1], clipped; constant columns map to 0."""
    span = high - low
    safe = np.where(span > 0, span, 1.0)  # constant column: (x - low) is 0 anyway on train
    scaled = np.where(span > 0, (values - low) / safe, 0.0)
    return torch.from_numpy(np.clip(scaled, 0.0, 1.0).astype(np.float32))


def load_csv_dataset(
    path: str | Path, name: str, test_fraction: float = 0.1, seed: int = 0
) -> Dataset:
    """Load a CSV of numeric columns as float32 ``[N, D]`` in [0, 1], split randomly.

    A first row with any non-numeric cell is taken as the header. Every column is scaled by
    the min and max of the training split; the test split uses the same numbers and is
    clipped to [0, 1]. The numbers are kept in ``Dataset.scaling`` to reproduce the run.

    Args:
        path: The CSV file.
        name: The dataset's name (the path given).
        test_fraction: Share of rows in the test split.
        seed: Seed of the random split.
    """
    path = require_exists(Path(path).expanduser())
    columns, rows = split_header(read_rows(path), path)
    values = parse_values(columns, rows, path)
    train_idx, test_idx = split_indices(len(values), test_fraction, seed)
    train, test = values[train_idx.numpy()], values[test_idx.numpy()]
    low, high = train.min(axis=0), train.max(axis=0)
    return Dataset(
        name=name,
        train=scale(train, low, high),
        test=scale(test, low, high),
        shape=(len(columns),),
        scaling={"columns": columns, "min": low.tolist(), "max": high.tolist()},
        source={
            "kind": "csv",
            "name": name,
            "path": str(path.resolve()),
            "test_fraction": float(test_fraction),
            "seed": int(seed),
        },
    )
