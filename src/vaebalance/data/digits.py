"""The ``digits`` dataset: scikit-learn's embedded 8x8 handwritten digits (no download)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
    data, target = _digits_arrays()
    images = (np.asarray(data, dtype=np.float32) / DIGITS_MAX).reshape(-1, 1, 8, 8)
    return random_split(
        name="digits",
        examples=torch.from_numpy(np.ascontiguousarray(images)),
        labels=as_labels(target),
        test_fraction=test_fraction,
        seed=seed,
        source={"kind": "digits", "name": "digits"},
    )


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 × 64 pixel counts and their labels, as ``sklearn.datasets.load_digits`` gives.

    Read straight from the CSV that scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``,
    64 pixel columns then the label) when it is there: importing ``sklearn.datasets`` takes
    about half a second, more than reading the file, and every ``vaebalance train`` on the
    default dataset (and every report of such a run) paid it. ``find_spec`` locates the
    package without importing it. Falls back to ``load_digits`` where the file moved.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            path = Path(root) / "datasets" / "data" / "digits.csv.gz"
            if path.is_file():
                table = np.loadtxt(path, delimiter=",")
                return table[:, :-1], table[:, -1].astype(int)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data, bunch.target
