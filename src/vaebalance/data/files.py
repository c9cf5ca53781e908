"""Reading user files as streams, with every failure turned into a one-line :class:`UserError`.

Nothing here reads a whole file at once: a loader reads the header, checks what it claims
(:mod:`vaebalance.data.claims`), and only then reads the data into an array of that size.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vaebalance.errors import UserError

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 16 << 20  # bytes per read: bounds the temporary copy a decompressor makes
GZIP_ERRORS = (OSError, EOFError, zlib.error)
MAX_REASON = 200  # characters of an exception's text quoted in an error line


@dataclass(frozen=True)
class Opened:
    """A file open for reading, decompressed on the fly when it is gzipped."""

    stream: BinaryIO
    gzipped: bool
    size: int  # bytes on disk (compressed, for a gzipped file)


@contextmanager
def open_binary(path: Path) -> Iterator[Opened]:
    """Open ``path`` for streaming; gunzip it when it starts with the gzip magic bytes.

    Decided by content, not by a ``.gz`` suffix: renamed files are common. Read errors inside
    the block become a :class:`UserError` naming the file.
    """
    try:
        handle = path.open("rb")
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    with handle:
        gzipped = handle.read(len(GZIP_MAGIC)) == GZIP_MAGIC
        handle.seek(0)
        size = path.stat().st_size
        stream = gzip.GzipFile(fileobj=handle, mode="rb") if gzipped else handle
        try:
            yield Opened(stream, gzipped, size)
        except UserError:
            raise
        except GZIP_ERRORS as err:
            if gzipped:
                raise UserError(f"{path} is not a valid gzip file: {reason(err)}") from None
            raise UserError(
                f"cannot read {path}: {getattr(err, 'strerror', None) or err}"
            ) from None


def reason(err: BaseException) -> str:
    """An exception's text on one line: a parser's message may quote the file's raw bytes."""
    text = str(err) or type(err).__name__
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    # A parser may quote a whole header: keep the line readable.
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def fill(stream: BinaryIO, flat: np.ndarray) -> int:
    """Read into the ``uint8`` array ``flat`` until it is full or the stream ends; the count."""
    done = 0
    while done < len(flat):
        n = stream.readinto(flat[done : done + CHUNK])
        if not n:
            break
        done += n
    return done


def require_exists(path: Path) -> Path:
    """Return ``path`` unchanged, or raise :class:`UserError` if nothing is there."""
    if not path.exists():
        raise UserError(f"no such file or directory: {path}")
    return path


def require_file(path: Path) -> Path:
    """Return ``path`` if it is a regular file (after links): a FIFO or ``/dev/zero`` has no
    size to check a claim against and may never end."""
    if not require_exists(path).is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise UserError(f"cannot load {path}: it is {kind}")
    return path
