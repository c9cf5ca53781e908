"""The in-memory dataset container every loader returns and the trainer consumes.

Examples live in memory once, as one contiguous tensor per split. Eight-bit sources stay
``uint8`` (a quarter of the memory of float32) and are converted per batch by
:meth:`Dataset.to_float`; everything else is stored as float32, in the units of the source
(any finite values; images in [0, 1]). With a :class:`~.standardize.Standardization`
attached (``data.standardize``), :meth:`Dataset.to_float` also standardizes each batch: what it
returns is what the model sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from vaebalance.data.standardize import Standardization
from vaebalance.errors import UserError, unknown_choice

SPLITS = ("train", "val", "test")


@dataclass(repr=False)
class Dataset:
    """Train and test examples in memory, with their per-example shape and provenance.

    Attributes:
        name: ``"digits"``, ``"fashion-mnist"``, ... or the path the user gave.
        train: All training examples, ``[N, C, H, W]`` for images or ``[N, D]`` for tables;
            ``uint8`` where the source is 8-bit, else float32 in the source's units.
        test: The test examples, same layout and dtype as ``train``.
        val: Validation examples held out of the training split (:mod:`.validation`), or
            None.
        shape: Per-example shape, ``(C, H, W)`` or ``(D,)``.
        train_labels: Class labels ``int64 [N]`` where the source has them.
        test_labels: Class labels of the test split.
        val_labels: Class labels of the validation split.
        factors_train: Generative factors ``[N, F]`` where known.
        factors_test: Generative factors of the test split.
        factors_val: Generative factors of the validation split.
        factor_names: One name per factor column.
        factor_grid: Where the full factor grid can be drawn and rendered on demand (the
            ``sprites`` dataset): ``factor_sizes``, ``sample_factors(n, rng)`` and
            ``observe(classes)``; ``None`` for sources with only the examples they hold.
        scaling: For CSV sources, the column names (and, for sources written before real values
            were accepted, the per-column min and max used to scale into [0, 1]).
        source: JSON-serializable provenance that :func:`load_from_source` reloads.
        standardization: Per-element mean and std applied by :meth:`to_float`, or None.
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
    standardization: Standardization | None = None
    val: torch.Tensor | None = None
    val_labels: torch.Tensor | None = None
    factors_val: torch.Tensor | None = None

    def __post_init__(self) -> None:
        # Loaders build these; a mismatch here is a bug in a loader, not a user mistake.
        self.shape = tuple(int(s) for s in self.shape)
        for split in SPLITS:
            tensor = getattr(self, split)
            if tensor is not None and tuple(tensor.shape[1:]) != self.shape:
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
        """Return ``batch`` as the model sees it: float32, ``uint8`` divided by 255, then
        standardized where a standardization is attached; floats otherwise pass unchanged."""
        if batch.dtype == torch.uint8:
            batch = batch.to(torch.float32).div_(255.0)
        if self.standardization is not None:
            batch = self.standardization.apply(batch)
        return batch

    def to_data_units(self, batch: torch.Tensor) -> torch.Tensor:
        """Model-side values (reconstructions, samples) back in the units of the data as
        given: :meth:`Standardization.invert`, or unchanged without standardization."""
        if self.standardization is None:
            return batch
        return self.standardization.invert(batch)

    @property
    def log_det_nats(self) -> float:
        """Σ_d log s_d, the nats a NLL of what the model sees needs to be one of the data as
        given (0 without standardization; :mod:`.standardize`)."""
        return 0.0 if self.standardization is None else self.standardization.log_det_nats

    def standardized(self, stats: Standardization | None = None) -> Dataset:
        """This dataset with ``stats`` attached, by default fitted on the training split."""
        if stats is None:
            plain = replace(self, standardization=None)
            stats = Standardization.fit(self.train, plain.to_float)
        return replace(self, standardization=stats)

    def split(self, name: str) -> torch.Tensor:
        """The examples of split ``name``: ``"train"``, ``"val"`` (where held out) or
        ``"test"``."""
        if name not in SPLITS:
            raise unknown_choice("split", name, SPLITS)
        if name == "val" and self.val is None:
            raise UserError(f"{self.name} has no validation split (data.val_fraction is 0)")
        return getattr(self, name)

    @property
    def held_out(self) -> tuple[str, torch.Tensor]:
        """The split per-epoch held-out numbers are measured on: validation where there is
        one, else test (runs made before validation splits existed)."""
        return ("val", self.val) if self.val is not None else ("test", self.test)

    def __repr__(self) -> str:
        # The dataclass default would print tensors; a summary is what a reader wants.
        return (
            f"Dataset(name={self.name!r}, shape={self.shape}, train={len(self.train)}, "
            f"val={0 if self.val is None else len(self.val)}, test={len(self.test)}, dtype={str(self.train.dtype).removeprefix('torch.')}, "
            f"labels={self.train_labels is not None}, "
            f"standardized={self.standardization is not None})"
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
