"""Data-parallel training under torchrun (2 CPU processes, gloo) against one process.

The reference is the same command in one process: with the same seed and global batch, the
two-process run must give the same weights up to the order of float additions."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vaebalance.errors import UserError
from vaebalance.storage import read_csv, read_json, read_tensors
from vaebalance.training import distributed

WORKER = str(Path(__file__).with_name("torchrun_worker.py"))
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
TINY = ["--quiet", "--no-report", "--set", "model.hidden=[32]", "--set", "model.latent_dim=4",
        "--set", "train.threads=1", "--set", "train.tensorboard=false",
        "--set", "eval.iw_samples=10"]  # fmt: skip
# Max |Δw| allowed between the 2-process and the 1-process weights after 2 epochs (44 steps): the
# only difference is float summation order (measured 8.6e-7 with geco, 3e-6 on the default model).
WEIGHT_TOLERANCE = 1e-5


def run(cmd, tmp_path, timeout=240, **env):
    """Run ``cmd`` in ``tmp_path`` (bytecode writes off: they would count as written files);
    ``timeout`` only guards against a hang."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        env.pop(key, None)
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def trace(directory: Path, rank: int) -> dict:
    return json.loads((directory / f"rank{rank}.json").read_text())


@pytest.mark.slow
def test_two_processes_train_like_one(tmp_path):
    # GECO: a balancer with state (a moving average of the MSE and a multiplier).
    args = ["train", "--epochs", "2", "--balancer", "geco", "--set", "balancer.target_mse=0.02",
            *TINY]  # fmt: skip
    (tmp_path / "t1").mkdir()
    (tmp_path / "t2").mkdir()
    one = run([sys.executable, WORKER, *args, "--out", "one"], tmp_path, TRACE_DIR="t1")
    assert one.returncode == 0, one.stderr
    two = run([*TORCHRUN, WORKER, *args, "--out", "two"], tmp_path, TRACE_DIR="t2")
    assert two.returncode == 0, two.stderr

    # The loss decreases (and the training ran): history has two epochs of falling −ELBO.
    train_rows = [r for r in read_csv(tmp_path / "two" / "history.csv") if r["split"] == "train"]
    assert len(train_rows) == 2
    assert train_rows[1]["elbo_nats"] > train_rows[0]["elbo_nats"]

    # β identical on both processes at every step, and as in one process.
    b0, b1, ref = (trace(tmp_path / d, r)["betas"] for d, r in (("t2", 0), ("t2", 1), ("t1", 0)))
    steps = read_json(tmp_path / "two" / "metrics.json")["steps"]
    assert len(b0) == len(b1) == len(ref) == steps
    assert b0 == b1
    assert b0 == pytest.approx(ref, rel=1e-4)
    assert len(set(b0)) > 1  # β moved: the controller state was exercised

    # The weights: those of one process, up to float summation order.
    w1 = read_tensors(tmp_path / "one" / "model.safetensors")
    w2 = read_tensors(tmp_path / "two" / "model.safetensors")
    assert w1.keys() == w2.keys()
    diff = max((w1[k].double() - w2[k].double()).abs().max().item() for k in w1)
    assert diff <= WEIGHT_TOLERANCE

    # The final evaluation, its IWAE sharded across the processes: one process's numbers.
    m1, m2 = (read_json(tmp_path / d / "metrics.json") for d in ("one", "two"))
    for key in ("nll_iw_nats", "elbo_nats", "rate_nats", "mse_per_element"):
        assert m2[key] == pytest.approx(m1[key], rel=1e-4, abs=1e-6), key

    # Only process 0 wrote: process 1 created, wrote or renamed nothing in the test folder.
    def written(rank):
        paths = trace(tmp_path / "t2", rank)["written"]
        return [p for p in paths if p.startswith(str(tmp_path)) and "/t2" not in p]

    assert any(p.startswith(str(tmp_path / "two" / "checkpoint")) for p in written(0))
    assert written(1) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one", "t1", "t2", "two"]


