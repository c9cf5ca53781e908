"""Non-finite losses and gradients: caught at their step, skipped, counted, never in the logs,
never in the balancer's state, and after too many in a row a clear stop with finite weights."""

from __future__ import annotations

import json
import math

import pytest
import torch

from vaebalance import ELBOLoss
from vaebalance.balancers import GECO, ControlVAE
from vaebalance.config import build_config
from vaebalance.data import load_dataset
from vaebalance.runs import RunDir, train
from vaebalance.runs import start as run_module
from vaebalance.storage import read_tensors
from vaebalance.training.checkpoint import module_tensors
from vaebalance.training.trainer import NonFiniteError, Trainer

from .catalogue import TINY
from .conftest import cli_in_process

# A fixed σ: a learned one would be initialised from the (poisoned) data's spread.
FIXED_SIGMA = ["likelihood.name=gaussian", "likelihood.sigma=0.1"]
BALANCERS = {
    "geco": ["balancer.name=geco", "balancer.target_mse=0.02"],
    "control": ["balancer.name=control", "balancer.target_kl=5", "balancer.alpha=0.5"],
}
BATCH, STEPS_PER_EPOCH = 64, 22  # digits: 1455 training examples (162 more validate)


def _no_nan(path) -> None:
    """A JSON file without NaN/Infinity (which json.loads would otherwise accept)."""

    def refuse(token):
        raise AssertionError(f"{path} holds {token}")

    json.loads(path.read_text(), parse_constant=refuse)


@pytest.mark.parametrize(
    "balancer",
    [GECO(target_mse=0.01), ControlVAE(target_kl=2.0, alpha=0.5)],
    ids=["geco", "control"],
)
def test_a_non_finite_batch_does_not_touch_the_balancer_state(balancer):
    torch.manual_seed(0)
    loss_fn = ELBOLoss("gaussian", balancer, validate=False).train()
    x = torch.rand(16, 10)

    def call(x):
        return loss_fn(x, torch.rand(16, 10), torch.randn(16, 3), torch.randn(16, 3))

    for _ in range(3):
        call(x)
    before = {k: v.clone() for k, v in balancer.named_buffers()}
    poisoned = x.clone()
    poisoned[4, 2] = math.nan
    out = call(poisoned)
    assert not torch.isfinite(out.loss)
    after = dict(balancer.named_buffers())
    for name, value in before.items():
        assert torch.equal(after[name], value), name  # NaN-free and not moved
    assert int(loss_fn.step) == 4  # the step itself still counts (schedules stay aligned)
    call(x)
    assert int(balancer.updates) == 4  # a finite batch updates again
    assert all(torch.isfinite(v).all() for v in balancer.buffers())


@pytest.mark.parametrize(
    "balancer", [GECO(target_mse=0.01), ControlVAE(target_kl=2.0)], ids=["geco", "control"]
)
def test_guarding_the_balancer_state_needs_no_host_sync(balancer, monkeypatch):
    loss_fn = ELBOLoss("gaussian", balancer, validate=False).train()
    x, mu = torch.rand(8, 10), torch.zeros(8, 3)
    loss_fn(x, x, mu, mu)  # binds K and J
    for name in ("item", "__float__", "__int__", "__bool__", "tolist", "numpy"):

        def fail(*args, _name=name, **kwargs):
            raise AssertionError(f"ELBOLoss called Tensor.{_name} (a host sync)")

        monkeypatch.setattr(torch.Tensor, name, fail)
    x[0, 0] = math.nan
    loss_fn(x, x, mu, mu)


def _nan_batches(indices, seed, epochs, n_train):
    """How many batches of each epoch hold one of ``indices`` (the trainer's batch order)."""
    g = torch.Generator().manual_seed(seed)
    counts = []
    for _ in range(epochs):
        perm = torch.randperm(n_train, generator=g)
        batches = [set(perm[i * BATCH : (i + 1) * BATCH].tolist()) for i in range(STEPS_PER_EPOCH)]
        counts.append(sum(bool(b & set(indices)) for b in batches))
    return counts


