"""A run with ``data.standardize``: its statistics recorded, reused on resume and in pictures."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from vaebalance.config import build_config
from vaebalance.data import Standardization, load_dataset
from vaebalance.models.pictures import reconstruction_png
from vaebalance.report.run_page import run_context
from vaebalance.runs import RunDir, load_run, resume, train
from vaebalance.storage import read_tensors

TINY = ["model.hidden=[16]", "model.latent_dim=2", "train.epochs=2", "train.threads=1",
        "train.tensorboard=false", "eval.iw_samples=4"]  # fmt: skip


def real_values(n: int = 200) -> np.ndarray:
    """Six real-valued features on scales from 0.01 to 1000, most values outside [0, 1]."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(n, 2))
    mix = rng.normal(size=(2, 6))
    scales = np.array([0.01, 0.1, 1.0, 10.0, 100.0, 1000.0])
    return ((z @ mix + 0.3 * rng.normal(size=(n, 6))) * scales - 5).astype(np.float32)


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("std")
    np.save(tmp / "x.npy", real_values())
    cfg = build_config(None, [*TINY, f"data.name={tmp / 'x.npy'}", "data.standardize=true"])
    path, metrics = train(cfg, tmp / "run")
    return tmp, path, metrics


def test_statistics_of_the_training_split_are_recorded(table_run):
    tmp, path, metrics = table_run
    train_split = load_dataset(str(tmp / "x.npy"), seed=0, val_fraction=0.1).train.double().numpy()
    stored = read_tensors(path / "standardization.safetensors")
    np.testing.assert_allclose(stored["mean"].numpy(), train_split.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stored["std"].numpy(), train_split.std(0), rtol=1e-5)
    info = json.loads((path / "run.json").read_text())["dataset"]
    log_det = float(np.log(train_split.std(0)).sum())
    assert info["standardized"] is True and info["log_det_nats"] == pytest.approx(log_det)
    assert metrics.log_det_nats == pytest.approx(log_det)
    config = json.loads((path / "config.json").read_text())
    assert config["data"]["standardize"] is True


def test_history_is_in_the_data_units_like_the_metrics(table_run):
    """The constant Σ log s_d (here ≈ 7 nats) is in both, so the last test epoch's
    distortion is close to the final one (same weights; 1 vs 4 samples of z), and so is the
    MSE (at a sampled z vs at z = μ)."""
    _, path, metrics = table_run
    last = [r for r in RunDir(path).history() if r.split == "val"][-1]
    assert abs(metrics.log_det_nats) > 5
    gap = abs(last.distortion_nats - metrics.distortion_nats)
    assert gap < 0.2 * abs(metrics.log_det_nats), (last.distortion_nats, metrics.distortion_nats)
    assert last.elbo_nats == pytest.approx(-(last.rate_nats + last.distortion_nats), rel=1e-4)
    # The MSE too (columns up to 1000 wide: in standardized units it would be about 1).
    assert metrics.mse_per_element > 1000
    assert metrics.mse_per_element / 3 < last.mse_per_element < 3 * metrics.mse_per_element


def test_resume_reuses_the_recorded_statistics(table_run, tmp_path):
    tmp, path, _ = table_run
    copy = tmp_path / "run"
    shutil.copytree(path, copy)
    # Move the stored mean: a resumed run must use it, not statistics refitted from the data.
    stored = read_tensors(copy / "standardization.safetensors")
    shifted = Standardization(stored["mean"] + stored["std"], stored["std"])
    save_file(shifted.to_tensors(), str(copy / "standardization.safetensors"))
    _, resumed = resume(copy, {"train.epochs": 3})
    run = load_run(copy)
    torch.testing.assert_close(run.standardization.mean, shifted.mean)
    data = run.dataset()
    torch.testing.assert_close(data.to_float(data.test), shifted.apply(data.test))
    assert resumed.epochs == 3


def test_report_pictures_show_pixels_not_z_scores(tmp_path):
    path, _ = train(build_config(None, [*TINY, "data.standardize=true"]), tmp_path / "digits")
    run = load_run(path)
    data = run.dataset()
    originals = data.test[:5]
    x = data.to_float(originals)
    assert float(x.min()) < -0.5  # what the model sees is standardized
    png = reconstruction_png(run.model, run.loss_fn.likelihood, x, run.standardization.invert)
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    # The top row of the grid is the originals: pad 1, each 8×8 image enlarged by `scale`.
    scale = image.shape[1] // (5 * 9 + 1)
    first = image[scale : 9 * scale : scale, scale : 9 * scale : scale]
    expected = originals[0, 0].double().numpy() * 255
    np.testing.assert_allclose(first, expected, atol=1.0)


def test_report_says_the_data_were_standardized_and_what_was_added(table_run):
    _, path, metrics = table_run
    text = run_context(path)["dataset"]
    assert "standardized per element by the training split's mean and std" in text
    assert f"Σ log s_d = {metrics.log_det_nats:.4g} nats added" in text
