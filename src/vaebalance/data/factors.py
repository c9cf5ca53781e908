"""A user's own generative factors (``--factors FILE``): one row of integer classes per example.

The file holds ``[N, F]`` integers, one row per example of the data, in the data's own order:
the order of the file or folder for sources vaebalance splits itself (the rows follow the same
seeded split), and the train examples then the test examples for sources that come split
(MNIST-style idx files, CIFAR-10). Accepted: ``.npy``; ``.npz`` with an array ``factors``
(or a single array) and optionally ``names``; ``.csv`` with an optional header of names.
Nothing is ever unpickled.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch

from vaebalance.data.dataset import Dataset
from vaebalance.data.split import split_indices
from vaebalance.data.validation import split_rows
from vaebalance.errors import UserError, check

SUFFIXES = (".npy", ".npz", ".csv")
PARAMS = ("data.factors",)


def read_factors(path: str | os.PathLike) -> tuple[np.ndarray, tuple[str, ...]]:
    """The factor classes ``int64 [N, F]`` in ``path`` and a name per column.

    Raises:
        UserError: A missing or unreadable file, object arrays, values that are not integers,
            or an array that is not one or two dimensional.
    """
    path = Path(path).expanduser()
    check(path.is_file(), f"no such factors file: {path}", PARAMS)
    suffix = path.suffix.lower()
    check(suffix in SUFFIXES, f"factors file {path} must end in {', '.join(SUFFIXES)}", PARAMS)
    array, names = _read_csv(path) if suffix == ".csv" else _read_numpy(path)
    if array.ndim == 1:
        array = array[:, None]
    check(array.ndim == 2 and array.shape[0] >= 1 and array.shape[1] >= 1,
          f"factors file {path} must hold [N, F] values, got shape {array.shape}",
          PARAMS)  # fmt: skip
    return _as_classes(array, path), names or tuple(f"factor_{i}" for i in range(array.shape[1]))


def _read_numpy(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    with path.open("rb") as handle:
        start = handle.read(6)
    check(start.startswith((b"\x93NUMPY", b"PK")),
          f"{path} is not a valid .npy/.npz file: it starts with {start!r}", PARAMS)  # fmt: skip
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return loaded, ()
        with loaded:
            arrays = [k for k in loaded.files if k != "names"]
            key = "factors" if "factors" in arrays else (arrays[0] if len(arrays) == 1 else None)
            check(key is not None, f"{path} holds arrays {', '.join(loaded.files)}; name the "
                  "factors array 'factors' (and its column names 'names')", PARAMS)  # fmt: skip
            names = tuple(str(n) for n in loaded["names"]) if "names" in loaded.files else ()
            return loaded[key], names
    except UserError:
        raise
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise UserError(f"{path} holds Python objects, which are not loaded for safety; "
                            "save plain integer arrays", PARAMS) from None  # fmt: skip
        raise UserError(f"{path} is not a valid .npy/.npz file: {err}", PARAMS) from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise UserError(f"{path} is not a valid .npy/.npz file: {err}", PARAMS) from None


def _read_csv(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    try:
        with path.open(newline="") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read factors file {path}: {err}", PARAMS) from None
    check(len(rows) > 0, f"factors file {path} is empty", PARAMS)
    names: tuple[str, ...] = ()
    if not _numeric(rows[0][0]):
        names, rows = tuple(c.strip() for c in rows[0]), rows[1:]
    width = len(names) or len(rows[0]) if rows else len(names)
    values = []
    for line, row in enumerate(rows, start=2 if names else 1):
        check(len(row) == width,
              f"factors file {path} line {line} has {len(row)} values, expected {width}",
              PARAMS)  # fmt: skip
        try:
            values.append([float(c) for c in row])
        except ValueError:
            raise UserError(f"factors file {path} line {line} is not all numbers: {row!r}",
                            PARAMS) from None  # fmt: skip
    return np.array(values, dtype=np.float64).reshape(len(values), width), names


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _as_classes(array: np.ndarray, path: Path) -> np.ndarray:
    """Integer classes: integer or boolean arrays, or floats that are all whole numbers."""
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    check(np.issubdtype(array.dtype, np.floating),
          f"factors in {path} must be integers, got dtype {array.dtype}", PARAMS)  # fmt: skip
    whole = np.isfinite(array) & (array == np.round(array))
    if not whole.all():
        row, col = np.argwhere(~whole)[0]
        raise UserError(
            f"factors in {path} must be integer classes; row {row}, column {col} is "
            f"{float(array[row, col])!r}", PARAMS
        )  # fmt: skip
    return array.astype(np.int64)


def attach_factors(data: Dataset, path: str | os.PathLike) -> Dataset:
    """``data`` with the factors of ``path`` split like its examples (and recorded in its
    source so a run reloads them).

    Raises:
        UserError: If the file's row count is not the number of examples.
    """
    classes, names = read_factors(path)
    n_val = 0 if data.val is None else len(data.val)
    n_train, n_test = len(data.train) + n_val, len(data.test)
    check(
        len(classes) == n_train + n_test,
        f"factors file {path} has {len(classes)} rows but the data has {n_train + n_test} "
        f"examples ({n_train} train + {n_test} test); give one row per example",
        PARAMS,
    )
    if "test_fraction" in data.source:  # vaebalance split it: split the rows the same way
        train_idx, test_idx = split_indices(
            len(classes), data.source["test_fraction"], data.source.get("seed", 0)
        )
        train, test = classes[train_idx.numpy()], classes[test_idx.numpy()]
    else:
        train, test = classes[:n_train], classes[n_train:]
    train, val = torch.from_numpy(np.ascontiguousarray(train)), None
    if n_val:  # the validation split came out of the training rows: take the same rows
        fit_idx, val_idx = split_rows(n_train, n_val, data.source.get("val_seed", 0))
        train, val = train[fit_idx], train[val_idx]
    resolved = str(Path(path).expanduser().resolve())
    return dataclasses.replace(
        data,
        factors_train=train,
        factors_val=val,
        factors_test=torch.from_numpy(np.ascontiguousarray(test)),
        factor_names=names,
        factor_grid=None,  # the user's factors need not be the grid the source renders
        source={**data.source, "factors": resolved},
    )
