"""Sweeps: grids of runs over any config fields, their frontier, and which run to use.

Reading a sweep and recommending a run need no torch and load eagerly; running one loads on
first use (PEP 562), so that ``vaebalance report`` starts fast.
"""

# ruff: noqa: F401  (the name under TYPE_CHECKING is a re-export, loaded lazily)
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports
from .grid import expand as expand
from .grid import parse_grid as parse_grid
from .recommend import Goal as Goal
from .recommend import Recommendation as Recommendation
from .recommend import recommend as recommend
from .results import Sweep as Sweep
from .results import load_sweep as load_sweep

if TYPE_CHECKING:
    from .sweep import run_sweep


__getattr__, __dir__ = exports(globals(), {"run_sweep": ".sweep"})
