"""A validation split held out of the training split, so the test split stays for the report.

Per-epoch held-out curves, the overfitting verdict of ``diagnose`` and the decisions of
``tune`` read the validation split; the test split is looked at once, for ``metrics.json``.
Deciding anything on the test split (when to stop, which β) makes its numbers optimistic.

The split is a seeded permutation of the *training* examples, so the test split is the same
with or without one, and it is recorded in the dataset's ``source``: a run reloads exactly the
examples it trained on.
"""

from __future__ import annotations

import dataclasses

import torch

from vaebalance.data.dataset import Dataset
from vaebalance.errors import check

# The validation permutation must not be the test split's: a different stream of the seed.
SEED_OFFSET = 7919


def check_val_fraction(fraction: object) -> float:
    """``fraction`` as a float in [0, 1), or a UserError."""
    ok = isinstance(fraction, int | float) and not isinstance(fraction, bool)
    check(ok and 0.0 <= fraction < 1.0, f"data.val_fraction must be in [0, 1), got {fraction!r}",
          params=("data.val_fraction",))  # fmt: skip
    return float(fraction)


def hold_out(data: Dataset, fraction: float, seed: int) -> Dataset:
    """``data`` with ``round(fraction · N_train)`` training examples moved to ``data.val``.

    Both parts keep the source order (sorted indices); labels and factors follow their
    examples. A fraction of 0 returns ``data`` unchanged.

    >>> from vaebalance.data import load_dataset
    >>> data = hold_out(load_dataset("digits"), 0.1, seed=0)
    >>> len(data.train), len(data.val), len(data.test)
    (1455, 162, 180)
    """
    fraction = check_val_fraction(fraction)
    if fraction == 0.0:
        return data
    check(data.val is None, f"{data.name} already has a validation split")
    n = len(data.train)
    n_val = round(n * fraction)
    check(
        1 <= n_val <= n - 1,
        f"data.val_fraction {fraction} of {n} training examples leaves the "
        f"{'validation' if n_val < 1 else 'training'} split empty; choose a data.val_fraction "
        "that puts at least one example in each (or 0 for none)",
        params=("data.val_fraction",),
    )
    fit_idx, val_idx = split_rows(n, n_val, seed)

    def pick(tensor, idx):
        return None if tensor is None else tensor.index_select(0, idx).contiguous()

    return dataclasses.replace(
        data,
        train=pick(data.train, fit_idx),
        val=pick(data.train, val_idx),
        train_labels=pick(data.train_labels, fit_idx),
        val_labels=pick(data.train_labels, val_idx),
        factors_train=pick(data.factors_train, fit_idx),
        factors_val=pick(data.factors_train, val_idx),
        source={**data.source, "val_fraction": fraction, "val_seed": int(seed)},
    )


def split_rows(n: int, n_val: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(kept, validation) indices of ``n`` training rows, each sorted: the same for the same
    seed, so factors attached later split like their examples."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed) + SEED_OFFSET))
    return order[n_val:].sort().values, order[:n_val].sort().values


def reapply(data: Dataset, source) -> Dataset:
    """The validation split a stored ``source`` records, applied to its freshly loaded data."""
    fraction = source.get("val_fraction", 0.0)
    return hold_out(data, fraction, source.get("val_seed", 0)) if fraction else data
