"""Datasets from a flat folder of PNG/JPEG images, read with Pillow."""

from __future__ import annotations

import math
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from vaebalance.data.claims import SUBSET_ADVICE, check_expansion, check_fits, check_holds
from vaebalance.data.dataset import Dataset, as_tensor
from vaebalance.data.files import reason, require_exists
from vaebalance.data.split import random_split
from vaebalance.errors import UserError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Pillow modes that hold one gray channel at 8 bits (with or without alpha or a bit depth of 1).
GRAY_MODES = ("1", "L", "LA", "La")
# High-bit-depth modes would lose precision (or be clipped) when squeezed into 8 bits.
WIDE_MODES = ("I", "F", "I;16", "I;16B", "I;16L", "I;16N")


def image_files(folder: Path) -> list[Path]:
    """The PNG/JPEG files directly inside ``folder``, sorted by name for a stable order."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as err:
        raise UserError(f"cannot list {folder}: {err.strerror or err}") from None
    files = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if files:
        return files
    nested = any(p.is_dir() for p in entries)
    where = " (subfolders are not searched)" if nested else ""
    raise UserError(f"{folder} holds no .png, .jpg or .jpeg files{where}")


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Only these decoders ever see the bytes (by content: a PNG named .jpg still loads).
FORMATS = ("PNG", "JPEG")
PIL_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,  # over 89 Mpx: made an error below
)


@contextmanager
def opened(path: Path) -> Iterator[Image.Image]:
    """``path`` opened by Pillow as a PNG or JPEG, its failures one :class:`UserError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as image:
                yield image
    except PIL_ERRORS as err:
        raise UserError(f"cannot read image {path}: {reason(err)}") from None


def read_header(path: Path) -> tuple[tuple[int, int], str]:
    """The ``(width, height)`` and Pillow mode of ``path``, read without decoding pixels.

    A PNG's pixels are deflate data, which expands at most 1032:1; a header claiming more
    than the file could hold (at one bit per pixel) is refused before anything is decoded.
    """
    with opened(path) as image:
        (width, height), mode, kind = image.size, image.mode, image.format
    if kind == "PNG":
        size = path.stat().st_size
        least = height * (1 + math.ceil(width / 8))  # bytes of 1-bit scanlines
        check_expansion(str(path), f"a {width}x{height} image", least, size)
        check_png_chunks(path, size)
    return (width, height), mode


def check_png_chunks(path: Path, size: int) -> None:
    """Refuse a PNG chunk whose length runs past the end of the file.

    Pillow reads a chunk's stated length in one call; a 100-byte file stating 2 GiB would
    have it allocate 2 GiB.
    """
    try:
        with path.open("rb") as handle:
            at = handle.seek(len(PNG_MAGIC))
            while at + 8 <= size:
                length, kind = struct.unpack(">I4s", handle.read(8))
                name = kind.decode("latin1") if kind.isalpha() else kind.hex()
                check_holds(
                    str(path), f"a chunk {name}", length, max(min(length, size - at - 12), 0)
                )
                if kind == b"IEND":
                    return
                at = handle.seek(at + 12 + length)
    except OSError as err:
        raise UserError(f"cannot read image {path}: {err.strerror or err}") from None


def decode(path: Path, mode: str) -> np.ndarray:
    """Decode ``path`` fully and convert it to ``mode``, or raise :class:`UserError` naming it."""
    with opened(path) as image:
        return np.asarray(image.convert(mode), dtype=np.uint8)


def target_mode(headers: list[tuple[tuple[int, int], str]], files: list[Path]) -> str:
    """``"L"`` if every image is grayscale, else ``"RGB"``; refuse high-bit-depth images."""
    for (_, mode), path in zip(headers, files, strict=True):
        if mode in WIDE_MODES:
            raise UserError(
                f"{path} is a {mode} (more than 8-bit) image; convert it to 8-bit "
                "grayscale or RGB, or save the data as a float .npy in [0, 1]"
            )
    return "L" if all(mode in GRAY_MODES for _, mode in headers) else "RGB"


def check_sizes(headers: list[tuple[tuple[int, int], str]], files: list[Path]) -> None:
    """Raise :class:`UserError` naming two files whose sizes differ."""
    first = headers[0][0]
    for (size, _), path in zip(headers, files, strict=True):
        if size != first:
            raise UserError(
                f"images differ in size: {files[0]} is {first[0]}x{first[1]} but {path} is "
                f"{size[0]}x{size[1]}; resize them to one size"
            )


def read_image_folder(folder: Path) -> np.ndarray:
    """Read every image of ``folder`` into ``uint8 [N, C, H, W]`` (C = 1 or 3)."""
    files = image_files(folder)
    # Headers first: sizes and modes are checked before any pixel is decoded.
    headers = [read_header(path) for path in files]
    check_sizes(headers, files)
    mode = target_mode(headers, files)
    width, height = headers[0][0]
    channels = 1 if mode == "L" else 3
    # The array, its train/test copy, and one image decoded as RGBA at a time.
    need = 2 * len(files) * channels * height * width + 4 * height * width
    claim = f"{len(files)} images of {width}x{height}x{channels}"
    check_fits(str(folder), claim, need, SUBSET_ADVICE)
    # Decoding into one preallocated array keeps peak memory at the dataset's size.
    out = np.empty((len(files), channels, height, width), dtype=np.uint8)
    for i, path in enumerate(files):
        out[i] = np.moveaxis(decode(path, mode).reshape(height, width, channels), -1, 0)
    return out


def load_image_folder(
    folder: str | Path, name: str, test_fraction: float = 0.1, seed: int = 0
) -> Dataset:
    """Load a flat folder of PNG/JPEG images (subfolders are ignored) and split it randomly.

    All images must have the same width and height. They are stored as ``uint8``: one
    channel if all are grayscale, else three (grayscale images are then repeated to RGB and
    alpha channels are dropped). Other files in the folder are ignored.

    Args:
        folder: The folder.
        name: The dataset's name (the path given).
        test_fraction: Share of examples in the test split.
        seed: Seed of the random split.
    """
    folder = require_exists(Path(folder).expanduser())
    examples = read_image_folder(folder)
    return random_split(
        name=name,
        examples=as_tensor(examples),
        labels=None,
        test_fraction=test_fraction,
        seed=seed,
        source={"kind": "images", "name": name, "path": str(folder.resolve())},
    )
