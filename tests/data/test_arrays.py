"""``.npy`` / ``.npz`` files: accepted ranks and dtypes, key choice and every refusal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaebalance.data import load_array_dataset, load_dataset
from vaebalance.errors import UserError

N = 10
RNG = np.random.default_rng(0)


def channels_first(array: np.ndarray) -> np.ndarray:
    """The layout the loader must produce, derived independently of it."""
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4 and array.shape[-1] in (1, 3):
        return np.moveaxis(array, -1, 1)
    return array


CASES = {
    "tabular uint8": (RNG.integers(0, 256, (N, 7), dtype=np.uint8), (7,)),
    "tabular float64": (RNG.random((N, 5)), (5,)),
    "gray float32": (RNG.random((N, 4, 6), dtype=np.float32), (1, 4, 6)),
    "hwc uint8": (RNG.integers(0, 256, (N, 4, 6, 3), dtype=np.uint8), (3, 4, 6)),
    "hw1 float16": (RNG.random((N, 4, 6, 1)).astype(np.float16), (1, 4, 6)),
    "chw uint8": (RNG.integers(0, 256, (N, 3, 5, 6), dtype=np.uint8), (3, 5, 6)),
    "1hw int64 binary": (RNG.integers(0, 2, (N, 1, 5, 6)), (1, 5, 6)),
    "bool": (RNG.random((N, 8)) > 0.5, (8,)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_accepted_ranks_and_dtypes(tmp_path, case):
    array, shape = CASES[case]
    path = tmp_path / "d.npz"
    np.savez(path, x=array, y=np.arange(N))  # labels = original index, to match examples
    data = load_dataset(str(path), test_fraction=0.3, seed=1)
    assert data.shape == shape and data.name == str(path)
    assert data.eight_bit == (array.dtype == np.uint8)
    assert data.train.dtype in (torch.uint8, torch.float32)
    assert data.train.is_contiguous() and (len(data.train), len(data.test)) == (7, 3)
    expected = channels_first(array).astype(np.uint8 if data.eight_bit else np.float32)
    for split in ("train", "test"):
        index = getattr(data, f"{split}_labels").numpy()
        np.testing.assert_array_equal(data.split(split).numpy(), expected[index])


def test_npy_without_labels_holds_every_example(tmp_path):
    array = RNG.random((N, 3)).astype(np.float32)
    np.save(tmp_path / "a.npy", array)
    data = load_array_dataset(tmp_path / "a.npy", "a")
    assert data.train_labels is None
    rows = torch.cat([data.train, data.test]).numpy()
    np.testing.assert_array_equal(rows[np.lexsort(rows.T)], array[np.lexsort(array.T)])


@pytest.mark.parametrize("key", ["x", "data", "images", "arr_0", "anything"])
def test_npz_examples_key(tmp_path, key):
    array = RNG.integers(0, 256, (N, 4), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", **{key: array, "labels": np.arange(N)})
    data = load_dataset(str(tmp_path / "a.npz"))
    np.testing.assert_array_equal(data.train.numpy(), array[data.train_labels.numpy()])


def test_ambiguous_npz_lists_its_arrays(tmp_path):
    np.savez(tmp_path / "a.npz", a=np.zeros((N, 2)), b=np.zeros((N, 2)))
    with pytest.raises(UserError, match="a.npz holds arrays a, b; name the examples one of x"):
        load_dataset(str(tmp_path / "a.npz"))


def test_labels_must_be_integers_of_length_n(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros((N, 2)), y=np.zeros(N - 1, dtype=int))
    with pytest.raises(UserError, match=r"a.npz has labels of int64 and shape \(9,\), expected"):
        load_dataset(str(tmp_path / "a.npz"))


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_object_arrays_are_never_unpickled(tmp_path, suffix):
    path = tmp_path / f"a{suffix}"
    objects = np.array([{"a": 1}] * N, dtype=object)
    if suffix == ".npy":
        np.save(path, objects, allow_pickle=True)
    else:
        np.savez(path, x=objects)
    member = " member x.npy" if suffix == ".npz" else ""
    with pytest.raises(UserError, match=f"{path}{member} holds Python objects"):
        load_dataset(str(path))


def test_nan_and_inf_are_counted_and_located(tmp_path):
    array = np.full((N, 3, 4), 0.5)
    array[2, 1, 3], array[4, 0, 0], array[5, 2, 2] = np.nan, np.nan, np.inf
    np.save(tmp_path / "a.npy", array)
    with pytest.raises(
        UserError, match=r"2 NaN and 1 infinite values, the first at index \(2, 1, 3\)"
    ):
        load_dataset(str(tmp_path / "a.npy"))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint16, np.int8])
def test_any_finite_real_values_are_kept_as_given(tmp_path, dtype):
    # Negative and large values: real-valued features, not images; nothing is rescaled.
    offset = 0 if np.dtype(dtype).kind == "u" else 7  # negative values where the dtype has them
    array = (np.arange(N * 4).reshape(N, 4) - offset).astype(dtype)
    np.save(tmp_path / "a.npy", array)
    data = load_dataset(str(tmp_path / "a.npy"), test_fraction=0.25, seed=3)
    assert data.train.dtype == torch.float32 and not data.eight_bit
    both = torch.cat([data.train, data.test]).double().numpy()
    # Every row is one of the file's rows, unchanged (the split only reorders them).
    assert sorted(map(tuple, both.tolist())) == sorted(map(tuple, array.astype(float).tolist()))
    assert both.min() == array.min() and both.max() == array.max() > 1


@pytest.mark.parametrize(
    "shape", [(N,), (N, 2, 3, 4, 5), (N, 4, 6, 4), (N, 2, 5, 5), (0, 4), (N, 0)]
)
def test_unaccepted_shapes_state_shape_and_accepted_ranks(tmp_path, shape):
    np.save(tmp_path / "a.npy", np.zeros(shape, np.uint8))
    with pytest.raises(UserError) as err:
        load_dataset(str(tmp_path / "a.npy"))
    assert f"a.npy holds an array of shape {shape}" in str(err.value)
    assert "accepted: [N, D] tabular, [N, H, W] grayscale" in str(err.value)


def test_complex_values_are_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((N, 2), np.complex64))
    with pytest.raises(UserError, match="holds complex64 values; expected uint8"):
        load_dataset(str(tmp_path / "a.npy"))


@pytest.mark.parametrize("content", [b"", b"garbage", b"\x93NUMPY\x01\x00garbage"])
def test_corrupt_file_names_the_file(tmp_path, content):
    path = tmp_path / "a.npy"
    path.write_bytes(content)
    with pytest.raises(UserError, match=f"{path} is not a valid .npy/.npz file"):
        load_dataset(str(path))
