"""Seeded random splits."""

from __future__ import annotations

import pytest
import torch

from vaebalance.data import split_indices
from vaebalance.errors import UserError


def test_split_partitions_all_examples():
    train, test = split_indices(100, 0.1, seed=3)
    assert len(test) == 10 and len(train) == 90
    assert sorted(torch.cat([train, test]).tolist()) == list(range(100))


def test_split_is_deterministic_given_the_seed():
    first, again = split_indices(50, 0.2, seed=7), split_indices(50, 0.2, seed=7)
    other = split_indices(50, 0.2, seed=8)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[1], other[1])


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, "0.1", True, float("nan")])
def test_fraction_outside_open_unit_interval_is_refused(fraction):
    with pytest.raises(UserError, match="test_fraction"):
        split_indices(10, fraction, seed=0)


@pytest.mark.parametrize(("n", "fraction", "empty"), [(4, 0.1, "test"), (3, 0.9, "train")])
def test_a_split_that_would_be_empty_is_refused(n, fraction, empty):
    with pytest.raises(UserError, match=f"of {n} examples leaves the {empty} split empty"):
        split_indices(n, fraction, seed=0)


def test_seed_must_be_an_integer():
    with pytest.raises(UserError, match="seed must be an integer, got '1'"):
        split_indices(10, 0.5, seed="1")


def test_both_splits_keep_the_source_order():
    train, test = split_indices(200, 0.25, seed=5)
    for idx in (train, test):
        assert torch.all(idx[1:] > idx[:-1]), "indices must be strictly increasing"


def test_random_split_datasets_keep_the_source_order():
    from vaebalance.data.split import random_split

    examples = torch.arange(60, dtype=torch.float32)[:, None]  # example i holds the value i
    labels = torch.arange(60)
    data = random_split("ordered", examples, labels, 0.3, seed=11, source={})
    for x, y in ((data.train, data.train_labels), (data.test, data.test_labels)):
        assert torch.equal(x[:, 0], y.float())  # each example keeps its own label
        assert torch.equal(y, y.sort().values)
    assert sorted(torch.cat([data.train_labels, data.test_labels]).tolist()) == list(range(60))
