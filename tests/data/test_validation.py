"""The validation split: held out of the training split, reloaded exactly from a run's source."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaebalance.data import load_dataset, load_from_source
from vaebalance.data.factors import attach_factors
from vaebalance.data.validation import hold_out
from vaebalance.errors import UserError


def rows(t: torch.Tensor) -> list[tuple]:
    return [tuple(r) for r in t.reshape(len(t), -1).tolist()]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """200 distinct rows whose first column is their index: order and identity readable."""
    path = tmp_path_factory.mktemp("val") / "x.npy"
    x = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
    x[:, 0] = np.arange(200)
    np.save(path, x)
    return path


def test_validation_comes_out_of_train_and_leaves_test_alone(table):
    plain = load_dataset(str(table), seed=3)
    held = load_dataset(str(table), seed=3, val_fraction=0.25)
    assert torch.equal(held.test, plain.test)
    assert len(held.val) == round(0.25 * len(plain.train))
    assert sorted(rows(held.train) + rows(held.val)) == sorted(rows(plain.train))
    assert not set(rows(held.train)) & set(rows(held.val))
    for split in (held.train, held.val):  # source order kept: the index column increases
        assert torch.all(split[1:, 0] > split[:-1, 0])


def test_factors_and_labels_follow_their_examples(table):
    """Each row's factor is its index (the table's first column): it must travel with it."""
    factors = table.parent / "factors.npy"
    np.save(factors, np.arange(200)[:, None] * 3)
    data = load_dataset(str(table), seed=4, factors=str(factors), val_fraction=0.2)
    for images, f in ((data.train, data.factors_train), (data.val, data.factors_val),
                      (data.test, data.factors_test)):  # fmt: skip
        assert f[:, 0].tolist() == (images[:, 0] * 3).long().tolist()
    digits = load_dataset("digits")
    held = hold_out(digits, 0.2, seed=1)
    label_of = dict(zip(rows(digits.train), digits.train_labels.tolist(), strict=False))
    for images, labels in ((held.train, held.train_labels), (held.val, held.val_labels)):
        assert [label_of[r] for r in rows(images)] == labels.tolist()


def test_same_seed_same_split_other_seed_other_split(table):
    a, b = (load_dataset(str(table), seed=5, val_fraction=0.1) for _ in range(2))
    c = load_dataset(str(table), seed=6, val_fraction=0.1)
    assert torch.equal(a.val, b.val) and not torch.equal(a.val, c.val)


def test_a_run_reloads_the_same_split_from_its_source(table):
    data = load_dataset(str(table), seed=2, val_fraction=0.3)
    again = load_from_source(data.source)
    for split in ("train", "val", "test"):
        assert torch.equal(data.split(split), again.split(split)), split


def test_zero_means_no_validation_split(table):
    data = load_dataset(str(table), seed=0, val_fraction=0.0)
    assert data.val is None and data.held_out[0] == "test"
    with pytest.raises(UserError, match="no validation split"):
        data.split("val")


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 2, "0.1", True, float("nan")])
def test_fractions_outside_zero_one_are_refused(table, fraction):
    with pytest.raises(UserError, match="val_fraction"):
        load_dataset(str(table), val_fraction=fraction)


def test_a_fraction_leaving_no_validation_example_is_refused(table):
    with pytest.raises(UserError, match="validation split empty"):
        load_dataset(str(table), val_fraction=0.001)


def test_factors_attached_after_the_split_follow_the_same_rows(table):
    """``evaluate --factors`` attaches factors to a run's data, validation already held out."""
    factors = table.parent / "factors_after.npy"
    np.save(factors, np.arange(200)[:, None])
    before = load_dataset(str(table), seed=4, factors=str(factors), val_fraction=0.2)
    after = attach_factors(load_dataset(str(table), seed=4, val_fraction=0.2), factors)
    for name in ("factors_train", "factors_val", "factors_test"):
        assert torch.equal(getattr(before, name), getattr(after, name)), name
