"""The TensorBoard tracker: scalars every epoch, image grids at the early and every 25th epochs."""

import pytest
import torch

from vaebalance.config import build_config, resolve
from vaebalance.data import load_dataset
from vaebalance.schema import EpochRecord
from vaebalance.training import build, trackers
from vaebalance.training.checkpoint import TrainState

pytest.importorskip("tensorboard")


class Recorder:
    def __init__(self):
        self.scalars, self.images = [], []

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, step))

    def add_image(self, tag, image, step):
        self.images.append((tag, step))

    def flush(self):
        pass


def test_image_epochs_are_powers_of_two_then_every_25th():
    got = [e for e in range(1, 101) if trackers.image_epoch(e)]
    assert got == [1, 2, 4, 8, 16, 25, 50, 75, 100]


def test_scalars_every_epoch_images_only_at_image_epochs(tmp_path):
    data = load_dataset("digits")
    tracker = trackers.TensorBoardTracker(tmp_path, data)
    tracker.writer = Recorder()
    torch.manual_seed(0)
    cfg = resolve(build_config(None, ["model.hidden=[8]", "model.latent_dim=2"]), data)
    model, loss_fn = build(cfg, data)
    record = EpochRecord(loss=1.0, elbo_nats=-1.0, rate_nats=0.5, distortion_nats=0.5,
                         mse_per_element=0.1, beta=1.0, epoch=1, step=1, split="train",
                         seconds=1.0)  # fmt: skip
    state = TrainState()
    for epoch in (1, 3, 4):
        state.epoch, state.step = epoch, 10 * epoch
        tracker.log_epoch(state, [record], model, loss_fn.likelihood)
    assert {step for _, step in tracker.writer.scalars} == {10, 30, 40}
    assert {step for _, step in tracker.writer.images} == {10, 40}