@pytest.mark.slow
def test_a_killed_process_stops_the_job_and_the_run_resumes_in_one(tmp_path):
    # Process 1 dies at its 60th step, in epoch 3 (digits: 25 steps of 64 per epoch).
    args = ["train", "--epochs", "4", "--balancer", "geco", "--set", "balancer.target_mse=0.02",
            *TINY, "--out", "run"]  # fmt: skip
    job = run([*TORCHRUN, WORKER, *args], tmp_path, timeout=180, KILL_RANK="1",
              KILL_AT_STEP="60")  # fmt: skip
    assert job.returncode != 0
    output = job.stdout + job.stderr
    # torchrun names the process that died; process 0 says how to go on, either on losing its
    # peer or on the SIGTERM torchrun sends it (whichever comes first).
    assert "rank      : 1" in output and "Signal 9 (SIGKILL)" in output, output
    assert (
        "another process of the job stopped" in job.stderr
        or "interrupted; resume with `vaebalance train --resume run`" in job.stderr
    ), output
    checkpoint = read_json(tmp_path / "run" / "checkpoint" / "latest.json")
    info = read_json(tmp_path / "run" / "run.json")
    assert info["status"] != "finished"

    again = run([sys.executable, "-m", "vaebalance", "train", "--resume", "run", "--quiet",
                 "--no-report"], tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert read_json(tmp_path / "run" / "run.json")["status"] == "finished"
    steps = read_json(tmp_path / "run" / "metrics.json")["steps"]
    # The checkpoint was the end of the last epoch both processes finished.
    assert checkpoint["step"] == (60 - 1) // (steps // 4) * (steps // 4) > 0


@pytest.mark.slow
def test_a_run_of_one_process_resumes_in_two(tmp_path):
    """1 epoch in one process, then 2 more in two, gives the weights of 3 in one process."""
    for name in ("one", "two"):
        first = run([sys.executable, "-m", "vaebalance", "train", "--epochs", "1", *TINY,
                     "--out", name], tmp_path)  # fmt: skip
        assert first.returncode == 0, first.stderr
    resume = ["train", "--resume", "--epochs", "3", "--quiet", "--no-report"]
    one = run([sys.executable, "-m", "vaebalance", *resume[:2], "one", *resume[2:]], tmp_path)
    two = run([*TORCHRUN, "-m", "vaebalance", *resume[:2], "two", *resume[2:]], tmp_path)
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    w1 = read_tensors(tmp_path / "one" / "model.safetensors")
    w2 = read_tensors(tmp_path / "two" / "model.safetensors")
    assert max((w1[k].double() - w2[k].double()).abs().max().item() for k in w1) <= WEIGHT_TOLERANCE
    assert read_json(tmp_path / "two" / "run.json")["status"] == "finished"
    assert read_json(tmp_path / "two" / "metrics.json")["epochs"] == 3


def test_world_from_torchrun_environment():
    assert distributed.from_env({}) is None
    assert distributed.from_env({"WORLD_SIZE": "1", "RANK": "0"}) is None
    world = distributed.from_env(
        {"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    )
    assert world == distributed.World(rank=3, size=4, local_rank=1, local_size=2)
    assert not world.main and distributed.World(0, 4).main


@pytest.mark.parametrize("n, size", [(64, 2), (10, 3), (2, 4), (0, 2), (1000, 7)])
def test_shards_cover_the_batch_once_in_order(n, size):
    rows = [i for r in range(size) for i in range(*distributed.World(r, size).shard(n))]
    assert rows == list(range(n))
    sizes = [len(range(*distributed.World(r, size).shard(n))) for r in range(size)]
    assert max(sizes) - min(sizes) <= 1


def test_global_batch_must_divide_among_the_processes():
    distributed.check_batch(distributed.World(0, 4), 64)
    with pytest.raises(UserError, match="batch_size=66 .* divide by 4"):
        distributed.check_batch(distributed.World(0, 4), 66)


@pytest.mark.parametrize("text", ["0", "-5", "soon"])
def test_timeout_must_be_positive_seconds(text):
    assert distributed.timeout_seconds({}) == distributed.DEFAULT_TIMEOUT_S
    assert distributed.timeout_seconds({distributed.TIMEOUT_ENV: "7.5"}) == 7.5
    with pytest.raises(UserError, match=distributed.TIMEOUT_ENV):
        distributed.timeout_seconds({distributed.TIMEOUT_ENV: text})


def test_noise_rows_are_the_whole_batch_rows():
    """A process's noise is its rows of the noise one process would draw for the batch."""
    from vaebalance.models import VAE

    model = VAE(torch.nn.Linear(3, 4), torch.nn.Linear(2, 3), 2)
    x = torch.randn(6, 3)
    mu, logvar = model.encode(x)
    torch.manual_seed(5)
    whole = torch.randn_like(mu)
    torch.manual_seed(5)
    model.noise_rows = (2, 6)
    assert torch.equal(model._noise(mu[2:5]), whole[2:5])
