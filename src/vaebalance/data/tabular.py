"""Datasets from a CSV of numeric columns, loaded as the numbers they are.

Any finite values are accepted, as for ``.npy`` files; ``data.standardize`` is the way to
put columns on one scale (with the units of reported likelihoods kept, :mod:`.standardize`).
Versions up to 0.2.0 scaled each column to [0, 1] by its training min and max, which changes
the likelihood's units; runs they wrote still reload that way (``minmax``).
"""

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
    path: str | Path, name: str, test_fraction: float = 0.1, seed: int = 0, minmax: bool = False
) -> Dataset:
    """Load a CSV of numeric columns as float32 ``[N, D]``, unchanged, split randomly.

    A first row with any non-numeric cell is taken as the header; the column names are kept in
    ``Dataset.scaling["columns"]``.

    Args:
        path: The CSV file.
        name: The dataset's name (the path given).
        test_fraction: Share of rows in the test split.
        seed: Seed of the random split.
        minmax: Scale every column to [0, 1] by the min and max of the training split (the
            test split with the same numbers, clipped), as versions up to 0.2.0 did; to reload
            the runs they wrote.
    """
    path = require_exists(Path(path).expanduser())
    columns, rows = split_header(read_rows(path), path)
    values = parse_values(columns, rows, path)
    train_idx, test_idx = split_indices(len(values), test_fraction, seed)
    train, test = values[train_idx.numpy()], values[test_idx.numpy()]
    source = {
        "kind": "csv",
        "name": name,
        "path": str(path.resolve()),
        "test_fraction": float(test_fraction),
        "seed": int(seed),
        "scaling": "minmax" if minmax else "none",
    }
    scaling: dict = {"columns": columns}
    if minmax:
        low, high = train.min(axis=0), train.max(axis=0)
        train, test = scale(train, low, high), scale(test, low, high)
        scaling.update(min=low.tolist(), max=high.tolist())
    else:
        train, test = (torch.from_numpy(v.astype(np.float32)) for v in (train, test))
    return Dataset(name=name, train=train, test=test, shape=(len(columns),),
                   scaling=scaling, source=source)  # fmt: skip
