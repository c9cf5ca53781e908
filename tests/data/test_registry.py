"""Resolving names, paths and stored sources to datasets."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from vaebalance.data import dataset_names, load_dataset, load_from_source
from vaebalance.errors import UserError


def test_named_sources():
    assert dataset_names() == ("cifar10", "digits", "fashion-mnist", "mnist", "sprites")


def test_unknown_name_lists_names_and_file_types():
    with pytest.raises(UserError) as err:
        load_dataset("fashion_mnist")
    message = str(err.value)
    assert "unknown dataset 'fashion_mnist' (did you mean 'fashion-mnist'?)" in message
    assert "cifar10, digits, fashion-mnist, mnist" in message and ".npy, .npz or .csv" in message


@pytest.mark.parametrize("spec", ["missing/x.npy", "x.csv", "./folder", "~/nope-vaebalance"])
def test_missing_path(spec):
    with pytest.raises(UserError, match=f"^no such file or directory: {spec}$"):
        load_dataset(spec)


def test_unsupported_file_types(tmp_path):
    (tmp_path / "a.txt").write_text("1,2")
    with pytest.raises(UserError, match=f"cannot load {tmp_path / 'a.txt'}: '.txt' files are not"):
        load_dataset(str(tmp_path / "a.txt"))
    Image.new("L", (2, 2)).save(tmp_path / "one.png")
    with pytest.raises(UserError, match=r"not supported \(for images, give their folder\)"):
        load_dataset(str(tmp_path / "one.png"))


@pytest.mark.parametrize("spec", ["", "  ", 3])
def test_spec_must_be_a_name_or_path(spec):
    with pytest.raises(UserError, match="dataset must be a name or a path"):
        load_dataset(spec)


def test_test_fraction_is_checked_for_every_source():
    with pytest.raises(UserError, match="test_fraction must be in \\(0, 1\\), got 1.5"):
        load_dataset("digits", test_fraction=1.5)


def test_directories_are_read_by_their_contents(tmp_path, idx_dir, cifar_dir):
    idx_dir(tmp_path / "idx")
    assert load_dataset(str(tmp_path / "idx")).source["kind"] == "idx"
    assert load_dataset(str(cifar_dir[0])).source["kind"] == "cifar10"


def make_sources(tmp_path, idx_dir, cifar_dir) -> dict[str, str]:
    """One spec of every kind of source, built in ``tmp_path``."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "a.npz", x=rng.random((12, 3, 2, 2)), y=np.arange(12))
    np.savetxt(tmp_path / "t.csv", rng.random((12, 4)) * 100, delimiter=",")
    (tmp_path / "imgs").mkdir()
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)).save(
            tmp_path / "imgs" / f"{i}.png"
        )
    idx_dir(tmp_path / "idx")
    specs = ["a.npz", "t.csv", "imgs", "idx"]
    return {"digits": "digits", **{s: str(tmp_path / s) for s in specs}, "cifar": str(cifar_dir[0])}


def test_stored_source_reloads_the_same_dataset(tmp_path, idx_dir, cifar_dir):
    for spec in make_sources(tmp_path, idx_dir, cifar_dir).values():
        first = load_dataset(spec, test_fraction=0.5, seed=4)
        stored = json.loads(json.dumps(first.source))  # as saved with a run
        for again in (load_from_source(stored), load_dataset(stored)):
            assert again.name == first.name and again.source == first.source
            assert torch.equal(again.train, first.train) and torch.equal(again.test, first.test)
            assert again.scaling == first.scaling


def test_moved_dataset_is_reported(tmp_path, idx_dir, cifar_dir):
    for key, spec in make_sources(tmp_path, idx_dir, cifar_dir).items():
        if key == "digits":
            continue
        source = load_dataset(spec).source
        moved = tmp_path / "moved"
        shutil.move(spec, moved)
        with pytest.raises(UserError) as err:
            load_from_source(source)
        expected = f"the dataset is no longer where the run found it: {source['path']}"
        assert str(err.value) == expected
        shutil.move(moved, spec)


def test_idx_files_removed_from_their_folder_are_reported(tmp_path, idx_dir):
    idx_dir(tmp_path)
    source = load_dataset(str(tmp_path)).source
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(UserError, match=f"no longer where the run found it: {tmp_path}$"):
        load_from_source(source)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ({"kind": "tarball"}, "unknown dataset source kind 'tarball'"),
        ({"kind": "csv"}, "the stored csv dataset source has no 'path'"),
        ("digits", "a dataset source must be a dict"),
    ],
)
def test_malformed_sources(source, problem):
    with pytest.raises(UserError, match=problem):
        load_from_source(source)
