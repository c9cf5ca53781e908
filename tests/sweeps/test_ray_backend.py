"""The Ray backend on a local Ray instance: the local backend's numbers, and a lost worker.

Skipped where ray is not installed (the [ray] extra; CI installs it)."""

import os
import signal
import subprocess
import sys

import pytest

from vaebalance.config import RunConfig
from vaebalance.storage import read_csv
from vaebalance.sweeps import run_sweep

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install '.[ray]'")
pytestmark = pytest.mark.slow

GRID = {"balancer.beta": ["0.5", "2"]}


def tiny() -> RunConfig:
    cfg = RunConfig()
    for key, value in {"model.hidden": "[16]", "model.latent_dim": "2", "train.steps": "30",
                       "eval.iw_samples": "20", "train.tensorboard": "false",
                       "train.threads": "1"}.items():  # fmt: skip
        cfg = cfg.with_value(key, value)
    return cfg


@pytest.fixture(scope="module")
def local_ray():
    """One Ray instance for the module: starting one takes ~10-20 s."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    # The test module's functions travel by value: Ray workers cannot import tests/.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()


def numbers(path) -> list[dict]:
    """sweep.csv without its wall-clock column."""
    return [{k: v for k, v in row.items() if k != "wall_seconds"}
            for row in read_csv(path / "sweep.csv")]  # fmt: skip


def test_ray_sweep_gives_the_local_numbers(tmp_path, local_ray):
    on_ray = run_sweep(tiny(), GRID, tmp_path / "ray", backend="ray")
    local = run_sweep(tiny(), GRID, tmp_path / "local", backend="local", workers=1)
    assert [r.status for r in on_ray.rows] == ["finished", "finished"]
    assert numbers(on_ray.path) == numbers(local.path)
    assert numbers(on_ray.path)[0]["rate_nats"] != numbers(on_ray.path)[1]["rate_nats"]


def die(run_dir) -> None:
    """An after_run that kills its Ray worker, the way a lost node ends a task."""
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_lost_worker_leaves_its_run_incomplete_and_a_rerun_completes_it(tmp_path, local_ray):
    out = tmp_path / "sweep"
    first = run_sweep(tiny(), GRID, out, backend="ray", after_run=die)
    assert [r.status for r in first.rows] == ["incomplete", "incomplete"]
    assert all("Ray worker or node" in r.error for r in first.rows)
    again = run_sweep(tiny(), GRID, out, backend="ray")
    assert [r.status for r in again.rows] == ["finished", "finished"]
    assert [r["run"] for r in read_csv(out / "sweep.csv")] == ["beta-0.5", "beta-2"]


def test_a_cluster_out_of_reach_is_one_line_and_writes_nothing(tmp_path):
    cmd = [sys.executable, "-m", "vaebalance", "sweep", "--backend", "ray", "--address",
           "not-an-address", "--grid", "balancer.beta=0.5,2", "--out", str(tmp_path / "s")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot connect to the Ray cluster at 'not-an-address'")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "s").exists()
