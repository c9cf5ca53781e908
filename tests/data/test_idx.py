"""idx files (MNIST, Fashion-MNIST): header parsing, round trips and error paths."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from vaebalance.data import idx, load_dataset, load_idx_dataset, read_idx
from vaebalance.errors import UserError

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([[-300, 7], [12, 32000]], dtype=np.int16),
        np.array([-1.5, 0.25, 3e7], dtype=np.float32),
        np.array([[1e300, -2.0]], dtype=np.float64),
        np.array([-128, 127], dtype=np.int8),
        np.array([[2**31 - 1], [-(2**31)]], dtype=np.int32),
    ],
)
def test_idx_round_trip(tmp_path, write_idx, array, gz):
    path = write_idx(tmp_path / "a.idx", array, gz=gz)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_idx_directory_loads_with_its_own_split(tmp_path, idx_dir):
    arrays = idx_dir(tmp_path / "fm", n_train=6, n_test=3, size=(4, 5))
    data = load_idx_dataset(tmp_path / "fm", "fm")
    assert data.shape == (1, 4, 5) and data.eight_bit
    np.testing.assert_array_equal(data.train[:, 0].numpy(), arrays["train_x"])
    np.testing.assert_array_equal(data.test[:, 0].numpy(), arrays["test_x"])
    np.testing.assert_array_equal(data.train_labels.numpy(), arrays["train_y"])
    assert data.train_labels.dtype == torch.int64
    assert data.source == {"kind": "idx", "name": "fm", "path": str((tmp_path / "fm").resolve())}


def test_plain_files_and_dotted_spelling_are_found(tmp_path, idx_dir):
    idx_dir(tmp_path, gz=False)
    for path in tmp_path.iterdir():
        path.rename(tmp_path / path.name.replace("-idx", ".idx"))
    assert len(load_idx_dataset(tmp_path, "x").train) == 6


def test_named_source_in_data_dir_or_its_subfolder(tmp_path, idx_dir):
    idx_dir(tmp_path / "mnist")
    assert load_dataset("mnist", data_dir=str(tmp_path)).name == "mnist"
    assert len(load_dataset("mnist", data_dir=str(tmp_path / "mnist")).test) == 3


def test_named_source_not_found_says_where_and_how(tmp_path, monkeypatch):
    dirs = (str(tmp_path / "a"), str(tmp_path / "b"))
    monkeypatch.setitem(idx.SEARCH_DIRS, "fashion-mnist", dirs)
    with pytest.raises(UserError) as err:
        load_dataset("fashion-mnist")
    message = str(err.value)
    assert all(d in message for d in dirs)
    assert "apt-get install dataset-fashion-mnist" in message and "--data-dir" in message


def test_data_dir_without_files_or_missing(tmp_path):
    with pytest.raises(UserError, match=f"looked for .* in {tmp_path}.*--data-dir"):
        load_dataset("mnist", data_dir=str(tmp_path))
    with pytest.raises(UserError, match=f"no such file or directory: {tmp_path / 'nope'}"):
        load_dataset("mnist", data_dir=str(tmp_path / "nope"))


def test_wrong_magic_names_the_file(tmp_path, write_idx):
    path = write_idx(tmp_path / "x", np.zeros((2, 2), np.uint8))
    raw = bytearray(path.read_bytes())
    raw[0] = 0x12
    path.write_bytes(bytes(raw))
    with pytest.raises(UserError, match=f"{path} is not an idx file: magic number 0x12000802"):
        read_idx(path)


def test_unknown_type_code_is_refused(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 0x07, 1, 0, 0, 0, 0]))
    with pytest.raises(UserError, match="not an idx file"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_names_the_file_and_sizes(tmp_path, write_idx, gz):
    path = write_idx(tmp_path / "x", np.zeros((3, 4, 4), np.uint8))
    payload = path.read_bytes()[:-5]
    path.write_bytes(gzip.compress(payload) if gz else payload)
    with pytest.raises(
        UserError,
        match=rf"{path} is truncated or lies about its size: its header claims sizes \[3, 4, 4\] "
        "of uint8, 48 bytes of data, but it holds 43 bytes$",
    ):
        read_idx(path)


def test_truncated_header_and_tiny_and_overlong_files(tmp_path, write_idx):
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 2]))
    with pytest.raises(UserError, match=f"{path} is truncated: its header promises 3 sizes"):
        read_idx(path)
    path.write_bytes(b"\0\0")
    with pytest.raises(UserError, match="only 2 bytes long"):
        read_idx(path)
    write_idx(path, np.zeros(4, np.uint8))
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(UserError, match="longer than its header says: .* holds 5 bytes$"):
        read_idx(path)
    path.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(UserError, match="longer than its header says: .* holds at least 5 bytes"):
        read_idx(path)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    with pytest.raises(UserError, match=f"{path} is not a valid gzip file"):
        read_idx(path)


def test_unreadable_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=f"cannot read {tmp_path}"):
        read_idx(tmp_path)  # a directory


def test_label_count_mismatch_names_the_labels_file(tmp_path, idx_dir, write_idx):
    idx_dir(tmp_path, gz=False)
    labels = write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(
        UserError, match=f"{labels} holds labels of shape \\(2,\\), expected \\[3\\]"
    ):
        load_idx_dataset(tmp_path, "x")


def test_images_must_be_unsigned_bytes_of_rank_3(tmp_path, idx_dir, write_idx):
    idx_dir(tmp_path, gz=False)
    images = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((6, 4, 5), np.float32))
    with pytest.raises(UserError, match=f"{images} holds float32 of shape \\(6, 4, 5\\)"):
        load_idx_dataset(tmp_path, "x")


def test_missing_test_files_are_named(tmp_path, idx_dir):
    idx_dir(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(UserError, match=f"{tmp_path} has no t10k-images-idx3-ubyte"):
        load_idx_dataset(tmp_path, "x")


def test_train_and_test_image_sizes_must_agree(tmp_path, idx_dir, write_idx):
    idx_dir(tmp_path, gz=False)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 5, 5), np.uint8))
    with pytest.raises(UserError, match="has \\(4, 5\\) images but .*t10k.* has \\(5, 5\\)"):
        load_idx_dataset(tmp_path, "x")


@pytest.mark.integration
@pytest.mark.skipif(not FASHION.is_dir(), reason=f"{FASHION} absent (dataset-fashion-mnist)")
def test_real_fashion_mnist():
    data = load_dataset("fashion-mnist")
    assert data.train.shape == (60000, 1, 28, 28) and data.test.shape == (10000, 1, 28, 28)
    assert data.train.dtype == torch.uint8 and data.train.is_contiguous()
    assert data.train_labels.unique().tolist() == list(range(10))
    assert data.test_labels.unique().tolist() == list(range(10))
    # Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
    assert torch.bincount(data.train_labels).tolist() == [6000] * 10
    assert torch.bincount(data.test_labels).tolist() == [1000] * 10
    assert data.source["path"] == str(FASHION.resolve())
