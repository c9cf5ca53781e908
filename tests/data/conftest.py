"""Builders of small, faithful data files (idx, CIFAR batches), shared as fixtures."""

from __future__ import annotations

import gzip
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

# idx type codes as published with MNIST (independent of the package's own table).
IDX_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def write_idx_file(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    """Write ``array`` as an idx file with a hand-built big-endian header."""
    code = IDX_CODES[array.dtype.str[1:]]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def write_idx_dir(
    directory: Path, n_train: int = 6, n_test: int = 3, size: tuple = (4, 5), gz: bool = True
) -> dict[str, np.ndarray]:
    """Write the four MNIST-style idx files of a tiny random dataset; return the arrays."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train_x": rng.integers(0, 256, (n_train, *size), dtype=np.uint8),
        "train_y": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_x": rng.integers(0, 256, (n_test, *size), dtype=np.uint8),
        "test_y": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    suffix = ".gz" if gz else ""
    names = {
        "train_x": "train-images-idx3-ubyte",
        "train_y": "train-labels-idx1-ubyte",
        "test_x": "t10k-images-idx3-ubyte",
        "test_y": "t10k-labels-idx1-ubyte",
    }
    for key, stem in names.items():
        write_idx_file(directory / f"{stem}{suffix}", arrays[key], gz=gz)
    return arrays


def cifar_batch(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    """Random CIFAR-10 rows ``uint8 [n, 3072]`` and labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist()


def write_cifar_batch(
    path: Path, data: np.ndarray, labels: list[int], protocol: int = 2, bytes_keys: bool = True
) -> Path:
    """Pickle a CIFAR-10 batch dict the way Python 3 would."""
    keys = [b"batch_label", b"labels", b"data", b"filenames"]
    if not bytes_keys:
        keys = [k.decode() for k in keys]
    names = [f"img_{i}.png".encode() for i in range(len(labels))]
    batch = dict(zip(keys, [b"training batch 1 of 5", labels, data, names], strict=True))
    with path.open("wb") as handle:
        pickle.dump(batch, handle, protocol=protocol)
    return path


def py2_cifar_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch pickle opcode by opcode, as Python 2's cPickle wrote the real CIFAR-10 files.

    Python 2 stored str as BINSTRING and named numpy.core.multiarray._reconstruct; Python 3
    cannot produce that, so it is spelled out here from the pickle protocol 2 opcodes.
    """

    def string(value: bytes) -> bytes:
        if len(value) < 256:
            return b"U" + bytes([len(value)]) + value  # SHORT_BINSTRING
        return b"T" + struct.pack("<I", len(value)) + value  # BINSTRING

    def integer(value: int) -> bytes:
        return b"J" + struct.pack("<i", value)  # BININT

    dtype = (
        b"cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R"
        + b"(" + integer(3) + string(b"|") + b"NNN" + integer(-1) + integer(-1) + integer(0)
        + b"tb"
    )  # fmt: skip
    array = (
        b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
        + integer(0) + b"\x85" + string(b"b") + b"\x87R"
        + b"(" + integer(1) + integer(data.shape[0]) + integer(data.shape[1]) + b"\x86"
        + dtype + b"\x89" + string(data.tobytes()) + b"tb"
    )  # fmt: skip
    label_list = b"](" + b"".join(integer(v) for v in labels) + b"e"
    return (
        b"\x80\x02}("
        + string(b"batch_label") + string(b"training batch 1 of 5")
        + string(b"labels") + label_list
        + string(b"data") + array
        + b"u."
    )  # fmt: skip


@pytest.fixture
def idx_dir() -> Callable[..., dict[str, np.ndarray]]:
    """Return :func:`write_idx_dir`."""
    return write_idx_dir


@pytest.fixture
def write_idx() -> Callable[..., Path]:
    """Return :func:`write_idx_file`."""
    return write_idx_file


@pytest.fixture
def cifar_dir(tmp_path: Path) -> tuple[Path, list, tuple]:
    """A ``cifar-10-batches-py`` folder of 5 train batches of 2 and a test batch of 3."""
    directory = tmp_path / "cifar-10-batches-py"
    directory.mkdir()
    train = [cifar_batch(2, seed) for seed in range(5)]
    for i, (data, labels) in enumerate(train, start=1):
        write_cifar_batch(directory / f"data_batch_{i}", data, labels)
    test = cifar_batch(3, 99)
    write_cifar_batch(directory / "test_batch", *test)
    return directory, train, test
