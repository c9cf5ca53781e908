"""The in-memory dataset container every loader returns and the trainer consumes.

Examples live in memory once, as one contiguous tensor per split. Eight-bit sources stay
``uint8`` (a quarter of the memory of float32) and are converted per batch by
:meth:`Dataset.to_float`; everything else is stored as float32 already in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from vaebalance.errors import unknown_choice

SPLITS = ("train", "test")


@dataclass(repr=False)
class Dataset:
    """Train and test examples in memory, with their per-example shape and provenance.

    Attributes:
        name: ``"digits"``, ``"fashion-mnist"``, ... or the path the user gave.
        train: All training examples, ``[N, C, H, W]`` for images or ``[N, D]`` for tables;
            ``uint8`` where the source is 8-bit, else float32 in [0, 1].
        test: The test examples, same layout and dtype as ``train``.
        shape: Per-example shape, ``(C, H, W)`` or ``(D,)``.
        train_labels: Class labels ``int64 [N]`` where the source has them.
        test_labels: Class labels of the test split.
        factors_train: Generative factors ``[N, F]`` where known.
        factors_test: Generative factors of the test split.
        factor_names: One name per factor column.
        factor_grid: Where the full factor grid can be drawn and rendered on demand (the
            ``sprites`` dataset): ``factor_sizes``, ``sample_factors(n, rng)`` and
            ``observe(classes)``; ``None`` for sources with only the examples they hold.
        scaling: For CSV sources, the per-column min and max used to scale into [0, 1].
        source: JSON-serializable provenance that :func:`load_from_source` reloads.
    """

    name: str
    train: torch.Tensor
    test: torch.Tensor
    shape: tuple[int, ...]
    train_labels: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    factors_train: torch.Tensor | None = None
    factors_test: torch.Tensor | None = None
    factor_names: tuple[str, ...] = ()
    factor_grid: object | None = None
    scaling: dict | None = None
    source: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Loaders build these; a mismatch here is a bug in a loader, not a user mistake.
        self.shape = tuple(int(s) for s in self.shape)
        for split in SPLITS:
            tensor = getattr(self, split)
            if tuple(tensor.shape[1:]) != self.shape:
                raise ValueError(f"{split} has shape {tuple(tensor.shape)}, not [N, *{self.shape}]")

    @property
    def input_dim(self) -> int:
        """K, the number of input elements per example."""
        return math.prod(self.shape)

    @property
    def eight_bit(self) -> bool:
        """Whether examples are stored as ``uint8`` (values 0..255, scaled per batch)."""
        return self.train.dtype == torch.uint8

    def to_float(self, batch: torch.Tensor) -> torch.Tensor:
        """Return ``batch`` as float32 in [0, 1]: ``uint8`` is divided by 255, floats pass."""
        if batch.dtype == torch.uint8:
            return batch.to(torch.float32).div_(255.0)
        return batch

    def split(self, name: str) -> torch.Tensor:
        """The examples of split ``name``, ``"train"`` or ``"test"``."""
        if name not in SPLITS:
            raise unknown_choice("split", name, SPLITS)
        return getattr(self, name)

    def __repr__(self) -> str:
        # The dataclass default would print tensors; a summary is what a reader wants.
        return (
            f"Dataset(name={self.name!r}, shape={self.shape}, train={len(self.train)}, "
            f"test={len(self.test)}, dtype={str(self.train.dtype).removeprefix('torch.')}, "
            f"labels={self.train_labels is not None})"
        )


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """A contiguous, writable tensor sharing memory with ``array`` where it can."""
    # torch warns on read-only arrays (e.g. from np.frombuffer); copying avoids that.
    if not array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array, order="C", copy=True)
    return torch.from_numpy(array)


def as_labels(labels: np.ndarray | None) -> torch.Tensor | None:
    """Labels as an ``int64`` tensor, or ``None`` when the source has none."""
    if labels is None:
        return None
    return torch.from_numpy(np.asarray(labels, dtype=np.int64).copy())
