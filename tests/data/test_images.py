"""Folders of PNG/JPEG images written with Pillow, and every refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaebalance.data import load_dataset, load_image_folder
from vaebalance.errors import UserError

RNG = np.random.default_rng(0)


def write_images(folder: Path, arrays: list[np.ndarray], suffix: str = ".png") -> list[Path]:
    """Save each array as an image, first setting its pixel [0, 0] to the image's index."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, array in enumerate(arrays):
        array[0, 0] = i  # in place, so callers compare against what was written
        paths.append(folder / f"{i:03d}{suffix}")
        Image.fromarray(array).save(paths[-1])
    return paths


def by_index(data) -> dict[int, np.ndarray]:
    """Every loaded example keyed by the index written into its first pixel."""
    examples = np.concatenate([data.train.numpy(), data.test.numpy()])
    return {int(example[0, 0, 0]): example for example in examples}


def test_grayscale_pngs(tmp_path):
    arrays = [RNG.integers(0, 256, (5, 7), dtype=np.uint8) for _ in range(10)]
    write_images(tmp_path, arrays)
    data = load_dataset(str(tmp_path), test_fraction=0.2, seed=3)
    assert data.shape == (1, 5, 7) and data.eight_bit and data.train_labels is None
    assert (len(data.train), len(data.test)) == (8, 2) and data.train.is_contiguous()
    for i, example in by_index(data).items():
        np.testing.assert_array_equal(example[0], arrays[i])


def test_rgb_pngs_are_channel_first(tmp_path):
    arrays = [RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8) for _ in range(5)]
    write_images(tmp_path, arrays)
    data = load_image_folder(tmp_path, "imgs", test_fraction=0.2)
    assert data.shape == (3, 4, 6)
    for i, example in by_index(data).items():
        np.testing.assert_array_equal(example, np.moveaxis(arrays[i], -1, 0))


def test_mixed_gray_and_rgba_become_rgb(tmp_path):
    gray = RNG.integers(0, 256, (4, 4), dtype=np.uint8)
    rgba = RNG.integers(0, 256, (4, 4, 4), dtype=np.uint8)
    write_images(tmp_path, [gray, rgba])
    data = load_image_folder(tmp_path, "imgs", test_fraction=0.5)
    examples = by_index(data)
    assert data.shape == (3, 4, 4)
    assert all(np.array_equal(examples[0][c], examples[0][0]) for c in range(3))
    np.testing.assert_array_equal(examples[0][0], gray)
    np.testing.assert_array_equal(examples[1], np.moveaxis(rgba[..., :3], -1, 0))


def test_jpegs_match_pillows_own_decoding(tmp_path):
    arrays = [RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(4)]
    paths = write_images(tmp_path, arrays, suffix=".JPG")
    data = load_image_folder(tmp_path, "jpg", test_fraction=0.25)
    loaded = {tuple(e.ravel()) for e in np.concatenate([data.train.numpy(), data.test.numpy()])}
    for path in paths:
        with Image.open(path) as image:
            reference = np.moveaxis(np.asarray(image.convert("RGB")), -1, 0)
        assert tuple(reference.ravel()) in loaded


def test_other_files_and_subfolders_are_ignored(tmp_path):
    write_images(tmp_path, [np.zeros((3, 3), np.uint8) for _ in range(2)])
    (tmp_path / "notes.txt").write_text("hello")
    write_images(tmp_path / "sub", [np.zeros((9, 9), np.uint8)])
    assert load_image_folder(tmp_path, "x", test_fraction=0.5).shape == (1, 3, 3)


def test_differing_sizes_name_two_files_and_sizes(tmp_path):
    paths = write_images(tmp_path, [np.zeros((4, 5), np.uint8), np.zeros((6, 5), np.uint8)])
    with pytest.raises(UserError) as err:
        load_dataset(str(tmp_path))
    assert f"{paths[0]} is 5x4 but {paths[1]} is 5x6" in str(err.value)


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_corrupt_image_names_the_file(tmp_path, kind):
    write_images(tmp_path, [np.zeros((16, 16, 3), np.uint8) for _ in range(3)])
    bad = tmp_path / "bad.png"
    if kind == "garbage":
        bad.write_bytes(b"this is not a png")
    else:  # a valid header whose pixel data is cut short
        Image.fromarray(RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(bad)
        bad.write_bytes(bad.read_bytes()[:100])
    expected = f"cannot read image {bad}" if kind == "garbage" else f"{bad} is truncated"
    with pytest.raises(UserError, match=expected):
        load_dataset(str(tmp_path))


def test_sixteen_bit_images_are_refused(tmp_path):
    Image.fromarray(np.full((4, 4), 40000, np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(UserError, match=f"{tmp_path / 'deep.png'} is a I.* image; convert"):
        load_dataset(str(tmp_path))


def test_empty_folders_are_refused(tmp_path):
    with pytest.raises(UserError, match=f"{tmp_path} holds no .png, .jpg or .jpeg files$"):
        load_dataset(str(tmp_path))
    (tmp_path / "a.txt").write_text("x")
    write_images(tmp_path / "sub", [np.zeros((3, 3), np.uint8)])
    with pytest.raises(UserError, match=r"holds no .png.*\(subfolders are not searched\)"):
        load_dataset(str(tmp_path))


def test_single_image_cannot_be_split(tmp_path):
    write_images(tmp_path, [np.zeros((3, 3), np.uint8)])
    with pytest.raises(UserError, match="of 1 examples leaves the test split empty"):
        load_dataset(str(tmp_path))
