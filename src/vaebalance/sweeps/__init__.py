"""Sweeps: grids of runs over any config fields, their frontier, and which run to use."""

from .grid import expand as expand
from .grid import parse_grid as parse_grid
from .recommend import Goal as Goal
from .recommend import Recommendation as Recommendation
from .recommend import recommend as recommend
from .results import Sweep as Sweep
from .results import load_sweep as load_sweep
from .sweep import run_sweep as run_sweep
