"""Where epoch records go as training runs: a tracker has ``log_epoch`` and ``close``.

The trainer calls ``log_epoch(state, records, model, likelihood)`` after each epoch with that
epoch's :class:`~vaebalance.schema.EpochRecord` per split (the whole history is
``state.history``); a tracker may look at the model but must leave it as it found it.
:class:`TensorBoardTracker` writes event files when ``tensorboard`` is installed; the run
directory's ``history.csv`` is written by another tracker of the run lifecycle.
"""

from __future__ import annotations

import logging
import sys
import warnings

import torch

from ..models.imaging import image_grid, prior_samples, reconstructions

log = logging.getLogger("vaebalance")


IMAGES_EVERY = 25  # epochs between image grids once past the powers of two


def image_epoch(epoch: int) -> bool:
    """Epochs that get image grids: 1, 2, 4, 8, 16, then every ``IMAGES_EVERY``-th. Early
    epochs change the pictures most; drawing, decoding and PNG-encoding two grids every epoch
    was the bulk of the tracker's cost, which must stay a small part of a short epoch."""
    return epoch & (epoch - 1) == 0 and epoch <= 16 or epoch % IMAGES_EVERY == 0


class TensorBoardTracker:
    """Scalars every epoch; reconstruction and sample grids for image data at the epochs of
    :func:`image_epoch`."""

    def __init__(self, log_dir, data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tensorboard's own imports warn on new Pythons
            from torch.utils.tensorboard import SummaryWriter  # optional: the [tb] extra
        self.writer = SummaryWriter(str(log_dir))
        self.data = data

    @classmethod
    def create(cls, log_dir, data):
        """A tracker, or None with a one-line note when tensorboard is not installed."""
        try:
            return cls(log_dir, data)
        except ImportError:
            print("note: tensorboard is not installed; skipping event files", file=sys.stderr)
            return None

    def log_epoch(self, state, records, model, likelihood) -> None:
        for record in records:
            for key, value in record.to_json().items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.writer.add_scalar(f"{record.split}/{key}", value, state.step)
        if len(self.data.shape) == 3 and image_epoch(state.epoch):
            self._images(state.step, model, likelihood)
        self.writer.flush()

    def _images(self, step, model, likelihood) -> None:
        was_training = model.training
        x = self.data.to_float(self.data.test[:32]).to(next(model.parameters()).device)
        model.eval()
        invert = self.data.to_data_units  # standardized data back to pixels
        recon = reconstructions(model, likelihood, x, invert)
        pairs = torch.stack([invert(x), recon], 1).flatten(0, 1).cpu()
        self.writer.add_image("reconstructions", image_grid(pairs, nrow=16), step)
        samples = prior_samples(model, likelihood, 32, invert=invert).cpu()
        self.writer.add_image("samples", image_grid(samples, nrow=16), step)
        model.train(was_training)

    def close(self) -> None:
        self.writer.close()
