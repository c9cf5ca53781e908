"""Turn what a user names (a dataset name, a path, or a run's stored source) into a Dataset."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from vaebalance.data.arrays import load_array_dataset
from vaebalance.data.cifar import find_cifar_dir, has_cifar_batches, load_cifar10
from vaebalance.data.dataset import Dataset
from vaebalance.data.digits import load_digits_dataset
from vaebalance.data.factors import attach_factors
from vaebalance.data.idx import find_idx_dir, has_idx_files, load_idx_dataset
from vaebalance.data.images import IMAGE_SUFFIXES, load_image_folder
from vaebalance.data.resample import resample
from vaebalance.data.split import check_test_fraction
from vaebalance.data.sprites import DEFAULT_EXAMPLES, DEFAULT_SIZE, load_sprites_dataset
from vaebalance.data.tabular import load_csv_dataset
from vaebalance.data.validation import hold_out, reapply
from vaebalance.errors import UserError, check

NamedLoader = Callable[[str | None, float, int], Dataset]
PathLoader = Callable[[Path, str, float, int], Dataset]

NAMED: dict[str, NamedLoader] = {
    "digits": lambda data_dir, fraction, seed: load_digits_dataset(fraction, seed),
    "fashion-mnist": lambda data_dir, fraction, seed: load_idx_dataset(
        find_idx_dir("fashion-mnist", data_dir), "fashion-mnist"
    ),
    "mnist": lambda data_dir, fraction, seed: load_idx_dataset(
        find_idx_dir("mnist", data_dir), "mnist"
    ),
    "cifar10": lambda data_dir, fraction, seed: load_cifar10(find_cifar_dir(data_dir), "cifar10"),
    "sprites": lambda data_dir, fraction, seed: load_sprites_dataset(
        DEFAULT_SIZE, DEFAULT_EXAMPLES, fraction, seed
    ),
}
# Sources that render at data.size and draw data.examples themselves; every other source is
# loaded whole, then resampled and subset (data/resample.py).
SIZED = ("sprites",)

FILE_LOADERS: dict[str, PathLoader] = {
    ".npy": load_array_dataset,
    ".npz": load_array_dataset,
    ".csv": load_csv_dataset,
}

FILE_TYPES = "a .npy, .npz or .csv file, or a folder of PNG/JPEG images"


def dataset_names() -> tuple[str, ...]:
    """The named sources :func:`load_dataset` accepts besides paths."""
    return tuple(sorted(NAMED))


def load_dataset(
    spec: str | os.PathLike | Mapping,
    data_dir: str | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
    *,
    size: int | None = None,
    examples: int | None = None,
    factors: str | os.PathLike | None = None,
    val_fraction: float = 0.0,
) -> Dataset:
    """Load a dataset by name (see :func:`dataset_names`), by path, or from a stored source.

    Args:
        spec: A name such as ``"digits"`` or ``"fashion-mnist"``; a path to a ``.npy``,
            ``.npz`` or ``.csv`` file, an idx or ``cifar-10-batches-py`` directory, or a
            folder of PNG/JPEG images; or a ``Dataset.source`` dict saved with a run.
            Names win over same-named paths: write ``./digits`` for a folder called digits.
        data_dir: Where the files of a named source are, instead of the default places.
        test_fraction: Share of examples in the test split of sources without their own.
        seed: Seed of that split.
        size: Image side: ``sprites`` renders at it (64 or 32; default 64), any other image
            source is resampled to ``size × size`` (:mod:`~vaebalance.data.resample`).
        examples: How many examples (train + test): ``sprites`` draws that many (default
            20,000), any other source keeps a seeded random subset of that many.
        factors: A file of generative factors, one integer row per example
            (:func:`~vaebalance.data.factors.read_factors`), attached to the splits.
        val_fraction: Share of the training examples held out for validation
            (:func:`~vaebalance.data.validation.hold_out`, seeded by ``seed``); 0: none.

    Raises:
        UserError: For an unknown name, a missing path, or any problem with the data.
    """
    if isinstance(spec, Mapping):
        return load_from_source(spec)
    check(isinstance(spec, str | os.PathLike), f"dataset must be a name or a path, got {spec!r}")
    spec = os.fspath(spec)
    check(spec.strip() != "", "dataset must be a name or a path, got an empty string")
    check_test_fraction(test_fraction)
    if spec == "sprites":
        data = load_sprites_dataset(
            DEFAULT_SIZE if size is None else size,
            DEFAULT_EXAMPLES if examples is None else examples,
            test_fraction,
            seed,
        )
    elif spec in NAMED:
        data = NAMED[spec](data_dir, test_fraction, seed)
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise _not_found(spec)
        data = load_path(path, spec, test_fraction, seed)
    data = data if factors is None else attach_factors(data, factors)
    data = data if spec in SIZED else resample(data, size, examples, seed)
    return hold_out(data, val_fraction, seed)


def _not_found(spec: str) -> UserError:
    """The error for a spec that is neither a name nor an existing path."""
    if "/" in spec or os.sep in spec or spec.startswith(("~", ".")) or Path(spec).suffix:
        return UserError(f"no such file or directory: {spec}")
    close = difflib.get_close_matches(spec, NAMED, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return UserError(
        f"unknown dataset {spec!r}{hint}; valid names: {', '.join(dataset_names())}, "
        f"or a path to {FILE_TYPES}"
    )


def load_path(path: Path, name: str, test_fraction: float = 0.1, seed: int = 0) -> Dataset:
    """Load an existing file or directory, choosing the reader by its suffix or contents."""
    if path.is_dir():
        if has_idx_files(path):
            return load_idx_dataset(path, name)
        if has_cifar_batches(path):
            return load_cifar10(path, name)
        return load_image_folder(path, name, test_fraction, seed)
    loader = FILE_LOADERS.get(path.suffix.lower())
    if loader is None:
        kind = f"{path.suffix!r} files" if path.suffix else "files without a suffix"
        single = " (for images, give their folder)" if path.suffix.lower() in IMAGE_SUFFIXES else ""
        raise UserError(f"cannot load {path}: {kind} are not supported{single}; use {FILE_TYPES}")
    return loader(path, name, test_fraction, seed)


def load_from_source(source: Mapping) -> Dataset:
    """Reload exactly the dataset a run used, from the ``Dataset.source`` it saved.

    Raises:
        UserError: If the source is malformed or its files are no longer where they were.
    """
    check(isinstance(source, Mapping), f"a dataset source must be a dict, got {source!r}")
    data = _load_source(source)
    factors = source.get("factors")
    data = data if factors is None else attach_factors(data, factors)
    again = source.get("resample")
    if isinstance(again, Mapping):  # the same subset and size as the run had
        data = resample(data, again.get("size"), again.get("examples"), again.get("seed", 0))
    return reapply(data, source)


def _load_source(source: Mapping) -> Dataset:
    kind = source.get("kind")
    kinds = ("array", "cifar10", "csv", "digits", "idx", "images", "sprites")
    check(kind in kinds, f"unknown dataset source kind {kind!r}; valid: {', '.join(kinds)}")
    fraction, seed = source.get("test_fraction", 0.1), source.get("seed", 0)
    if kind == "digits":
        return load_digits_dataset(fraction, seed)
    if kind == "sprites":
        size, examples = source.get("size", DEFAULT_SIZE), source.get("examples", DEFAULT_EXAMPLES)
        return load_sprites_dataset(size, examples, fraction, seed)
    check(isinstance(source.get("path"), str), f"the stored {kind} dataset source has no 'path'")
    path = Path(source["path"])
    name = str(source.get("name", path))
    if not _still_there(kind, path):
        raise UserError(f"the dataset is no longer where the run found it: {path}")
    if kind == "idx":
        return load_idx_dataset(path, name)
    if kind == "cifar10":
        return load_cifar10(path, name)
    if kind == "images":
        return load_image_folder(path, name, fraction, seed)
    if kind == "csv":
        # Sources written before real values were accepted have no "scaling": min-max then.
        return load_csv_dataset(path, name, fraction, seed, source.get("scaling") != "none")
    return load_array_dataset(path, name, fraction, seed)


def _still_there(kind: str, path: Path) -> bool:
    """Whether the files a source of ``kind`` needs are still at ``path``."""
    if kind == "idx":
        return has_idx_files(path)
    if kind == "cifar10":
        return has_cifar_batches(path)
    return path.is_dir() if kind == "images" else path.is_file()
