"""Shared pieces of the reliability tests: a finished tiny run, and running the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vaebalance.cli import main
from vaebalance.config import build_config
from vaebalance.runs import train

from .catalogue import TINY


@pytest.fixture(scope="session")
def base_run(tmp_path_factory) -> Path:
    """A finished one-epoch run on digits (hidden [32], J = 4): about a second to train."""
    path, _ = train(build_config(None, TINY), tmp_path_factory.mktemp("base") / "run")
    return path


def cli_in_process(args: list[str], capsys) -> tuple[int, str]:
    """Run ``vaebalance ARGS`` in this process; returns (exit code, stderr)."""
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def cli_subprocess(args: list[str], cwd: Path, timeout: float = 300, **kwargs):
    """Run ``python -m vaebalance ARGS`` as a child process."""
    return subprocess.run(
        [sys.executable, "-m", "vaebalance", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every directory (None) under ``root``, by relative path."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }
