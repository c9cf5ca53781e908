"""CIFAR-10 from the standard ``cifar-10-batches-py`` directory, unpickled safely.

The batches are Python pickles, and a plain ``pickle.load`` runs whatever code a file asks
for. :class:`ArrayUnpickler` only lets a pickle rebuild plain numpy arrays, so a tampered or
malicious batch is refused before anything in it runs.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import pickletools
import re
from pathlib import Path

import numpy as np

from vaebalance.data.claims import SUBSET_ADVICE, check_fits, possible_shape, size_text
from vaebalance.data.dataset import Dataset, as_labels, as_tensor
from vaebalance.data.files import reason, require_exists
from vaebalance.errors import UserError

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
BATCH_DIR = "cifar-10-batches-py"
SEARCH_DIRS = ("~/.vaebalance/data/cifar10",)
IMAGE_SHAPE = (3, 32, 32)
# The dtype names numpy pickles for bool, integers and floats ("u1", "f4", ...).
PLAIN_DTYPE = re.compile(r"[biuf][1248]")


def _numpy_internals():
    """numpy's ``multiarray`` module: ``numpy._core`` since numpy 2, ``numpy.core`` before."""
    try:  # numpy >= 2 (and 1.26 as an alias)
        from numpy._core import multiarray
    except ImportError:  # older numpy
        from numpy.core import multiarray
    return multiarray


class _NdarrayName:
    """What ``numpy.ndarray`` resolves to in a batch: a name for :func:`_reconstruct` only.

    Calling ``numpy.ndarray(shape)`` from a pickle would allocate any size the file asks
    for; only numpy's own ``_reconstruct(ndarray, (0,), b"b")`` may use the class.
    """

    __slots__ = ()  # a pickle's BUILD cannot set attributes on it


NDARRAY = _NdarrayName()


class _CheckedArray(np.ndarray):
    """The array a pickle rebuilds, whose state is vetted before numpy takes it."""

    def __setstate__(self, state: object) -> None:
        super().__setstate__(_checked_state(state))


class DtypeSpec:
    """What a batch's ``numpy.dtype(name, align, copy)`` asks for, made real only once vetted.

    The pickle then sets the dtype's state (``BUILD``); numpy's own ``dtype.__setstate__``
    trusts that tuple, and a mutated one crashes the interpreter (found by the fuzz tests).
    Here only the byte order is taken from it, and the dtype is built from its name.
    """

    def __init__(self, name: object, align: object = False, copy: object = False) -> None:
        if not isinstance(name, str) or not PLAIN_DTYPE.fullmatch(name):
            raise pickle.UnpicklingError(f"{name!r} is not a plain numeric dtype")
        self.name, self.order = name, "="

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, tuple) or len(state) < 2 or state[1] not in ("<", ">", "|", "="):
            raise pickle.UnpicklingError("a dtype state without a byte order")
        self.order = state[1]

    def real(self) -> np.dtype:
        dtype = np.dtype(self.name)
        return dtype.newbyteorder(self.order) if self.order in "<>" else dtype


def _plain_dtype(dtype: object) -> np.dtype:
    """The real dtype of a vetted :class:`DtypeSpec`."""
    if not isinstance(dtype, DtypeSpec):
        raise pickle.UnpicklingError(f"{dtype!r} is not a plain numeric dtype")
    return dtype.real()


def _check_size(shape: object, dtype: np.dtype, n_bytes: int) -> tuple[int, ...]:
    """``shape`` if it is a tuple of sizes whose array is exactly ``n_bytes`` long."""
    if not isinstance(shape, tuple) or not all(type(d) is int for d in shape):
        raise pickle.UnpicklingError(f"{shape!r} is not an array shape")
    if not possible_shape(shape, dtype.itemsize):
        raise pickle.UnpicklingError(f"no array can have shape {shape}")
    if math.prod(shape) * dtype.itemsize != n_bytes:
        raise pickle.UnpicklingError(f"shape {shape} of {dtype} does not fit {n_bytes} bytes")
    return shape


