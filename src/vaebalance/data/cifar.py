"""CIFAR-10 from the standard ``cifar-10-batches-py`` directory, unpickled safely.

The batches are Python pickles, and a plain ``pickle.load`` runs whatever code a file asks
for. :class:`ArrayUnpickler` only lets a pickle rebuild plain numpy arrays, so a tampered or
malicious batch is refused before anything in it runs.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from vaebalance.data.dataset import Dataset, as_labels, as_tensor
from vaebalance.data.files import require_exists
from vaebalance.errors import UserError

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
BATCH_DIR = "cifar-10-batches-py"
SEARCH_DIRS = ("~/.vaebalance/data/cifar10",)
IMAGE_SHAPE = (3, 32, 32)


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` restricted to what protocol-2 pickles use to store ``bytes``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r} is not a bytes literal")
    return text.encode("latin1", errors)


def _allowed_globals() -> dict[tuple[str, str], object]:
    """The only callables a batch may name, under every module path numpy has pickled them."""
    try:  # numpy >= 2 (and 1.26 as an alias)
        from numpy._core import multiarray, numeric
    except ImportError:  # older numpy
        from numpy.core import multiarray, numeric
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        # Python 3 pickles bytes at protocol 2 as _codecs.encode(str, "latin1").
        ("_codecs", "encode"): _latin1_encode,
    }
    # Older files name numpy.core; mapping it directly avoids numpy 2's deprecation shim.
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer
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


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 batch file into ``uint8 [n, 3, 32, 32]`` images and ``[n]`` labels.

    Raises:
        UserError: If the file is unreadable, not a safe pickle, or not a CIFAR-10 batch.
    """
    try:
        with path.open("rb") as handle:
            batch = ArrayUnpickler(handle, path).load()
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    except UserError:
        raise
    except Exception as err:  # a broken pickle can raise almost any exception type
        raise UserError(f"{path} is not a readable CIFAR-10 batch pickle: {err}") from None
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
