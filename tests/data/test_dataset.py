"""The Dataset container: dtype handling, splits and derived sizes."""

from __future__ import annotations

import pytest
import torch

from vaebalance.data import Dataset
from vaebalance.errors import UserError


def make(dtype: torch.dtype = torch.uint8) -> Dataset:
    train = torch.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5).to(dtype)
    return Dataset(name="toy", train=train, test=train[:1].clone(), shape=(3, 4, 5))


def test_uint8_batches_are_scaled_by_255():
    data = make()
    batch = data.train
    expected = torch.tensor(batch.tolist(), dtype=torch.float64) / 255.0
    out = data.to_float(batch)
    assert data.eight_bit
    assert out.dtype == torch.float32
    torch.testing.assert_close(out.double(), expected, rtol=0, atol=1e-7)
    assert batch.dtype == torch.uint8  # the stored data is untouched


def test_float_batches_pass_through():
    data = make(torch.float32)
    assert not data.eight_bit
    assert data.to_float(data.train) is data.train


def test_input_dim_is_product_of_shape():
    assert make().input_dim == 3 * 4 * 5


def test_split_by_name_and_unknown_split():
    data = make()
    assert data.split("train") is data.train
    assert data.split("test") is data.test
    with pytest.raises(UserError, match="'valid'"):
        data.split("valid")


def test_shape_mismatch_is_a_loader_bug():
    with pytest.raises(ValueError, match="shape"):
        Dataset(name="x", train=torch.zeros(2, 3), test=torch.zeros(2, 4), shape=(3,))


def test_repr_summarizes_instead_of_printing_tensors():
    text = repr(make())
    assert "train=2" in text and "shape=(3, 4, 5)" in text
    assert len(text) < 200
