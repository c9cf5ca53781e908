"""Seeded train/test splits for sources that do not come with their own."""

from __future__ import annotations

import numbers

import torch

from vaebalance.data.dataset import Dataset
from vaebalance.errors import UserError, check


def check_test_fraction(test_fraction: float) -> float:
    """Return ``test_fraction`` as a float, or raise :class:`UserError` unless it is in (0, 1)."""
    is_number = isinstance(test_fraction, numbers.Real) and not isinstance(test_fraction, bool)
    check(is_number, f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    check(0.0 < test_fraction < 1.0, f"test_fraction must be in (0, 1), got {test_fraction}")
    return float(test_fraction)


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw a random train/test partition of ``range(n)``, the same for the same seed.

    Args:
        n: Number of examples.
        test_fraction: Share of examples in the test split, in (0, 1); rounded to a count.
        seed: Seed of the ``torch.Generator`` that draws the permutation.

    Returns:
        ``(train_indices, test_indices)``, each sorted so the splits keep the source order.

    Raises:
        UserError: If the fraction is out of range or leaves either split empty.
    """
    test_fraction = check_test_fraction(test_fraction)
    is_int = isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
    check(is_int, f"seed must be an integer, got {seed!r}")
    n_test = round(n * test_fraction)
    if n_test < 1 or n_test > n - 1:
        empty = "test" if n_test < 1 else "train"
        raise UserError(
            f"test_fraction {test_fraction} of {n} examples leaves the {empty} split empty; "
            "choose a test_fraction that puts at least one example in each split"
        )
    generator = torch.Generator().manual_seed(int(seed))
    order = torch.randperm(n, generator=generator)
    return order[n_test:].sort().values, order[:n_test].sort().values


def random_split(
    name: str,
    examples: torch.Tensor,
    labels: torch.Tensor | None,
    test_fraction: float,
    seed: int,
    source: dict,
) -> Dataset:
    """Build a :class:`Dataset` from all ``examples`` by a seeded random split.

    Args:
        name: The dataset's name (the path the user gave).
        examples: All examples, ``[N, *shape]``.
        labels: ``int64 [N]`` labels, or ``None``.
        test_fraction: Share of examples in the test split.
        seed: Seed of the split.
        source: Provenance to store on the dataset; the split settings are added to it.
    """
    train_idx, test_idx = split_indices(len(examples), test_fraction, seed)

    def pick(tensor: torch.Tensor | None, idx: torch.Tensor) -> torch.Tensor | None:
        return None if tensor is None else tensor.index_select(0, idx).contiguous()

    return Dataset(
        name=name,
        train=pick(examples, train_idx),
        test=pick(examples, test_idx),
        shape=tuple(examples.shape[1:]),
        train_labels=pick(labels, train_idx),
        test_labels=pick(labels, test_idx),
        source={**source, "test_fraction": float(test_fraction), "seed": int(seed)},
    )