@pytest.mark.parametrize("name", sorted(BALANCERS))
def test_nan_rows_in_the_data_skip_exactly_their_batches(name, tmp_path, monkeypatch):
    poisoned_rows = [5, 700, 1200]
    data = load_dataset("digits", val_fraction=0.1)  # as a run loads it
    data.train[poisoned_rows] = math.nan
    monkeypatch.setattr(run_module, "_dataset", lambda *args, **kwargs: data)
    cfg = build_config(None, [*TINY, "train.epochs=3", *FIXED_SIGMA, *BALANCERS[name]])
    path, metrics = train(cfg, tmp_path / "run")

    expected = _nan_batches(poisoned_rows, cfg.train.seed, 3, len(data.train))
    assert sum(expected) > 0
    run = RunDir(path)
    rows = [r for r in run.history() if r["split"] == "train"]
    assert [r["skipped_steps"] for r in rows] == expected
    assert metrics["skipped_steps"] == sum(expected) and metrics["steps"] == 3 * STEPS_PER_EPOCH
    assert "nan" not in (path / "history.csv").read_text().lower()
    _no_nan(path / "metrics.json")
    buffers = {k: v for k, v in read_tensors(path / "model.safetensors").items() if "balancer" in k}
    assert buffers and all(torch.isfinite(v).all() for v in buffers.values())
    # The balancer learned from the finite steps only, and its verdict is a real one.
    assert int(buffers["loss.balancer.updates"]) == 3 * STEPS_PER_EPOCH - sum(expected)
    assert metrics["target_met"] in (True, False)


def _poison_steps(monkeypatch, bad: range, last_good: dict):
    """Feed an all-NaN batch at the trainer's steps in ``bad``; record the weights after each
    step that was not skipped."""
    original = Trainer._step
    count = iter(range(10**6))

    def step(self, x, found_inf):
        if next(count) in bad:
            x = torch.full_like(x, math.nan)
        stats = original(self, x, found_inf)
        if not found_inf:
            last_good.update(
                {k: v.clone() for k, v in module_tensors(self.model, self.loss_fn).items()}
            )
        return stats

    monkeypatch.setattr(Trainer, "_step", step)


@pytest.mark.parametrize(
    "bad, stop",
    # Host checks at steps 16 and 22 of each 22-step epoch: a run of 20 bad steps ending at
    # step 21 is seen at the epoch's last check; one from step 13 of epoch 1 to step 10 of
    # epoch 2 at the second epoch's first check (22 + 16).
    [(range(1, 21), 22), (range(12, 32), 38)],
    ids=["between-two-checks", "across-an-epoch-end"],
)
def test_too_many_bad_steps_in_a_row_stop_with_the_last_finite_weights(
    bad, stop, tmp_path, monkeypatch
):
    last_good: dict = {}
    _poison_steps(monkeypatch, bad, last_good)
    cfg = build_config(None, [*TINY, "train.epochs=3", *FIXED_SIGMA, *BALANCERS["geco"]])
    with pytest.raises(NonFiniteError) as err:
        train(cfg, tmp_path / "run")
    message = str(err.value)
    assert message.startswith(f"training stopped at step {stop}: 20 consecutive steps had a ")
    for cause in ("train.lr=0.001", "learned σ near its clip", "β from the 'geco' balancer"):
        assert cause in message
    run = RunDir(tmp_path / "run")
    assert run.info()["status"] == "failed: non-finite training"
    assert run.info()["error"] == message
    saved = read_tensors(run / "model.safetensors")
    for key, value in saved.items():
        assert torch.isfinite(value).all(), key
        if key.startswith("model."):
            assert torch.equal(value, last_good[key]), key
    assert not (run / "metrics.json").exists()


def test_an_epoch_without_a_finite_step_logs_empty_cells_not_nan(tmp_path, monkeypatch):
    _poison_steps(monkeypatch, range(0, STEPS_PER_EPOCH), {})
    cfg = build_config(
        None,
        [*TINY, "train.epochs=2", "train.max_bad_steps=100", *FIXED_SIGMA, *BALANCERS["geco"]],
    )
    path, metrics = train(cfg, tmp_path / "run")
    first, second = [r for r in RunDir(path).history() if r["split"] == "train"]
    assert first["skipped_steps"] == STEPS_PER_EPOCH and second["skipped_steps"] == 0
    assert first["loss"] == "" and isinstance(second["loss"], float)
    assert "nan" not in (path / "history.csv").read_text().lower()
    assert metrics["skipped_steps"] == STEPS_PER_EPOCH
    _no_nan(path / "metrics.json")


def test_a_diverging_learning_rate_stops_with_one_line_and_finite_weights(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    sets = [arg for item in TINY if "epochs" not in item for arg in ("--set", item)]
    code, err = cli_in_process(
        ["train", "--out", "run", "--lr", "1e6", "--epochs", "4", "--quiet", "--no-report", *sets],
        capsys,
    )
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: training stopped at step ")
    assert "train.lr=1e+06" in err and "Traceback" not in err
    run = RunDir(tmp_path / "run")
    assert run.info()["status"] == "failed: non-finite training"
    for key, value in read_tensors(run / "model.safetensors").items():
        assert torch.isfinite(value).all(), key
    if (run / "history.csv").exists():
        assert "nan" not in (run / "history.csv").read_text().lower()
