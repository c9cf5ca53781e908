"""Property-based fuzzing of every loader: whatever the bytes, a valid dataset or one line.

Each test feeds a loader files built to lie (mutated headers, truncations, random bytes,
zero-sized and enormous dimensions, wrong dtypes, nested archives, declared sizes that do not
match) and requires that it either returns a valid :class:`Dataset` or raises a one-line
:class:`UserError`: never another exception, never a hang (SIGALRM per example, faulthandler
as a backstop), never an allocation the checks did not allow (the whole test runs under an
address-space limit of what the process has mapped plus 2 GiB, so one fails with
``MemoryError``).

The default ``fuzz-ci`` profile is derandomized and small (the module takes well under a
minute); for a long local run::

    VAEBALANCE_FUZZ=fuzz-long .venv/bin/python -m pytest -n 0 tests/data/test_fuzz_loaders.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaebalance.data import (
    load_array_dataset,
    load_cifar10,
    load_csv_dataset,
    load_dataset,
    load_idx_dataset,
    load_image_folder,
    read_batch,
    read_idx,
)

from .conftest import cifar_batch, write_cifar_batch, write_idx_dir
from .fuzzing import (
    bounded,
    check_outcome,
    cifar_files,
    idx_files,
    image_files,
    mutated,
    npy_files,
    npz_files,
    png_bytes,
)

QUIET = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
]
settings.register_profile(
    "fuzz-ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=QUIET
)
settings.register_profile(
    "fuzz-long", max_examples=3000, deadline=None, suppress_health_check=QUIET
)
FUZZ = settings(settings.get_profile(os.environ.get("VAEBALANCE_FUZZ", "fuzz-ci")))


@pytest.fixture(autouse=True)
def _bounded():
    with bounded():
        yield


def workdir() -> tempfile.TemporaryDirectory:
    """A fresh directory per example (pytest's tmp_path is per test, not per example)."""
    return tempfile.TemporaryDirectory(prefix="fuzz-")


@FUZZ
@given(content=npy_files())
def test_npy(content):
    with workdir() as tmp:
        path = Path(tmp) / "a.npy"
        path.write_bytes(content)
        check_outcome(lambda: load_array_dataset(path, "a", test_fraction=0.5))


@FUZZ
@given(content=npz_files())
def test_npz(content):
    with workdir() as tmp:
        path = Path(tmp) / "a.npz"
        path.write_bytes(content)
        check_outcome(lambda: load_array_dataset(path, "a", test_fraction=0.5))


IDX_NAMES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


@FUZZ
@given(which=st.sampled_from(sorted(IDX_NAMES)), data=st.data())
def test_idx(which, data):
    content = data.draw(idx_files(images=which.endswith("x")))
    with workdir() as tmp:
        directory = Path(tmp)
        write_idx_dir(directory, n_train=2, n_test=2, size=(3, 3), gz=False)
        (directory / IDX_NAMES[which]).write_bytes(content)
        check_outcome(lambda: read_idx(directory / IDX_NAMES[which]), dataset=False)
        check_outcome(lambda: load_idx_dataset(directory, "idx"))


@FUZZ
@given(content=cifar_files(), protocol=st.sampled_from([2, 4, 5]))
def test_cifar(content, protocol):
    with workdir() as tmp:
        directory = Path(tmp)
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            write_cifar_batch(directory / name, *cifar_batch(1, seed=0), protocol=protocol)
        (directory / "data_batch_2").write_bytes(content)
        check_outcome(lambda: read_batch(directory / "data_batch_2"), dataset=False)
        check_outcome(lambda: load_cifar10(directory))


@FUZZ
@given(content=image_files(), name=st.sampled_from(["a", "z"]))
def test_images(content, name):
    with workdir() as tmp:
        folder = Path(tmp)
        for i in range(3):
            (folder / f"m{i}.png").write_bytes(png_bytes(3, 3, b"\0\x40\x80\xff" * 3))
        (folder / f"{name}.png").write_bytes(content)
        check_outcome(lambda: load_image_folder(folder, "images", test_fraction=0.5))


CSV_ALPHABET = st.sampled_from(list("0123456789.,-+eE \t\n\r\"';x") + ["nan", "inf", "\0", "é"])


@FUZZ
@given(
    text=st.lists(CSV_ALPHABET, max_size=200).map("".join),
    prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"a,b\n"]),
)
def test_csv(text, prefix):
    with workdir() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(prefix + text.encode("utf-8"))
        check_outcome(lambda: load_csv_dataset(path, "t", test_fraction=0.5))


def _any_file(draw) -> bytes:
    return draw(
        st.one_of(
            npy_files(), npz_files(), idx_files(), cifar_files(), image_files(),
            st.binary(max_size=300),
        )
    )  # fmt: skip


@FUZZ
@given(suffix=st.sampled_from([".npy", ".npz", ".csv", ".png", ".txt", ""]), data=st.data())
def test_registry(suffix, data):
    content = _any_file(data.draw)
    with workdir() as tmp:
        path = Path(tmp) / f"file{suffix}"
        path.write_bytes(data.draw(mutated(content)))
        check_outcome(lambda: load_dataset(str(path), test_fraction=0.5))


def test_the_fuzzed_builders_make_loadable_files(tmp_path):
    """Control: the hand-built files are valid when they do not lie, so refusals are earned."""
    from .fuzzing import batch_pickle, npy_bytes

    (tmp_path / "a.npy").write_bytes(npy_bytes("|u1", (4, 2), False, bytes(range(8))))
    data = check_outcome(lambda: load_array_dataset(tmp_path / "a.npy", "a", test_fraction=0.5))
    assert data is not None and sorted(
        data.train.flatten().tolist() + data.test.flatten().tolist()
    ) == list(range(8))
    (tmp_path / "b").write_bytes(batch_pickle((2, 3072), bytes(range(256)) * 24, [3, 4]))
    images, labels = read_batch(tmp_path / "b")
    assert images.shape == (2, 3, 32, 32) and labels.tolist() == [3, 4]
    np.testing.assert_array_equal(images.reshape(-1)[:256], np.arange(256))
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
        (folder / f"{i}.png").write_bytes(png_bytes(3, 3, b"\0\x40\x80\xff" * 3))
    data = load_image_folder(folder, "images", test_fraction=0.5)
    assert data.shape == (1, 3, 3) and data.train[0, 0, 0].tolist() == [0x40, 0x80, 0xFF]