def _checked_state(state: object) -> tuple:
    """An ndarray state ``(version, shape, dtype, fortran, bytes)`` whose size adds up."""
    if not isinstance(state, tuple) or len(state) != 5:
        raise pickle.UnpicklingError("an array state is not a 5-tuple")
    version, shape, dtype, fortran, data = state
    dtype = _plain_dtype(dtype)
    if isinstance(data, str):  # Python 2 pickles, read as latin1
        data = data.encode("latin1")
    if not isinstance(data, bytes):
        raise pickle.UnpicklingError("array data is not bytes")
    return version, _check_size(shape, dtype, len(data)), dtype, bool(fortran), data


def _reconstruct(cls: object, shape: object, typecode: object) -> np.ndarray:
    """numpy's pickled constructor, limited to the empty array it always starts from."""
    if cls is not NDARRAY or shape != (0,):
        raise pickle.UnpicklingError("_reconstruct is only allowed for an empty ndarray")
    return _numpy_internals()._reconstruct(_CheckedArray, (0,), b"b")


def _frombuffer(buffer: object, dtype: object, shape: object, order: object) -> np.ndarray:
    """numpy's out-of-band array constructor (pickle protocol 5), sizes checked first."""
    dtype = _plain_dtype(dtype)
    if not isinstance(buffer, bytes | bytearray | pickle.PickleBuffer):
        raise pickle.UnpicklingError("array data is not a buffer")
    shape = _check_size(shape, dtype, memoryview(buffer).nbytes)
    if order not in ("C", "F"):
        raise pickle.UnpicklingError(f"array order {order!r} is not C or F")
    # A copy: a view would keep the pickle's bytearray exported after the pickle frees it.
    return np.frombuffer(buffer, dtype).reshape(shape, order=order).copy()


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` restricted to what protocol-2 pickles use to store ``bytes``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r} is not a bytes literal")
    return text.encode("latin1", errors)


def _allowed_globals() -> dict[tuple[str, str], object]:
    """The only names a batch may use, under every module path numpy has pickled them."""
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): NDARRAY,
        ("numpy", "dtype"): DtypeSpec,
        # Python 3 pickles bytes at protocol 2 as _codecs.encode(str, "latin1").
        ("_codecs", "encode"): _latin1_encode,
    }
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = _reconstruct
        allowed[(f"{package}.numeric", "_frombuffer")] = _frombuffer
    return allowed


class ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can only rebuild dicts, lists, strings, numbers and numpy arrays."""

    def __init__(self, file: io.BufferedIOBase, path: Path) -> None:
        # latin1 is how numpy documents reading Python 2 pickles of arrays.
        super().__init__(file, encoding="latin1")
        self.path = path
        self.allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> object:
        """Return an allowed callable; refuse everything else before it can run."""
        found = self.allowed.get((module, name))
        if found is None:
            raise UserError(
                f"refusing to load {self.path}: it asks for {module}.{name}, "
                "which is not a plain array"
            )
        return found

    def persistent_load(self, pid: object) -> object:
        """Refuse persistent ids: plain arrays never need them."""
        raise UserError(f"refusing to load {self.path}: it uses persistent ids, not plain arrays")


def check_lengths(raw: bytes) -> None:
    """Walk the pickle's opcodes (without running them) and refuse a length that runs past
    the end: CPython allocates a ``BINBYTES8``/``BYTEARRAY8`` of its stated length before it
    reads (a 100-byte file could ask for terabytes; found by the fuzz tests)."""
    for _ in pickletools.genops(io.BytesIO(raw)):  # raises ValueError on a short argument
        pass


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 batch file into ``uint8 [n, 3, 32, 32]`` images and ``[n]`` labels.

    Raises:
        UserError: If the file is unreadable, not a safe pickle, or not a CIFAR-10 batch.
    """
    try:
        with path.open("rb") as handle:
            # The file's bytes, then the arrays built from them: three times its size.
            size = os.fstat(handle.fileno()).st_size
            check_fits(str(path), f"a {size_text(size)} pickle", 3 * size, SUBSET_ADVICE)
            raw = handle.read()
        check_lengths(raw)
        batch = ArrayUnpickler(io.BytesIO(raw), path).load()
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    except UserError:
        raise
    except Exception as err:  # a broken pickle can raise almost any exception type
        raise UserError(f"{path} is not a readable CIFAR-10 batch pickle: {reason(err)}") from None
    return _check_batch(batch, path)


def _entry(batch: dict, key: str, path: Path) -> object:
    """``batch[key]`` under either key type: files read as latin1 have str keys, others bytes."""
    for candidate in (key, key.encode()):
        if candidate in batch:
            return batch[candidate]
    keys = ", ".join(sorted(map(repr, batch)))
    raise UserError(f"{path} has no {key!r} entry; its keys are {keys}")


def _check_batch(batch: object, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Validate an unpickled batch and reshape its rows to ``[n, 3, 32, 32]``."""
    if not isinstance(batch, dict):
        raise UserError(f"{path} holds a {type(batch).__name__}, expected a CIFAR-10 batch dict")
    data, labels = _entry(batch, "data", path), _entry(batch, "labels", path)
    if isinstance(data, np.ndarray):
        data = np.asarray(data)  # a plain array, not the vetting subclass
    row = int(np.prod(IMAGE_SHAPE))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape[1:] != (row,):
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise UserError(f"{path} has data {got}, expected uint8 of shape [n, {row}]")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{path} has labels that are not integers") from None
    if labels.shape != (len(data),):
        raise UserError(f"{path} has {labels.shape} labels for {len(data)} images")
    # Each row is the red, then green, then blue 32x32 plane: already channel-first.
    return data.reshape(-1, *IMAGE_SHAPE), labels


def has_cifar_batches(directory: Path) -> bool:
    """Whether ``directory`` looks like ``cifar-10-batches-py``."""
    return (directory / TRAIN_BATCHES[0]).is_file() and (directory / TEST_BATCH).is_file()


def find_cifar_dir(data_dir: str | Path | None) -> Path:
    """The ``cifar-10-batches-py`` directory in ``data_dir`` (or the default places).

    Raises:
        UserError: Saying where it looked and how to get the files.
    """
    if data_dir is not None:
        roots = [require_exists(Path(data_dir).expanduser())]
    else:
        roots = [Path(d).expanduser() for d in SEARCH_DIRS]
    candidates = [d for root in roots for d in (root, root / BATCH_DIR)]
    for directory in candidates:
        if has_cifar_batches(directory):
            return directory
    raise UserError(
        f"cifar10 not found: looked for {TRAIN_BATCHES[0]} and {TEST_BATCH} in "
        f"{', '.join(map(str, candidates))}; extract cifar-10-python.tar.gz from the CIFAR "
        "website into one of them or pass --data-dir DIR"
    )


def load_cifar10(directory: str | Path, name: str = "cifar10") -> Dataset:
    """Load CIFAR-10 with its own split: 50000/10000 ``uint8 [N, 3, 32, 32]`` and labels.

    Args:
        directory: The ``cifar-10-batches-py`` directory.
        name: The dataset's name (``"cifar10"`` or the path given).
    """
    directory = require_exists(Path(directory).expanduser())
    missing = [b for b in (*TRAIN_BATCHES, TEST_BATCH) if not (directory / b).is_file()]
    if missing:
        raise UserError(f"{directory} lacks the CIFAR-10 batch files {', '.join(missing)}")
    # Each batch is read (about twice its size), then all are concatenated once more.
    total = sum((directory / b).stat().st_size for b in (*TRAIN_BATCHES, TEST_BATCH))
    claim = f"CIFAR-10 batches of {size_text(total)}"
    check_fits(str(directory), claim, 3 * total, SUBSET_ADVICE)
    parts = [read_batch(directory / b) for b in TRAIN_BATCHES]
    test, test_labels = read_batch(directory / TEST_BATCH)
    return Dataset(
        name=name,
        train=as_tensor(np.concatenate([p[0] for p in parts])),
        test=as_tensor(np.ascontiguousarray(test)),
        shape=IMAGE_SHAPE,
        train_labels=as_labels(np.concatenate([p[1] for p in parts])),
        test_labels=as_labels(test_labels),
        source={"kind": "cifar10", "name": name, "path": str(directory.resolve())},
    )
