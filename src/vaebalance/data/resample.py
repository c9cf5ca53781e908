"""``data.size`` and ``data.examples`` for sources that hold their images: resample, subset.

``sprites`` renders at the size asked for; every other image source is loaded at its own size
and then resampled here, so one dataset can be studied at several input sizes K (``vaebalance
study dims``):

- ``size``: each image becomes ``size × size`` (channels kept). Downsampling averages the
  input pixels under each output pixel (``interpolate(mode="area")``: the mean of each 2×2
  block when halving, no aliasing); upsampling interpolates bilinearly. 8-bit images stay 8-bit (rounded); float images stay float in their
  range. Labels and factors are per image and do not change.
- ``examples``: a seeded random subset of that many examples in all, split between train and
  test in the source's own proportion (at least one of each), so a 60,000 + 10,000 source asked
  for 7,000 keeps 6,000 + 1,000. Labels and factors follow their examples.

Both are recorded in the dataset's ``source`` (``resample``) so a run reloads exactly the
examples it was trained on.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from vaebalance.data.dataset import Dataset
from vaebalance.errors import check

MAX_SIZE = 1024  # a side larger than this is a typo, and would not fit in memory anyway
BATCH = 2048  # images resampled at once: bounds the float copy in memory


def resample(data: Dataset, size: int | None, examples: int | None, seed: int = 0) -> Dataset:
    """``data`` subset to ``examples`` (train + test) and resampled to ``size × size``."""
    if size is None and examples is None:
        return data
    if examples is not None:
        data = subset(data, examples, seed)
    if size is not None:
        data = resize(data, size)
    record = {"size": size, "examples": examples, "seed": seed}
    return dataclasses.replace(data, source={**data.source, "resample": record})


def subset(data: Dataset, examples: int, seed: int = 0) -> Dataset:
    """A seeded random ``examples`` of the dataset, train and test in the source's proportion."""
    n_train, n_test = len(data.train), len(data.test)
    total = n_train + n_test
    check(
        isinstance(examples, int) and 2 <= examples <= total,
        f"data.examples must be an integer from 2 to the {total} examples of {data.name}, "
        f"got {examples!r}",
    )
    keep_test = min(max(1, round(examples * n_test / total)), examples - 1)
    generator = torch.Generator().manual_seed(seed)
    train_idx = torch.randperm(n_train, generator=generator)[: examples - keep_test].sort().values
    test_idx = torch.randperm(n_test, generator=generator)[:keep_test].sort().values
    changes = {"train": data.train[train_idx], "test": data.test[test_idx]}
    for split, idx in (("train", train_idx), ("test", test_idx)):
        for field in (f"{split}_labels", f"factors_{split}"):
            value = getattr(data, field)
            if value is not None:
                changes[field] = value[idx]
    return dataclasses.replace(data, **changes)


def resize(data: Dataset, size: int) -> Dataset:
    """Every image of ``data`` resampled to ``size × size`` (see the module docstring)."""
    check(
        len(data.shape) == 3,
        f"data.size resamples images; {data.name} has examples of shape {data.shape}",
    )
    check(
        isinstance(size, int) and 1 <= size <= MAX_SIZE,
        f"data.size must be an image side from 1 to {MAX_SIZE} pixels, got {size!r}",
    )
    if tuple(data.shape[1:]) == (size, size):
        return data
    train, test = (_resize_images(t, size) for t in (data.train, data.test))
    return dataclasses.replace(data, train=train, test=test, shape=(data.shape[0], size, size))


def _resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    out = []
    for start in range(0, len(images), BATCH):
        batch = images[start : start + BATCH].to(torch.float32)
        if size <= min(images.shape[-2:]):
            small = F.interpolate(batch, size=(size, size), mode="area")
        else:
            small = F.interpolate(batch, size=(size, size), mode="bilinear", align_corners=False)
        if images.dtype == torch.uint8:
            small = small.round().clamp(0, 255).to(torch.uint8)
        else:  # interpolation can overshoot a little at edges: keep the source's range
            small = small.clamp(float(images.min()), float(images.max()))
        out.append(small)
    if not out:
        return images.new_zeros((0, images.shape[1], size, size))
    return torch.cat(out).contiguous()
