"""An interrupted command says so, says how to resume, exits 130, and leaves nothing running.

SIGINT reaches a command two ways: Ctrl-C in a terminal (the whole process group) or a signal
to the parent alone (``timeout -s INT``, job schedulers). Both must stop promptly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TINY = ["--set", "model.hidden=[32]", "--latent-dim", "4", "--threads", "1", "--iw-samples", "0",
        "--set", "train.tensorboard=false", "--epochs", "500", "--quiet", "--no-report"]  # fmt: skip


def launch(args: list[str], cwd: Path, new_group: bool = False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vaebalance", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=new_group)  # fmt: skip


def wait_for(paths: list[Path], proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.is_file() for p in paths):
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.2)


def test_ctrl_c_during_train_says_how_to_resume_and_exits_130(tmp_path):
    proc = launch(["train", *TINY, "--out", "run"], tmp_path)
    wait_for([tmp_path / "run" / "checkpoint" / "latest.json"], proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["interrupted; resume with `vaebalance train --resume run`"]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "interrupted"


def test_sigint_to_a_sweeps_parent_alone_stops_every_worker(tmp_path):
    # The parent in its own session, so the signal reaches it and not its workers.
    args = ["sweep", *TINY, "--grid", "balancer.beta=1,2", "--workers", "2", "--out", "s"]
    proc = launch(args, tmp_path, new_group=True)
    runs = [tmp_path / "s" / name for name in ("beta-1", "beta-2")]
    wait_for([r / "checkpoint" / "latest.json" for r in runs], proc)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "Error" not in err, err
    assert err.strip().splitlines()[-1].startswith("interrupted; repeat the command")
    # The workers are gone: no checkpoint changes any more.
    before = {r: (r / "checkpoint" / "latest.json").stat().st_mtime_ns for r in runs}
    time.sleep(3)
    assert {r: (r / "checkpoint" / "latest.json").stat().st_mtime_ns for r in runs} == before
