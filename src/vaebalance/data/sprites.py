"""``sprites``: the dSprites factor grid, rendered deterministically on demand.

dSprites (Matthey et al. 2017) is every combination of five generative factors, 737,280
binary 64×64 images. The file cannot be downloaded here, so this module draws the same grid
itself, one batch at a time (memory proportional to the batch, never to the 737,280 images):

==============  =====  ==========================================================
factor          size   values
==============  =====  ==========================================================
shape           3      square, ellipse, heart (values 1, 2, 3 as in dSprites)
scale           6      0.5, 0.6, …, 1.0
orientation     40     ``linspace(0, 2π, 40)``: both endpoints, so 0 and 39 coincide
pos_x, pos_y    32     ``linspace(0, 1, 32)``
==============  =====  ==========================================================

Each shape is an analytic region in its own frame (y up, width ``BASE_SIZE · scale`` of the
canvas): the square ``max(|u|, |v|) ≤ ½``, the ellipse ``(u/½)² + (v/¼)² ≤ 1`` and the heart
``(x² + y² − 1)³ − x²y³ ≤ 0``, rescaled to unit width and centred on its bounding box. It is
rotated counter-clockwise by the orientation about its centre, which sits at
``0.25 + 0.5 · pos`` of the canvas (the "centre half" of the original; y grows downwards as in
image rows). A pixel is set when at least half of its ``SUPERSAMPLE²`` sample points lie
inside. The original was rasterised by LÖVE without supersampling and its exact sizes are not
documented, so images match its grid and look, not its pixels: see ``docs/sprites.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from vaebalance.data.dataset import Dataset
from vaebalance.data.split import split_indices
from vaebalance.errors import check

FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
SIZES = (32, 64)
NUM_IMAGES = math.prod(FACTOR_SIZES)  # 737,280
# Odometer order of dSprites (pos_y fastest): index = classes · BASES.
BASES = tuple(math.prod(FACTOR_SIZES[i + 1 :]) for i in range(len(FACTOR_SIZES)))

BASE_SIZE = 0.22  # a shape's width at scale 1, as a fraction of the canvas side
SUPERSAMPLE = 4  # sample points per pixel along each axis
DEFAULT_EXAMPLES = 20_000  # the subset `--data sprites` trains on (train + test)
DEFAULT_SIZE = 64

# The implicit heart spans x ∈ [−1.139, 1.139], y ∈ [−1, 1.236]: width 2.278, centre y 0.118.
HEART_WIDTH, HEART_CENTRE_Y = 2.278, 0.118
# Farthest point of any shape from its centre, in units of its width (the square's corner).
CIRCUMRADIUS = math.sqrt(0.5)


def factor_values(classes: np.ndarray | torch.Tensor) -> np.ndarray:
    """The dSprites value of each factor class: ``float64 [N, 5]``.

    shape → 1, 2, 3; scale → ``linspace(0.5, 1, 6)``; orientation → ``linspace(0, 2π, 40)``
    (radians); pos_x, pos_y → ``linspace(0, 1, 32)``.
    """
    classes = _check_classes(classes)
    grids = (
        np.array([1.0, 2.0, 3.0]),
        np.linspace(0.5, 1.0, 6),
        np.linspace(0.0, 2 * math.pi, 40),
        np.linspace(0.0, 1.0, 32),
        np.linspace(0.0, 1.0, 32),
    )
    return np.stack([g[classes[:, i]] for i, g in enumerate(grids)], axis=1)


def classes_to_index(classes: np.ndarray | torch.Tensor) -> np.ndarray:
    """The index of each image in dSprites' order (``int64 [N]``)."""
    return _check_classes(classes) @ np.array(BASES, dtype=np.int64)


