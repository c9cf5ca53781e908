"""The ``digits`` dataset: scikit-learn's embedded 8x8 handwritten digits (no download)."""

from __future__ import annotations

import numpy as np
import torch

from vaebalance.data.dataset import Dataset, as_labels
from vaebalance.data.split import random_split

# Pixel values in load_digits() are counts of set bits in a 4x4 block: 0..16.
DIGITS_MAX = 16.0


def load_digits_dataset(test_fraction: float = 0.1, seed: int = 0) -> Dataset:
    """Load the 1797 scikit-learn digits as float32 ``[N, 1, 8, 8]`` in [0, 1], with labels.

    Args:
        test_fraction: Share of examples in the test split.
        seed: Seed of the random split.
    """
    from sklearn.datasets import load_digits  # imported here: sklearn is slow to import

    bunch = load_digits()
    images = (np.asarray(bunch.data, dtype=np.float32) / DIGITS_MAX).reshape(-1, 1, 8, 8)
    return random_split(
        name="digits",
        examples=torch.from_numpy(np.ascontiguousarray(images)),
        labels=as_labels(bunch.target),
        test_fraction=test_fraction,
        seed=seed,
        source={"kind": "digits", "name": "digits"},
    )
