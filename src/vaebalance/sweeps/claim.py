"""A directory that one command owns: a sweep's or a tune's. The command's record (its base
config and what it varies or aims at) is written when the directory is made; running the same
command again resumes it, a different one is refused with the first field that differs, and
a lock keeps two processes from writing it at once."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from .._version import __version__
from ..errors import UserError
from ..storage import read_json, write_json

LOCK = ".sweep.lock"


def claim(path: Path, kind: str, filename: str, record: dict, stored: Callable[[dict], dict],
          describe: Callable[[dict, dict], str], to_write: dict) -> None:  # fmt: skip
    """Start a new directory for a ``kind`` ("sweep", "tune"), or check that an existing one
    was made by the same command.

    Args:
        filename: the record's file in ``path`` (``sweep.json``, ``tune.json``).
        record: what identifies the command, as JSON would give it back.
        stored: the record as found in an existing file.
        describe: the difference between an old record and ``record``, said briefly.
        to_write: the file's content besides its creation time and version.
    """
    if (path / filename).is_file():
        old = stored(read_json(path / filename))
        if old != record:
            raise UserError(
                f"{path} holds a {kind} made by a different command ({describe(old, record)}); "
                "repeat that command to resume it, or give a new --out"
            )
        return
    if path.exists() and any(path.iterdir()):
        raise UserError(f"{path} exists, is not empty and is not a {kind} (no {filename})")
    path.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().isoformat(timespec="seconds")
    write_json(path / filename, {**to_write, "created": stamp, "vaebalance": __version__})


def config_difference(before: dict, after: dict) -> str:
    """The first config field that differs, said briefly: ``train.epochs 3 → 5``."""
    before, after = flat(before or {}), flat(after)
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            return f"{key} {json.dumps(before.get(key))} → {json.dumps(after.get(key))}"
    return "base config"


def flat(d: dict, prefix: str = "") -> dict:
    """``{"a": {"b": 1}}`` as ``{"a.b": 1}``."""
    out = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


@contextlib.contextmanager
def lock(path: Path, kind: str = "sweep"):
    """Hold an exclusive lock on the directory: two commands writing one is a mistake."""
    try:
        import fcntl
    except ImportError:  # not POSIX: run unlocked
        yield
        return
    with open(path / LOCK, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another {kind} is running in {path}; wait for it to end") from None
        yield
