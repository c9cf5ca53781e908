"""End-to-end runs on tiny data: loss goes down, the run directory is complete, resume is exact."""

import json
import math

import pytest
import torch

from vaebalance.config import build_config
from vaebalance.errors import UserError
from vaebalance.runs import RunDir, load_run, resume, train
from vaebalance.storage import read_tensors
from vaebalance.training import Hooks

TINY = [
    "model.hidden=[32]",
    "model.latent_dim=4",
    "train.epochs=3",
    "train.threads=1",
    "train.tensorboard=false",
    "eval.iw_samples=10",
]


def tiny(*extra):
    return build_config(None, [*TINY, *extra])


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digits"
    path, metrics = train(tiny("train.epochs=4"), out)
    return path, metrics


def test_each_epoch_is_held_out_on_validation_and_the_test_split_is_left_alone(digits_run):
    path, _ = digits_run
    assert [r.split for r in RunDir(path).history()] == ["train", "val"] * 4
    info = json.loads((path / "run.json").read_text())["dataset"]
    # digits: 1797 = 180 test + 1617 train, of which round(0.1 · 1617) = 162 validate.
    assert (info["train_examples"], info["val_examples"], info["test_examples"]) == (
        1455, 162, 180)  # fmt: skip
    assert json.loads((path / "config.json").read_text())["data"]["val_fraction"] == 0.1


def test_loss_decreases_and_the_run_directory_is_complete(digits_run):
    path, metrics = digits_run
    run = RunDir(path)
    for name in ("config.json", "run.json", "model.safetensors", "history.csv", "metrics.json"):
        assert (path / name).is_file(), name
    history = run.history()
    train_loss = [r["loss"] for r in history if r["split"] == "train"]
    assert len(train_loss) == 4 and train_loss[-1] < train_loss[0]
    for key in (
        "epoch",
        "step",
        "split",
        "loss",
        "elbo_nats",
        "rate_nats",
        "distortion_nats",
        "mse_per_element",
        "beta",
        "seconds",
    ):
        assert key in history[0]
    saved = json.loads((path / "metrics.json").read_text())
    for key in (
        "elbo_nats",
        "rate_nats",
        "distortion_nats",
        "bits_per_dim",
        "mse_per_element",
        "active_units",
        "kl_per_dim",
        "latent_dim",
        "input_dim",
        "epochs",
        "seconds",
    ):
        assert key in saved, key
    assert len(saved["kl_per_dim"]) == 4 and saved["input_dim"] == 64
    assert run.info()["status"] == "finished"
    assert run.config()["likelihood"]["name"] == "gaussian-learned"


def test_load_run_reproduces_the_saved_metrics(digits_run):
    from vaebalance.evaluation import evaluate_model

    path, metrics = digits_run
    run = load_run(path)
    data = run.dataset()
    again = evaluate_model(
        run.model,
        run.loss_fn.likelihood,
        data.to_float(data.test),
        iw_samples=10,
        seed=0,
        batch_size=run.config.eval.batch_size,
    )
    for key in ("elbo_nats", "rate_nats", "distortion_nats", "mse_per_element", "nll_iw_nats"):
        assert again[key] == pytest.approx(metrics[key], rel=1e-5, abs=1e-5), key


def _weights(path):
    return read_tensors(path / "model.safetensors")


def test_interrupted_and_resumed_run_ends_bitwise_identical(tmp_path):
    full, _ = train(tiny(), tmp_path / "full")

    def stop_after_first_checkpoint(state):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny(), tmp_path / "cut", Hooks(on_checkpoint=stop_after_first_checkpoint))
    assert RunDir(tmp_path / "cut").info()["status"] == "interrupted"
    cut, _ = resume(tmp_path / "cut")
    a, b = _weights(full), _weights(cut)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key

    def without_time(rows):
        return [{k: v for k, v in r.items() if k not in ("seconds", "train_seconds")} for r in rows]

    assert without_time(RunDir(cut).history()) == without_time(RunDir(full).history())


