"""The embedded scikit-learn digits, checked against scikit-learn itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from vaebalance.data import load_dataset


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    """Rows of (64 pixel values 0..16, label) as scikit-learn gives them, sorted."""
    bunch = load_digits()
    rows = np.column_stack([bunch.data, bunch.target])
    return rows[np.lexsort(rows.T[::-1])]


def test_digits_shape_dtype_range_and_split_sizes():
    data = load_dataset("digits")
    assert data.shape == (1, 8, 8) and data.input_dim == 64
    assert data.train.dtype == torch.float32 and not data.eight_bit
    assert len(data.test) == round(1797 * 0.1) and len(data.train) == 1797 - len(data.test)
    assert data.train.min() >= 0 and data.train.max() == 1
    assert data.train_labels.dtype == torch.int64
    assert data.train.is_contiguous() and data.test.is_contiguous()


def test_digits_are_sklearn_digits_over_16(reference):
    data = load_dataset("digits", test_fraction=0.25, seed=1)
    images = torch.cat([data.train, data.test]).reshape(-1, 64).double().numpy() * 16
    labels = torch.cat([data.train_labels, data.test_labels]).numpy()
    rows = np.column_stack([images, labels])
    np.testing.assert_allclose(rows[np.lexsort(rows.T[::-1])], reference, atol=1e-5)


def test_digits_split_is_deterministic_by_seed():
    a, b = load_dataset("digits", seed=5), load_dataset("digits", seed=5)
    c = load_dataset("digits", seed=6)
    assert torch.equal(a.train, b.train) and torch.equal(a.test_labels, b.test_labels)
    assert not torch.equal(a.test, c.test)
    assert a.source == {
        "kind": "digits",
        "name": "digits",
        "test_fraction": 0.1,
        "seed": 5,
    }


def test_direct_read_equals_sklearn_load_digits():
    """The shipped CSV read without importing sklearn.datasets gives load_digits' arrays."""
    from vaebalance.data.digits import _digits_arrays

    data, target = _digits_arrays()
    bunch = load_digits()
    np.testing.assert_array_equal(data, bunch.data)
    np.testing.assert_array_equal(target, bunch.target)
