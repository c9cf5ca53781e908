"""The sprites renderer does what its factors say: checked on the pictures, not the code."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaebalance.data import load_dataset
from vaebalance.data.sprites import (
    BASES,
    FACTOR_SIZES,
    NUM_IMAGES,
    classes_to_index,
    factor_values,
    index_to_classes,
    render,
    sample_classes,
)
from vaebalance.errors import UserError

SQUARE, ELLIPSE, HEART = 0, 1, 2


def one(shape=0, scale=5, orientation=0, x=16, y=16, size=64) -> torch.Tensor:
    return render(np.array([[shape, scale, orientation, x, y]]), size)[0, 0]


def centroid(image: torch.Tensor) -> tuple[float, float]:
    rows, cols = image.nonzero(as_tuple=True)
    return cols.double().mean().item(), rows.double().mean().item()


def test_grid_is_dsprites():
    assert FACTOR_SIZES == (3, 6, 40, 32, 32)
    assert NUM_IMAGES == 737_280
    assert BASES == (245_760, 40_960, 1024, 32, 1)  # dSprites' latent_to_index without colour
    values = factor_values(np.array([[2, 5, 39, 31, 0]]))[0]
    assert values[0] == 3.0 and values[1] == pytest.approx(1.0)
    assert values[2] == pytest.approx(2 * math.pi)  # endpoint included, as in the file
    assert values[3] == pytest.approx(1.0) and values[4] == 0.0


def test_index_round_trip():
    index = np.array([0, 1, 31, 32, 1023, 1024, NUM_IMAGES - 1])
    classes = index_to_classes(index)
    assert (classes_to_index(classes) == index).all()
    assert classes[-1].tolist() == [s - 1 for s in FACTOR_SIZES]


@pytest.mark.parametrize("size", [64, 32])
def test_output_is_binary_uint8_of_the_asked_size(size):
    images = render(sample_classes(50, np.random.default_rng(0)), size)
    assert images.dtype == torch.uint8 and images.shape == (50, 1, size, size)
    assert set(images.unique().tolist()) <= {0, 1}
    assert (images.sum((1, 2, 3)) > 0).all()  # every sprite is visible


def test_deterministic_and_batch_independent():
    classes = sample_classes(40, np.random.default_rng(1))
    whole = render(classes)
    assert torch.equal(whole, render(classes))
    assert torch.equal(whole[7:8], render(classes[7:8]))  # an image does not depend on its batch


@pytest.mark.parametrize("shape", [SQUARE, ELLIPSE, HEART])
def test_area_grows_with_scale(shape):
    areas = [one(shape, scale).sum().item() for scale in range(6)]
    assert all(a < b for a, b in zip(areas, areas[1:]))
    # Area grows like scale²: 1.0² / 0.5² = 4, within the pixel error.
    assert areas[-1] / areas[0] == pytest.approx(4.0, rel=0.2)


@pytest.mark.parametrize("axis", ["x", "y"])
def test_centroid_follows_position(axis):
    spots = []
    for p in (0, 10, 20, 31):
        x, y = (p, 16) if axis == "x" else (16, p)
        spots.append(centroid(one(SQUARE, 3, 0, x, y)))
    moving = [s[0] if axis == "x" else s[1] for s in spots]
    still = [s[1] if axis == "x" else s[0] for s in spots]
    # The centre sits at (0.25 + 0.5·pos)·64 px: 16 px at pos 0, 48 px at pos 1.
    expected = [(0.25 + 0.5 * p / 31) * 64 for p in (0, 10, 20, 31)]
    assert moving == pytest.approx(expected, abs=0.75)
    assert max(still) - min(still) < 0.5


def _rotated_by(shape: int, turn: float) -> float:
    """Share of pixels that differ between an unrotated sprite and one rotated by ``turn``
    (in 2π units); the grid cannot hit a quarter turn exactly, so render the nearest steps."""
    steps = turn * 39  # orientation step = 2π/39
    a = one(shape, 5, 0)
    b = one(shape, 5, round(steps))
    return ((a != b).sum() / (a | b).sum()).item()


def test_square_looks_alike_after_a_quarter_turn_the_heart_does_not():
    square, heart = _rotated_by(SQUARE, 0.25), _rotated_by(HEART, 0.25)
    assert square < 0.1  # only the 2.3° the grid misses a quarter turn by, and the pixel edges
    assert heart > 0.15 and heart > 3 * square
    assert _rotated_by(ELLIPSE, 0.5) < 0.1  # the ellipse repeats after a half turn
    assert _rotated_by(ELLIPSE, 0.25) > 0.3


def test_orientation_endpoints_coincide():
    assert torch.equal(one(HEART, 5, 0), one(HEART, 5, 39))  # 0 and 2π, as in dSprites


def test_heart_points_down_at_orientation_zero():
    image = one(HEART, 5, 0)
    rows = image.nonzero(as_tuple=True)[0]
    top, bottom = rows.min().item(), rows.max().item()
    width = lambda r: image[r].sum().item()  # noqa: E731
    assert width(top + 2) > width(bottom - 1)  # lobes on top, tip at the bottom


def test_memory_is_per_batch():
    # Rendering a batch allocates for the batch only: a small batch of a huge index range.
    index = np.array([0, NUM_IMAGES // 2, NUM_IMAGES - 1])
    assert render(index_to_classes(index)).shape[0] == 3


def test_bad_classes():
    with pytest.raises(UserError, match=r"\[N, 5\]"):
        render(np.zeros((2, 4), dtype=int))
    with pytest.raises(UserError, match="out of range"):
        render(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(UserError, match="integers"):
        render(np.zeros((1, 5)))
    with pytest.raises(UserError, match="size"):
        render(np.zeros((1, 5), dtype=int), size=48)


def test_dataset_through_the_registry():
    data = load_dataset("sprites", test_fraction=0.25, seed=3, size=32, examples=200)
    assert data.shape == (1, 32, 32) and len(data.train) == 150 and len(data.test) == 50
    assert data.factor_names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    # The stored images are exactly the renders of the stored factors (0/255 as uint8).
    assert torch.equal(data.test, render(data.factors_test.numpy(), 32) * 255)
    index = np.concatenate(
        [classes_to_index(f.numpy()) for f in (data.factors_train, data.factors_test)]
    )
    assert len(np.unique(index)) == 200  # distinct grid points
    again = load_dataset(data.source)
    assert torch.equal(again.train, data.train) and torch.equal(
        again.factors_train, data.factors_train
    )


def test_bad_examples_for_sprites():
    with pytest.raises(UserError, match="data.examples"):
        load_dataset("sprites", examples=1)
