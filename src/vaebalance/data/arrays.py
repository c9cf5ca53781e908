"""Datasets from a ``.npy`` or ``.npz`` file, loaded without ever unpickling objects."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from vaebalance.data.claims import SUBSET_ADVICE, UINT8_ADVICE, check_fits, dataset_bytes
from vaebalance.data.dataset import Dataset, as_labels, as_tensor
from vaebalance.data.files import require_file
from vaebalance.data.npyfile import (
    NPY_MAGIC,
    ZIP_MAGIC,
    ArrayHeader,
    member_header,
    npy_header,
    npz_members,
    open_npz,
    read_member,
    read_npy,
)
from vaebalance.data.split import random_split
from vaebalance.errors import UserError

# Names an .npz may give its examples and its labels, in order of preference.
EXAMPLE_KEYS = ("x", "data", "images", "arr_0")
LABEL_KEYS = ("y", "labels")
CHANNELS = (1, 3)
ACCEPTED_SHAPES = (
    "[N, D] tabular, [N, H, W] grayscale, [N, H, W, C] or [N, C, H, W] images with C in 1, 3"
)


def read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Read the examples (and labels, if any) from a ``.npy`` or ``.npz`` file.

    Every header is parsed and checked against the bytes the file holds and the memory
    there is (:mod:`vaebalance.data.claims`) before any array is allocated.

    Raises:
        UserError: If the file is unreadable, lies about its size, does not fit in memory,
            holds object arrays, or its arrays are ambiguous.
    """
    if _magic(path).startswith(NPY_MAGIC):
        header = npy_header(path)
        _check_fits(path, header, None)
        return read_npy(path, header), None
    with open_npz(path) as archive:
        x_info, y_info = _pick_members(npz_members(archive), path)
        x_header = member_header(archive, x_info, path)
        y_header = None if y_info is None else member_header(archive, y_info, path)
        _check_fits(path, x_header, y_header)
        labels = None if y_info is None else read_member(archive, y_info, y_header, path)
        return read_member(archive, x_info, x_header, path), labels


def _magic(path: Path) -> bytes:
    """The first bytes; refuse files that are neither .npy nor .npz (np.load: pickles)."""
    try:
        with path.open("rb") as handle:
            start = handle.read(len(NPY_MAGIC))
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    if not start.startswith((NPY_MAGIC, ZIP_MAGIC)):
        raise UserError(f"{path} is not a valid .npy/.npz file: it starts with {start!r}")
    return start


def _pick_members(
    members: dict[str, zipfile.ZipInfo], path: Path
) -> tuple[zipfile.ZipInfo, zipfile.ZipInfo | None]:
    """Choose the examples and labels members of an ``.npz`` by their names."""
    names = list(members)
    x_key = next((k for k in EXAMPLE_KEYS if k in names), None)
    y_key = next((k for k in LABEL_KEYS if k in names), None)
    if x_key is None:
        others = [k for k in names if k != y_key]
        if len(others) != 1:
            raise UserError(
                f"{path} holds arrays {', '.join(names) or '(none)'}; name the examples "
                f"one of {', '.join(EXAMPLE_KEYS)} (and the labels y), or store only one array"
            )
        x_key = others[0]
    return members[x_key], (None if y_key is None else members[y_key])


def _check_fits(path: Path, x: ArrayHeader, y: ArrayHeader | None) -> None:
    """Refuse arrays whose loading (read, stored copy, split) would not fit in memory."""
    stored = 1 if x.dtype == np.uint8 else 4  # uint8 stays, the rest becomes float32
    need = dataset_bytes(x.size, x.dtype.itemsize, stored)
    if y is not None:
        need += dataset_bytes(y.size, y.dtype.itemsize, 8)  # int64 labels
    advice = SUBSET_ADVICE if stored == 1 else UINT8_ADVICE
    check_fits(str(path), x.claim, need, advice)


def check_values(array: np.ndarray, path: Path) -> None:
    """Raise :class:`UserError` unless ``array`` holds uint8, bool, or finite real numbers.

    Any finite values are accepted: whether they suit the likelihood (the Bernoulli family
    needs [0, 1]) is decided once the likelihood is known (:func:`vaebalance.config.resolve`).
    Runs on the array as the user saved it, so reported indices are theirs.
    """
    if array.dtype in (np.uint8, np.bool_):
        return
    if array.dtype.kind not in "fiu":
        raise UserError(f"{path} holds {array.dtype} values; expected uint8, bool, int or float")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            n_nan = int(np.isnan(array).sum())
            first = tuple(int(i) for i in np.unravel_index(np.argmax(bad), array.shape))
            raise UserError(
                f"{path} has {n_nan} NaN and {int(bad.sum()) - n_nan} infinite values, "
                f"the first at index {first}"
            )


def to_layout(array: np.ndarray, path: Path) -> np.ndarray:
    """Return ``array`` as ``[N, D]`` or ``[N, C, H, W]``, or raise :class:`UserError`."""
    if array.ndim < 2 or array.ndim > 4 or 0 in array.shape:
        raise UserError(
            f"{path} holds an array of shape {array.shape}; accepted: {ACCEPTED_SHAPES}"
        )
    if array.ndim == 2:
        return array
    if array.ndim == 3:
        return array[:, None]
    # Channels-last is how images are usually saved, so it wins when both readings fit.
    if array.shape[3] in CHANNELS:
        return array.transpose(0, 3, 1, 2)
    if array.shape[1] in CHANNELS:
        return array
    raise UserError(
        f"{path} holds an array of shape {array.shape}, with neither 1 nor 3 channels in "
        f"axis 1 or 3; accepted: {ACCEPTED_SHAPES}"
    )


def check_labels(labels: np.ndarray | None, n: int, path: Path) -> np.ndarray | None:
    """Return integer labels of length ``n``, or raise :class:`UserError`."""
    if labels is None:
        return None
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise UserError(
            f"{path} has labels of {labels.dtype} and shape {labels.shape}, "
            f"expected integers of shape ({n},)"
        )
    return labels


def load_array_dataset(
    path: str | Path, name: str, test_fraction: float = 0.1, seed: int = 0
) -> Dataset:
    """Load a ``.npy``/``.npz`` file and split it randomly.

    Accepted ranks are ``[N, D]``, ``[N, H, W]``, ``[N, H, W, C]`` and ``[N, C, H, W]``
    (C in 1, 3). ``uint8`` is stored as is (8-bit pixels, divided by 255 per batch); bool,
    int and float values may be any finite numbers and are stored as float32, unchanged. An ``.npz`` uses the array named ``x``, ``data``, ``images``
    or ``arr_0`` (or its only array) and labels named ``y`` or ``labels``.

    Args:
        path: The file.
        name: The dataset's name (the path given).
        test_fraction: Share of examples in the test split.
        seed: Seed of the random split.
    """
    path = require_file(Path(path).expanduser())
    array, labels = read_arrays(path)
    layout = to_layout(array, path)
    check_values(array, path)
    labels = check_labels(labels, len(array), path)
    stored = np.uint8 if array.dtype == np.uint8 else np.float32
    return random_split(
        name=name,
        examples=as_tensor(np.ascontiguousarray(layout, dtype=stored)),
        labels=as_labels(labels),
        test_fraction=test_fraction,
        seed=seed,
        source={"kind": "array", "name": name, "path": str(path.resolve())},
    )
