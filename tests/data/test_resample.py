"""data.size and data.examples on sources that hold their images (data/resample.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaebalance.data import load_dataset
from vaebalance.data.dataset import Dataset
from vaebalance.data.resample import resize, subset
from vaebalance.errors import UserError


def _eight_bit(n_train=6, n_test=3, side=4) -> Dataset:
    g = torch.Generator().manual_seed(0)
    train = torch.randint(0, 256, (n_train, 1, side, side), generator=g, dtype=torch.uint8)
    test = torch.randint(0, 256, (n_test, 1, side, side), generator=g, dtype=torch.uint8)
    labels = torch.arange(n_train + n_test)
    return Dataset("toy", train, test, (1, side, side), labels[:n_train], labels[n_train:])


def test_halving_averages_each_two_by_two_block():
    # Antialiased bilinear at an exact factor of 2 is the mean of each 2×2 block.
    data = _eight_bit()
    small = resize(data, 2)
    x = data.train.double()
    blocks = x.reshape(6, 1, 2, 2, 2, 2).mean(dim=(3, 5))
    assert small.shape == (1, 2, 2) and small.train.dtype == torch.uint8
    assert torch.all((small.train.double() - blocks).abs() <= 0.5 + 1e-9)


def test_doubling_keeps_a_constant_image_constant_and_float_range():
    data = Dataset(
        "flat", torch.full((2, 1, 3, 3), 0.25), torch.full((1, 1, 3, 3), 0.25), (1, 3, 3)
    )
    big = resize(data, 6)
    assert big.train.shape == (2, 1, 6, 6) and torch.allclose(big.train, torch.tensor(0.25))


def test_subset_keeps_the_split_proportion_and_its_labels():
    data = _eight_bit(n_train=60, n_test=10)
    small = subset(data, 14, seed=3)
    assert (len(small.train), len(small.test)) == (12, 2)
    # each kept example still carries its own label (labels are the original indices here)
    for images, labels, source in ((small.train, small.train_labels, data.train),
                                   (small.test, small.test_labels, data.test)):  # fmt: skip
        offset = 0 if source is data.train else 60
        assert torch.equal(images, source[labels - offset])
    assert torch.equal(subset(data, 14, seed=3).train, small.train)  # seeded


def test_digits_resampled_reload_from_source_and_bad_values():
    data = load_dataset("digits", size=4, examples=100)
    assert data.shape == (1, 4, 4) and len(data.train) + len(data.test) == 100
    again = load_dataset(data.source)
    assert torch.equal(again.train, data.train) and np.array_equal(again.test, data.test)
    with pytest.raises(UserError, match="data.size"):
        load_dataset("digits", size=0)
    with pytest.raises(UserError, match="data.examples"):
        load_dataset("digits", examples=10**6)
