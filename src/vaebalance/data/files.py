"""Reading user files with every failure turned into a one-line :class:`UserError`."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from vaebalance.errors import UserError

GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: Path) -> bytes:
    """Return the contents of ``path``, gunzipped when it starts with the gzip magic bytes."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw
    # Decide by content, not by the ".gz" suffix: renamed files are common.
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise UserError(f"{path} is not a valid gzip file: {err}") from None


def require_exists(path: Path) -> Path:
    """Return ``path`` unchanged, or raise :class:`UserError` if nothing is there."""
    if not path.exists():
        raise UserError(f"no such file or directory: {path}")
    return path
