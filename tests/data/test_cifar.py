"""CIFAR-10 batches: safe unpickling of real-format files and refusal of anything else."""

from __future__ import annotations

import builtins
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from vaebalance.data import load_cifar10, load_dataset, read_batch
from vaebalance.errors import UserError

from .conftest import cifar_batch, py2_cifar_pickle, write_cifar_batch


@pytest.mark.parametrize("bytes_keys", [True, False])
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_batches_of_every_protocol_are_read(tmp_path, protocol, bytes_keys):
    data, labels = cifar_batch(4, seed=protocol)
    path = write_cifar_batch(tmp_path / "b", data, labels, protocol, bytes_keys)
    images, got_labels = read_batch(path)
    assert images.shape == (4, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(4, -1), data)
    assert got_labels.tolist() == labels


def test_python2_batch_as_published_is_read(tmp_path):
    data, labels = cifar_batch(3, seed=1)
    path = tmp_path / "data_batch_1"
    path.write_bytes(py2_cifar_pickle(data, labels))
    images, got_labels = read_batch(path)
    np.testing.assert_array_equal(images.reshape(3, -1), data)
    assert got_labels.tolist() == labels


def test_rows_are_red_green_blue_planes(tmp_path):
    data, labels = cifar_batch(1, seed=2)
    images, _ = read_batch(write_cifar_batch(tmp_path / "b", data, labels))
    for channel in range(3):
        plane = data[0, 1024 * channel : 1024 * (channel + 1)].reshape(32, 32)
        np.testing.assert_array_equal(images[0, channel], plane)


def test_directory_loads_with_its_own_split(cifar_dir):
    directory, train, test = cifar_dir
    for data in (load_cifar10(directory), load_dataset(str(directory))):
        assert data.shape == (3, 32, 32) and data.eight_bit and data.train.is_contiguous()
        expected = np.concatenate([batch[0] for batch in train]).reshape(10, 3, 32, 32)
        np.testing.assert_array_equal(data.train.numpy(), expected)
        np.testing.assert_array_equal(data.test.numpy(), test[0].reshape(3, 3, 32, 32))
        assert data.train_labels.tolist() == sum((batch[1] for batch in train), [])
        assert data.test_labels.dtype == torch.int64
        assert data.source["kind"] == "cifar10"
        assert data.source["path"] == str(directory.resolve())


def test_named_cifar10_in_data_dir(cifar_dir):
    directory, _, _ = cifar_dir
    assert load_dataset("cifar10", data_dir=str(directory.parent)).name == "cifar10"


def test_named_cifar10_not_found(tmp_path):
    with pytest.raises(UserError, match=f"cifar10 not found: .*{tmp_path}.*--data-dir"):
        load_dataset("cifar10", data_dir=str(tmp_path))


class CallOnLoad:
    """An object whose unpickling calls ``func(*args)``: what a malicious pickle does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


MALICIOUS = {
    "os.system": lambda marker: CallOnLoad(os.system, f"touch {marker}"),
    "builtins.eval": lambda marker: CallOnLoad(builtins.eval, f"open({str(marker)!r}, 'w')"),
    "subprocess.call": lambda marker: CallOnLoad(subprocess.call, ["touch", str(marker)]),
}


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("attack", sorted(MALICIOUS))
def test_malicious_batch_is_refused_before_it_runs(cifar_dir, tmp_path, attack, nested):
    directory, _, _ = cifar_dir
    marker = tmp_path / "pwned"
    payload = MALICIOUS[attack](marker)
    if nested:  # hidden inside an otherwise valid batch
        data, labels = cifar_batch(2, seed=0)
        payload = {b"data": data, b"labels": labels, b"extra": payload}
    (directory / "data_batch_3").write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(UserError) as err:
        load_dataset(str(directory))
    message = str(err.value)
    assert message.startswith(f"refusing to load {directory / 'data_batch_3'}: it asks for ")
    assert "which is not a plain array" in message
    assert not marker.exists()


def test_codecs_encode_is_limited_to_latin1(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R.")
    with pytest.raises(UserError, match=f"{path} is not a readable CIFAR-10 batch pickle"):
        read_batch(path)


@pytest.mark.parametrize("content", [b"", b"not a pickle", pickle.dumps({"a": 1})[:-3]])
def test_corrupt_pickle_names_the_file(tmp_path, content):
    path = tmp_path / "data_batch_1"
    path.write_bytes(content)
    with pytest.raises(UserError, match=str(path)):
        read_batch(path)


def test_batch_content_is_checked(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(UserError, match=f"{path} holds a list, expected a CIFAR-10 batch dict"):
        read_batch(path)
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}))
    with pytest.raises(UserError, match=f"{path} has no 'labels' entry; its keys are b'data'"):
        read_batch(path)
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}))
    with pytest.raises(UserError, match=r"has data uint8 \(2, 100\), expected uint8"):
        read_batch(path)
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}))
    with pytest.raises(UserError, match=r"has \(1,\) labels for 2 images"):
        read_batch(path)


def test_missing_batch_is_named(cifar_dir):
    directory, _, _ = cifar_dir
    (directory / "data_batch_4").unlink()
    with pytest.raises(UserError, match=f"{directory} lacks the CIFAR-10 batch files data_batch_4"):
        load_cifar10(directory)


def test_unreadable_batch(tmp_path):
    with pytest.raises(UserError, match=f"cannot read {tmp_path}"):
        read_batch(Path(tmp_path))
