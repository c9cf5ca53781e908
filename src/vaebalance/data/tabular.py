"""Datasets from a CSV of numeric columns, loaded as the numbers they are.

Any finite values are accepted, as for ``.npy`` files; ``data.standardize`` is the way to
put columns on one scale (with the units of reported likelihoods kept, :mod:`.standardize`).
Versions up to 0.2.0 scaled each column to [0, 1] by its training min and max, which changes
the likelihood's units; runs they wrote still reload that way (``minmax``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from vaebalance.data.claims import check_fits
from vaebalance.data.dataset import Dataset
from vaebalance.data.files import reason, require_file
from vaebalance.data.split import split_indices
from vaebalance.errors import UserError

Row = tuple[int, list[str]]  # (line number in the file, cells)
# Peak bytes per value: float64 values, their train/test copies, scaling temporaries, float32.
BYTES_PER_VALUE = 8 + 8 + 3 * 8 + 4
# csv keeps a row as a list of str (about 64 bytes a cell); lines longer than this are
# checked against memory before csv splits them.
LONG_LINE = 1 << 16
ROWS_ADVICE = "load a subset of the rows"


def _lines(handle: Iterable[str], path: Path) -> Iterator[str]:
    """The file's lines, refusing one whose cells alone would not fit in memory."""
    for number, line in enumerate(handle, 1):
        if len(line) > LONG_LINE:
            cells = line.count(",") + 1
            check_fits(f"{path} line {number}", f"{cells} cells", 64 * cells, ROWS_ADVICE)
        yield line


def iter_rows(path: Path) -> Iterator[Row]:
    """The non-empty rows of a CSV file with their line numbers, streamed.

    Raises:
        UserError: If the file cannot be read, is not UTF-8, or is not valid CSV.
    """
    try:
        # -sig: tolerate a spreadsheet's BOM; newline="": csv handles line ends itself.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(_lines(handle, path))
            try:
                for row in reader:
                    if any(c.strip() for c in row):
                        yield reader.line_num, row
            except csv.Error as err:
                line = reader.line_num
                raise UserError(
                    f"{path} is not a valid CSV file (line {line}): {reason(err)}"
                ) from None
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text, so it cannot be read as a CSV") from None


def is_number(cell: str) -> bool:
    """Whether ``cell`` parses as a float."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def scan(path: Path) -> tuple[list[str], int, bool]:
    """Column names, the number of data rows, and whether the first row is a header (it is
    if any of its cells is not a number). Every row must have one value per column."""
    rows = iter_rows(path)
    first = next(rows, None)
    if first is None:
        raise UserError(f"{path} holds no rows")
    header = not all(is_number(cell) for cell in first[1])
    if header:
        columns = [cell.strip() for cell in first[1]]
    else:
        columns = [f"col{j + 1}" for j in range(len(first[1]))]
    n_rows = 0 if header else 1
    for line, row in rows:
        if len(row) != len(columns):
            raise UserError(
                f"{path} line {line} has {len(row)} values, expected {len(columns)} columns"
            )
        n_rows += 1
    if n_rows == 0:
        raise UserError(f"{path} holds only a header row and no data")
    return columns, n_rows, header


def parse_values(path: Path, columns: list[str], n_rows: int, header: bool) -> np.ndarray:
    """All data cells as a finite float64 ``[N, D]`` array, or a :class:`UserError` naming a cell."""
    values = np.empty((n_rows, len(columns)), dtype=np.float64)
    rows = iter_rows(path)
    if header:
        next(rows)
    first_bad, n_bad = None, 0
    count = 0
    for i, (line, row) in enumerate(rows):
        count = i + 1
        if count > n_rows or len(row) != len(columns):
            raise UserError(f"{path} changed while it was read (line {line}); load it again")
        try:
            values[i] = [float(cell) for cell in row]  # the parser is_number judges by
        except ValueError:
            j = next(j for j, cell in enumerate(row) if not is_number(cell))
            raise _cell_error(path, columns, line, j, row[j], "is not a number") from None
        finite = np.isfinite(values[i])
        if not finite.all():
            n_bad += int((~finite).sum())
            if first_bad is None:
                j = int(np.argmin(finite))
                first_bad = (line, j, row[j])
    if count != n_rows:
        raise UserError(f"{path} changed while it was read; load it again")
    if first_bad is not None:
        error = _cell_error(path, columns, *first_bad, "is not finite")
        raise UserError(f"{error} ({n_bad} non-finite values in all)")
    return values


def _cell_error(path: Path, columns: list[str], line: int, j: int, cell: str, problem: str):
    """The error naming one cell."""
    return UserError(f"{path} line {line}, column {j + 1} ({columns[j]!r}): {cell!r} {problem}")


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
    path = require_file(Path(path).expanduser())
    columns, n_rows, header = scan(path)
    claim = f"{n_rows} rows of {len(columns)} values"
    check_fits(str(path), claim, n_rows * len(columns) * BYTES_PER_VALUE, ROWS_ADVICE)
    values = parse_values(path, columns, n_rows, header)
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