def index_to_classes(index: np.ndarray | torch.Tensor) -> np.ndarray:
    """Inverse of :func:`classes_to_index`: the factor classes ``int64 [N, 5]`` of each index."""
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    check(bool(((index >= 0) & (index < NUM_IMAGES)).all()), "sprite index out of range")
    return np.stack([(index // b) % s for b, s in zip(BASES, FACTOR_SIZES)], axis=1)


def sample_classes(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` factor vectors drawn i.i.d. uniformly over each factor's classes, with replacement
    (as disentanglement_lib samples ground-truth factors)."""
    return np.stack([rng.integers(0, s, size=n) for s in FACTOR_SIZES], axis=1)


def _check_classes(classes) -> np.ndarray:
    classes = np.asarray(classes)
    check(
        classes.ndim == 2 and classes.shape[1] == len(FACTOR_SIZES),
        f"sprite classes must be [N, 5] (shape, scale, orientation, pos_x, pos_y); "
        f"got shape {classes.shape}",
    )
    check(np.issubdtype(classes.dtype, np.integer), "sprite classes must be integers")
    classes = classes.astype(np.int64)
    ok = (classes >= 0).all() and (classes < np.array(FACTOR_SIZES)).all()
    check(bool(ok), f"sprite classes out of range; each factor's classes are 0..{FACTOR_SIZES}-1")
    return classes


def render(classes, size: int = DEFAULT_SIZE, supersample: int = SUPERSAMPLE) -> torch.Tensor:
    """Draw the sprites of the given factor classes: binary ``uint8 [N, 1, size, size]``.

    Args:
        classes: integer ``[N, 5]`` (shape, scale, orientation, pos_x, pos_y) class indices.
        size: image side in pixels, 64 (as dSprites) or 32.
        supersample: sample points per pixel along each axis; a pixel is 1 when at least
            half of its ``supersample²`` points are inside the shape.

    Only a window around each sprite (``≈ 0.31 · size`` pixels square) is evaluated, so the
    cost and memory grow with N and the window, not with the full 737,280-image grid.
    """
    check(size in SIZES, f"sprite size must be one of {SIZES}, got {size!r}")
    check(isinstance(supersample, int) and supersample >= 1, "supersample must be ≥ 1")
    values = torch.from_numpy(factor_values(classes)).float()
    n = values.shape[0]
    images = torch.zeros(n, 1, size, size, dtype=torch.uint8)
    if n == 0:
        return images
    window = math.ceil(2 * CIRCUMRADIUS * BASE_SIZE * size) + 2
    cx = (0.25 + 0.5 * values[:, 3]) * size  # centre in pixels
    cy = (0.25 + 0.5 * values[:, 4]) * size
    ox = (cx - window / 2).floor().clamp(0, size - window).long()
    oy = (cy - window / 2).floor().clamp(0, size - window).long()
    # Sample points of the window, in pixels: pixel p covers [p, p + 1).
    offsets = (torch.arange(window * supersample, dtype=torch.float32) + 0.5) / supersample
    dx = ox[:, None] + offsets[None, :] - cx[:, None]  # [N, Ws]
    dy = oy[:, None] + offsets[None, :] - cy[:, None]
    inside = torch.empty(n, dy.shape[1], dx.shape[1], dtype=torch.bool)
    for shape in range(len(SHAPES)):  # each image evaluates only its own shape's test
        rows = (values[:, 0] == shape + 1).nonzero().flatten()
        if len(rows):
            # y up in the shape's frame, while image rows grow downwards.
            inside[rows] = _inside(shape, values[rows], dx[rows, None, :], -dy[rows, :, None], size)
    coverage = inside.reshape(n, window, supersample, window, supersample).float().mean((2, 4))
    rows = oy[:, None, None] + torch.arange(window)[None, :, None]
    cols = ox[:, None, None] + torch.arange(window)[None, None, :]
    images[torch.arange(n)[:, None, None], 0, rows, cols] = (coverage >= 0.5).to(torch.uint8)
    return images


def _inside(shape: int, values: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, size: int):
    """Whether the points (dx, dy) (pixels from the centre, y up) lie inside each sprite."""
    width = (BASE_SIZE * size * values[:, 1])[:, None, None]
    angle = values[:, 2][:, None, None]
    cos, sin = angle.cos(), angle.sin()
    # Rotate the points by −θ into the shape's own frame, in units of its width.
    u = (cos * dx + sin * dy) / width
    v = (-sin * dx + cos * dy) / width
    if SHAPES[shape] == "square":
        return torch.maximum(u.abs(), v.abs()) <= 0.5
    if SHAPES[shape] == "ellipse":
        return (u / 0.5) ** 2 + (v / 0.25) ** 2 <= 1.0
    hx, hy = u * HEART_WIDTH, v * HEART_WIDTH + HEART_CENTRE_Y
    r = hx**2 + hy**2 - 1
    return r * r * r - hx**2 * hy**3 <= 0


@dataclass(frozen=True)
class SpriteGrid:
    """The full factor grid as a source of examples: draw factors, render any of them.

    This is the "factor sampler" the interventional metrics (BetaVAE, FactorVAE scores) need:
    they hold one factor fixed, vary the others, and render what they drew.
    """

    size: int = DEFAULT_SIZE
    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_classes(n, rng)

    def observe(self, classes: np.ndarray) -> torch.Tensor:
        """Float32 images in {0, 1} of the given classes, ``[N, 1, size, size]``."""
        return render(classes, self.size).float()


def load_sprites_dataset(
    size: int = DEFAULT_SIZE,
    examples: int = DEFAULT_EXAMPLES,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> Dataset:
    """A seeded random subset of the grid, distinct images, split into train and test.

    Images are stored as ``uint8`` 0/255 (so :meth:`Dataset.to_float` gives {0, 1}); the
    factor classes are ``factors_train`` / ``factors_test`` and the grid is ``factor_grid``.

    Args:
        size: 64 or 32 pixels.
        examples: how many distinct grid points to draw (train + test), 2 … 737,280.
        test_fraction: share of them in the test split.
        seed: seed of the draw and of the split.
    """
    check(size in SIZES, f"data.size for sprites must be one of {SIZES}, got {size!r}",
          params=("data.size",))  # fmt: skip
    check(
        isinstance(examples, int) and 2 <= examples <= NUM_IMAGES,
        f"data.examples for sprites must be an integer in 2..{NUM_IMAGES}, got {examples!r}",
        params=("data.examples",),
    )
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(NUM_IMAGES, size=examples, replace=False))
    classes = index_to_classes(index)
    train_idx, test_idx = split_indices(examples, test_fraction, seed)
    pick = {"train": classes[train_idx.numpy()], "test": classes[test_idx.numpy()]}
    images = {k: _render_in_chunks(v, size) for k, v in pick.items()}
    return Dataset(
        name="sprites",
        train=images["train"],
        test=images["test"],
        shape=(1, size, size),
        factors_train=torch.from_numpy(pick["train"]),
        factors_test=torch.from_numpy(pick["test"]),
        factor_names=FACTOR_NAMES,
        factor_grid=SpriteGrid(size),
        source={
            "kind": "sprites",
            "name": "sprites",
            "size": size,
            "examples": examples,
            "test_fraction": float(test_fraction),
            "seed": int(seed),
        },
    )


def _render_in_chunks(classes: np.ndarray, size: int, chunk: int = 1024) -> torch.Tensor:
    """Images as ``uint8`` 0/255, rendered a chunk at a time to bound the working memory."""
    parts = [render(classes[s : s + chunk], size) for s in range(0, len(classes), chunk)]
    return torch.cat(parts).mul_(255) if parts else torch.zeros(0, 1, size, size, torch.uint8)
