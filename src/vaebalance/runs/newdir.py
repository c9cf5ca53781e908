"""A new run directory appears with its first files, or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from ..config import RunConfig
from ..errors import UserError
from ..storage import write_json, write_tensors


def default_run_dir(cfg: RunConfig) -> Path:
    """``runs/<time>-<data>-<likelihood>-<balancer>``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    data = Path(cfg.data.name).stem if "/" in cfg.data.name else cfg.data.name
    return Path("runs") / f"{stamp}-{data}-{cfg.likelihood.name}-{cfg.balancer.name}"


def make_run_dir(path: Path, files: dict[str, dict]) -> None:
    """Create the run directory with its first files in one step: they are written into a
    hidden sibling that is then renamed into place, so a crash never leaves a directory that
    holds config.json but not run.json (neither a run to resume nor an empty output).
    Files named ``*.safetensors`` hold a dict of tensors; the others are JSON."""
    _check_free(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as e:
        raise UserError(f"cannot create output directory {path}: {e.strerror or e}") from None
    try:
        for name, content in files.items():
            if name.endswith(".safetensors"):
                write_tensors(staging / name, content)
            else:
                write_json(staging / name, content)
        staging.chmod(0o777 & ~_umask())
        os.replace(staging, path)  # replaces an empty directory, never a full one
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_free(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UserError(f"output path {path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        raise UserError(f"output directory {path} exists and is not empty (use --resume)")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():  # e.g. --out some_file.txt/run
        raise UserError(f"cannot create output directory {path}: Not a directory")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
