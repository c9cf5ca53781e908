"""A sweep whose worker is killed mid-run: that run is marked incomplete, a re-run completes it,
and sweep.csv neither loses nor duplicates a row."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vaebalance.storage import read_csv

pytestmark = pytest.mark.slow
COMMAND = [
    sys.executable, "-m", "vaebalance", "sweep", "--grid", "balancer.beta=0.5,2",
    "--workers", "2", "--threads", "1", "--epochs", "150", "--iw-samples", "0", "--no-report",
    "--quiet", "--set", "model.hidden=[32]", "--set", "model.latent_dim=4",
    "--set", "train.tensorboard=false",
]  # fmt: skip


def worker_pids(parent: int) -> list[int]:
    """Children of ``parent`` that are pool workers (not multiprocessing's resource tracker)."""
    pids = []
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in cmdline:
            pids.append(int(child))
    return pids


def wait_for(condition, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_killed_worker_marks_its_run_incomplete_and_a_rerun_completes_it(tmp_path):
    out = tmp_path / "sweep"
    sweep = subprocess.Popen([*COMMAND, "--out", str(out)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_for(lambda: (out / "beta-0.5" / "checkpoint" / "latest.json").exists())
    workers = worker_pids(sweep.pid)
    assert workers, "no worker processes found"
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 1, stderr  # some run did not finish
    rows = read_csv(out / "sweep.csv")
    assert sorted(r["run"] for r in rows) == ["beta-0.5", "beta-2"]
    assert "incomplete" in {r["status"] for r in rows}
    assert all(r["status"] in ("finished", "incomplete") for r in rows)

    again = subprocess.run([*COMMAND, "--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    rows = read_csv(out / "sweep.csv")
    assert [r["run"] for r in rows] == ["beta-0.5", "beta-2"]  # grid order, no duplicate
    assert all(r["status"] == "finished" for r in rows)
