"""The life of a run directory: start, resume, finish, load and re-evaluate.

The only layer that creates or changes run directories; it drives :mod:`vaebalance.training`
(the loop, checkpoints) and :mod:`vaebalance.evaluation` (the measurements), which know nothing
of run directories.

The layout (:class:`RunDir`, the file names) reads JSON and CSV and loads eagerly without
torch (``vaebalance diagnose`` and ``report`` start fast); what trains, loads or evaluates a
model loads on first use (PEP 562).
"""

# ruff: noqa: F401  (the names under TYPE_CHECKING are re-exports, loaded lazily)
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports
from .layout import CHECKPOINT_DIR as CHECKPOINT_DIR
from .layout import CONFIG as CONFIG
from .layout import HISTORY as HISTORY
from .layout import METRICS as METRICS
from .layout import MODEL as MODEL
from .layout import PICTURES_DIR as PICTURES_DIR
from .layout import REPORT as REPORT
from .layout import RUN as RUN
from .layout import RunDir as RunDir

_LAZY = {
    "evaluate_other": ".evaluate",
    "evaluate_run": ".evaluate",
    "Run": ".load",
    "load_run": ".load",
    "RunInterrupted": ".start",
    "resume": ".start",
    "train": ".start",
}

if TYPE_CHECKING:
    from .evaluate import evaluate_other, evaluate_run
    from .load import Run, load_run
    from .start import RunInterrupted, resume, train


__getattr__, __dir__ = exports(globals(), _LAZY)
