"""Crash safety: training killed with SIGKILL (inside an epoch, in the middle of a checkpoint
write) and resumed with ``vaebalance train --resume`` ends with weights bitwise identical to an
uninterrupted run, and the killed run directory is always readable or clearly rejected.

Kills in the middle of a checkpoint write use the ``VAEBALANCE_FAULT=checkpoint:N`` hook (the
process kills itself after the tensors file is on disk, before ``latest.json`` is replaced);
the others come at seeded random moments after a checkpoint was written.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vaebalance.runs import RunDir

from .conftest import cli_in_process

pytestmark = pytest.mark.slow

EPOCHS = 12  # 22 steps each on digits
TINY = ["--set", "model.hidden=[32]", "--latent-dim", "4", "--threads", "1", "--iw-samples", "0",
        "--set", "train.tensorboard=false", "--epochs", str(EPOCHS)]  # fmt: skip
QUIET = ["--quiet", "--no-report"]


def start(args: list[str], cwd: Path, fault: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "VAEBALANCE_FAULT"}
    if fault:
        env["VAEBALANCE_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, "-m", "vaebalance", *args, *QUIET],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> int:
    _, err = proc.communicate(timeout=timeout)
    assert "Traceback" not in err, err
    return proc.returncode


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("reference")
    assert finish(start(["train", "--out", "run", *TINY], cwd)) == 0
    return cwd / "run"


def assert_same_result(run: Path, reference: Path) -> None:
    # The weights file bytes: every tensor bit for bit, same names, same order.
    assert (run / "model.safetensors").read_bytes() == (
        reference / "model.safetensors"
    ).read_bytes()

    def untimed(rows):
        return [{k: v for k, v in r.items() if k not in ("seconds", "train_seconds")} for r in rows]

    assert untimed(RunDir(run).history()) == untimed(RunDir(reference).history())
    timing = ("seconds", "train_seconds")
    a, b = RunDir(run).metrics(), RunDir(reference).metrics()
    assert {k: v for k, v in a.items() if k not in timing} == {
        k: v for k, v in b.items() if k not in timing
    }
    assert RunDir(run).info()["status"] == "finished"
    assert not list(run.rglob("*.tmp"))
    assert len(list((run / "checkpoint").glob("state-*.safetensors"))) == 1


def assert_readable_or_clearly_rejected(cwd: Path, capsys, report: bool = False) -> None:
    """What a user may run on a killed run: evaluate (and report) work or say why not in one
    line. A kill that lands after the run finished (while the process exits) leaves nothing
    to check: re-measuring a finished run rightly replaces its metrics."""
    info = cwd / "run" / "run.json"
    if info.exists() and json.loads(info.read_text()).get("status") == "finished":
        return
    cwd_before = os.getcwd()
    os.chdir(cwd)
    try:
        code, err = cli_in_process(["evaluate", "run", "--iw-samples", "1"], capsys)
        if report:
            report_code, report_err = cli_in_process(["report", "run"], capsys)
            assert report_code == 0 or (report_code == 2 and report_err.count("\n") == 1)
    finally:
        os.chdir(cwd_before)
    if (cwd / "run" / "model.safetensors").exists():
        assert code == 0, err
    else:
        assert code == 2
        assert (
            err == "error: run has no trained weights (model.safetensors); did training finish?\n"
        )


def latest(run: Path) -> str | None:
    path = run / "checkpoint" / "latest.json"
    return json.loads(path.read_text())["file"] if path.exists() else None


def test_killed_in_the_middle_of_checkpoint_writes(reference, tmp_path, capsys):
    run = tmp_path / "run"
    assert finish(start(["train", "--out", "run", *TINY], tmp_path, "checkpoint:3")) == -9
    # The third checkpoint's tensors are on disk, but latest.json still names the second.
    assert latest(run) == "state-000000044.safetensors"
    assert (run / "checkpoint" / "state-000000066.safetensors").exists()
    assert RunDir(run).info()["status"] == "running"
    assert_readable_or_clearly_rejected(tmp_path, capsys, report=True)

    # Killed again, in the first checkpoint write of the resumed process.
    assert finish(start(["train", "--resume", "run"], tmp_path, "checkpoint:1")) == -9
    assert latest(run) == "state-000000044.safetensors"
    # What a kill inside atomic_write leaves: temporary files, never read, removed on resume.
    (run / ".metrics.json.k3x9q1.tmp").write_bytes(b'{"half": ')
    (run / "checkpoint" / ".latest.json.p0w2ee.tmp").write_bytes(b"{")

    assert finish(start(["train", "--resume", "run"], tmp_path)) == 0
    assert_same_result(run, reference)


def test_killed_in_the_first_checkpoint_write_starts_over(reference, tmp_path, capsys):
    run = tmp_path / "run"
    assert finish(start(["train", "--out", "run", *TINY], tmp_path, "checkpoint:1")) == -9
    assert latest(run) is None and (run / "checkpoint" / "state-000000022.safetensors").exists()
    assert_readable_or_clearly_rejected(tmp_path, capsys)
    assert finish(start(["train", "--resume", "run"], tmp_path)) == 0
    assert_same_result(run, reference)


def _wait_for_new_checkpoint(run: Path, previous: int | None, proc) -> None:
    deadline = time.monotonic() + 300
    path = run / "checkpoint" / "latest.json"
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.stat().st_mtime_ns != previous:
            return
        time.sleep(0.005)


def test_killed_at_random_moments(reference, tmp_path, capsys):
    rng = random.Random(20251125)
    run = tmp_path / "run"
    kills = []
    proc = start(["train", "--out", "run", *TINY], tmp_path)
    for _ in range(3):
        path = run / "checkpoint" / "latest.json"
        previous = path.stat().st_mtime_ns if path.exists() else None
        _wait_for_new_checkpoint(run, previous, proc)
        time.sleep(rng.uniform(0.0, 0.3))  # inside an epoch, or inside a checkpoint write
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        if finish(proc) == -9:
            kills.append(latest(run))
            assert_readable_or_clearly_rejected(tmp_path, capsys)
        proc = start(["train", "--resume", "run"], tmp_path)
    assert finish(proc) == 0
    assert kills, "no kill landed while training ran"
    assert_same_result(run, reference)
