"""Files on disk: atomic writes, and JSON, CSV and safetensors read back with one-line errors.

Every file is written to a temporary name in the same directory, fsynced and renamed, so a
crash leaves either the old file or the new one, never half of one. Nothing is ever unpickled:
tensors are safetensors, everything else JSON or CSV.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:
    import torch

TMP_SUFFIX = ".tmp"  # atomic_write's temporary files: ".<name>.<random>.tmp", never read

# mkstemp creates files readable by their owner only; run files get the usual umask instead.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Raises:
        UserError: if the file cannot be written (disk full, file too large, no permission);
            the previous file, if any, is left as it was and no temporary file remains.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise UserError(f"cannot write {path}: {e.strerror or e}") from None
        raise
    _fsync_dir(path.parent)


def remove_temporary_files(directory: str | Path) -> list[Path]:
    """Delete what an interrupted :func:`atomic_write` left in ``directory``; returns them."""
    removed = []
    for tmp in Path(directory).glob(f".*{TMP_SUFFIX}"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_safe(obj):
    """Non-finite floats become null: JSON has no NaN, and a reader must never see one."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def write_json(path: str | Path, obj) -> None:
    atomic_write(path, (json.dumps(_json_safe(obj), indent=2) + "\n").encode())


def read_json(path: str | Path) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"missing file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"corrupt JSON file {path}: {e}") from None


def write_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata=None) -> None:
    from safetensors.torch import save  # torch loads only where tensors are written or read

    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    atomic_write(path, save(tensors, metadata=metadata))


def read_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    try:
        return load(path.read_bytes())
    except FileNotFoundError:
        raise UserError(f"missing weights file: {path}") from None
    except (SafetensorError, ValueError, OSError) as e:
        raise UserError(f"corrupt or unreadable safetensors file {path}: {e}") from None


def write_csv(path: str | Path, rows: list[dict]) -> None:
    """Rows as CSV; a non-finite float (an epoch without a finite step) is an empty cell."""
    buf = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows([{k: _csv_safe(v) for k, v in row.items()} for row in rows])
    atomic_write(path, buf.getvalue().encode())


def _csv_safe(value):
    return "" if isinstance(value, float) and not math.isfinite(value) else value


def read_csv(path: str | Path) -> list[dict]:
    """Rows with numbers parsed back to int/float where they parse."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text