def test_synthetic_array_data_trains(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    z = rng.normal(size=(600, 2))
    x = 1 / (1 + np.exp(-(z @ rng.normal(size=(2, 10)))))  # a 2-d manifold in [0, 1]^10
    np.save(tmp_path / "x.npy", x.astype(np.float32))
    path, metrics = train(
        tiny("train.epochs=20", f"data.name={tmp_path / 'x.npy'}"), tmp_path / "run"
    )
    losses = [r["loss"] for r in RunDir(path).history() if r["split"] == "train"]
    assert losses[-1] < losses[0]
    assert metrics["active_units"] >= 1


def test_resume_rejects_what_it_cannot_change(digits_run):
    path, _ = digits_run
    with pytest.raises(UserError, match="cannot change model.latent_dim"):
        resume(path, {"model.latent_dim": 8})


def test_resume_of_something_that_is_not_a_run(tmp_path):
    with pytest.raises(UserError, match="not a vaebalance run"):
        resume(tmp_path)
    with pytest.raises(UserError, match="no such run directory"):
        resume(tmp_path / "missing")


def test_output_directory_must_be_new(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="exists and is not empty"):
        train(tiny(), tmp_path / "x")
    assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


def test_tensorboard_event_files_with_image_grids(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    path, _ = train(tiny("train.epochs=2", "train.tensorboard=true"), tmp_path / "tb")
    events = EventAccumulator(str(path / "tensorboard"))
    events.Reload()
    tags = events.Tags()
    assert "train/rate_nats" in tags["scalars"] and "val/elbo_nats" in tags["scalars"]
    assert {"reconstructions", "samples"} <= set(tags["images"])


def test_bf16_autocast_trains_to_a_finite_elbo(tmp_path):
    path, metrics = train(tiny("train.precision=bf16", "train.epochs=5"), tmp_path / "bf16")
    losses = [r["loss"] for r in RunDir(path).history() if r["split"] == "train"]
    assert losses[-1] < losses[0]
    assert metrics["skipped_steps"] == 0 and math.isfinite(metrics["elbo_nats"])


def test_the_run_directory_appears_with_its_first_files_or_not_at_all(tmp_path, monkeypatch):
    from vaebalance.runs import newdir as run_module

    real = run_module.write_json

    def fail_on_run_json(path, obj):
        if path.name == "run.json":
            raise OSError("disk full")
        real(path, obj)

    monkeypatch.setattr(run_module, "write_json", fail_on_run_json)
    with pytest.raises(OSError, match="disk full"):
        train(tiny(), tmp_path / "run")
    assert list(tmp_path.iterdir()) == []  # no run directory, no staging leftovers


def test_without_tensorboard_a_one_line_note_and_training_goes_on(tmp_path, monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard"):
            raise ImportError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    path, _ = train(tiny("train.epochs=1", "train.tensorboard=true"), tmp_path / "run")
    err = capsys.readouterr().err
    assert err.count("tensorboard is not installed") == 1
    assert not (path / "tensorboard").exists() and (path / "metrics.json").is_file()


def test_runs_in_one_process_share_one_copy_of_a_named_dataset():
    """A sweep's runs on one worker read the files once; each still trains on equal data."""
    from vaebalance.runs import start

    start._named_dataset.cache_clear()
    seen = []
    real = start.load_dataset

    def counting(*a, **k):
        seen.append(a[0])
        return real(*a, **k)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(start, "load_dataset", counting)
        first = start._dataset("digits", None, 0.1, 0, None, None, None, 0.0)
        again = start._dataset("digits", None, 0.1, 0, None, None, None, 0.0)
        held = [start._dataset("digits", None, 0.1, 0, None, None, None, 0.1) for _ in "ab"]
        other_seed = start._dataset("digits", None, 0.1, 1, None, None, None, 0.0)
    assert seen == ["digits", "digits"] and again is first
    # The validation split is drawn afresh from the shared copy, the same each time.
    assert torch.equal(held[0].val, held[1].val) and len(held[0].train) < len(first.train)
    assert not torch.equal(other_seed.test, first.test)  # another split: not served from cache
