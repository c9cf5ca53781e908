"""MNIST and Fashion-MNIST from their standard idx files, never downloaded.

The idx format is a 4-byte magic number ``0x00 0x00 TYPE NDIM``, then ``NDIM`` big-endian
uint32 sizes, then the values in C order. Files may be gzipped or not.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vaebalance.data.claims import (
    SUBSET_ADVICE,
    check_expansion,
    check_fits,
    check_holds,
    possible_shape,
)
from vaebalance.data.dataset import Dataset, as_labels, as_tensor
from vaebalance.data.files import CHUNK, fill, open_binary, require_exists
from vaebalance.errors import UserError

# idx type codes and the big-endian numpy dtypes they denote.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

# (images, labels) file stems of each split, as published.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Where each named source is searched when no data directory is given, in order.
SEARCH_DIRS = {
    "fashion-mnist": ("/usr/share/datasets/fashion-mnist", "~/.vaebalance/data/fashion-mnist"),
    "mnist": ("/usr/share/datasets/mnist", "~/.vaebalance/data/mnist"),
}

HOW_TO_GET = {
    "fashion-mnist": "install it with `apt-get install dataset-fashion-mnist`",
    "mnist": "put the four idx files in ~/.vaebalance/data/mnist",
}


def read_idx(path: Path) -> np.ndarray:
    """Read one idx file (gzipped or not) into a native-endian numpy array.

    The sizes in the header are checked against the bytes the file holds (for a gzipped file:
    against what its compressed bytes can expand to, then as it is read) and against the
    memory there is, before the array is allocated.

    Raises:
        UserError: If the file cannot be read, has a wrong magic number, its size does not
            match its header, or it does not fit in memory.
    """
    with open_binary(path) as opened:
        dims, dtype = _read_header(opened.stream, path)
        header = 4 + 4 * len(dims)
        claim, claimed = f"sizes {list(dims)} of {dtype.name}", math.prod(dims) * dtype.itemsize
        if opened.gzipped:
            check_expansion(str(path), claim, header + claimed, opened.size)
        else:
            check_holds(str(path), claim, claimed, opened.size - header)
        # Big-endian values are copied once more into native order.
        check_fits(str(path), claim, claimed * (1 if dtype.itemsize == 1 else 2), SUBSET_ADVICE)
        raw = np.empty(claimed, dtype=np.uint8)
        check_holds(str(path), claim, claimed, fill(opened.stream, raw))
        extra = len(opened.stream.read(CHUNK)) if opened.gzipped else 0
        if extra:
            check_holds(str(path), claim, claimed, claimed + extra, at_least=True)
    values = raw.view(dtype).reshape(dims)
    return values if dtype.isnative else values.astype(dtype.newbyteorder("="))


def _read_header(stream: BinaryIO, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """The sizes and the big-endian dtype an idx header states."""
    start = stream.read(4)
    if len(start) < 4:
        raise UserError(f"{path} is not an idx file: it is only {len(start)} bytes long")
    zeros, type_code, ndim = struct.unpack(">HBB", start)
    if zeros != 0 or type_code not in IDX_DTYPES or ndim == 0:
        magic = struct.unpack(">I", start)[0]
        raise UserError(
            f"{path} is not an idx file: magic number 0x{magic:08x}, expected 0x0000TTNN "
            "with type TT in 08, 09, 0b, 0c, 0d, 0e and NN >= 1 dimensions"
        )
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise UserError(f"{path} is truncated: its header promises {ndim} sizes but ends early")
    dims, dtype = struct.unpack(f">{ndim}I", sizes), np.dtype(IDX_DTYPES[type_code])
    if not possible_shape(dims, dtype.itemsize):
        raise UserError(f"{path} is not an idx file: its sizes {list(dims)} overflow an index")
    return dims, dtype


def find_idx_file(directory: Path, stem: str) -> Path | None:
    """The file for ``stem`` in ``directory``: plain or ``.gz``, ``-idx`` or ``.idx`` spelling."""
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def has_idx_files(directory: Path) -> bool:
    """Whether ``directory`` holds an idx training-images file."""
    return find_idx_file(directory, IDX_FILES["train"][0]) is not None


def find_idx_dir(name: str, data_dir: str | Path | None) -> Path:
    """The directory holding the idx files of ``name`` (``"mnist"`` or ``"fashion-mnist"``).

    Args:
        name: The named source.
        data_dir: Where the user says the files are (the directory itself or its parent);
            ``None`` searches the default places.

    Raises:
        UserError: Saying where it looked and how to get the files.
    """
    if data_dir is not None:
        root = require_exists(Path(data_dir).expanduser())
        candidates = [root, root / name]
    else:
        candidates = [Path(d).expanduser() for d in SEARCH_DIRS[name]]
    for directory in candidates:
        if has_idx_files(directory):
            return directory
    looked = ", ".join(str(d) for d in candidates)
    raise UserError(
        f"{name} not found: looked for {IDX_FILES['train'][0]}[.gz] in {looked}; "
        f"{HOW_TO_GET[name]} or pass --data-dir DIR"
    )


def load_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray, Path]:
    """Read and check the images and labels of one split; also return the images path."""
    paths = []
    for stem in IDX_FILES[split]:
        path = find_idx_file(directory, stem)
        if path is None:
            raise UserError(f"{directory} has no {stem}[.gz], which the {split} split needs")
        paths.append(path)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise UserError(
            f"{paths[0]} holds {images.dtype} of shape {images.shape}, "
            "expected unsigned bytes of shape [N, H, W]"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise UserError(
            f"{paths[1]} holds labels of shape {labels.shape}, expected [{len(images)}] "
            f"to match {paths[0].name}"
        )
    return images, labels, paths[0]


def load_idx_dataset(directory: str | Path, name: str) -> Dataset:
    """Load an idx directory with its own train/test split as ``uint8 [N, 1, H, W]``.

    Args:
        directory: The directory holding the four idx files.
        name: The dataset's name (``"fashion-mnist"``, ``"mnist"`` or the path given).
    """
    directory = require_exists(Path(directory).expanduser())
    train, train_labels, train_path = load_split(directory, "train")
    test, test_labels, test_path = load_split(directory, "test")
    if train.shape[1:] != test.shape[1:]:
        raise UserError(
            f"{train_path} has {train.shape[1:]} images but {test_path} has {test.shape[1:]}"
        )
    return Dataset(
        name=name,
        train=as_tensor(train[:, None]),
        test=as_tensor(test[:, None]),
        shape=(1, *train.shape[1:]),
        train_labels=as_labels(train_labels),
        test_labels=as_labels(test_labels),
        source={"kind": "idx", "name": name, "path": str(directory.resolve())},
    )
