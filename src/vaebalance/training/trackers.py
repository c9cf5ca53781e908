"""Where epoch records go besides ``history.csv``: TensorBoard event files, when installed."""

from __future__ import annotations

import sys
import warnings

import torch

from ..imaging import image_grid, prior_samples, reconstructions


class TensorBoardTracker:
    """Scalars every epoch, reconstruction and sample grids for image data."""

    def __init__(self, log_dir, data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tensorboard's own imports warn on new Pythons
            from torch.utils.tensorboard import SummaryWriter
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

    def log_epoch(self, rows: dict, step: int, model, likelihood) -> None:
        for split, row in rows.items():
            for key, value in row.items():
                if key not in ("epoch", "step", "split") and isinstance(value, (int, float)):
                    self.writer.add_scalar(f"{split}/{key}", value, step)
        if len(self.data.shape) == 3:
            x = self.data.to_float(self.data.test[:32]).to(next(model.parameters()).device)
            model.eval()
            recon = reconstructions(model, likelihood, x)
            pairs = torch.stack([x, recon], 1).flatten(0, 1).cpu()
            self.writer.add_image("reconstructions", image_grid(pairs, nrow=16), step)
            samples = prior_samples(model, likelihood, 32).cpu()
            self.writer.add_image("samples", image_grid(samples, nrow=16), step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
