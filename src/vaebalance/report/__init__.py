"""Reports: one self-contained ``report.html`` per run or sweep, and the plots in it.

The names load on first use (PEP 562), and each page imports matplotlib and torch only where
it draws: the report of a finished run reads its pictures back (:mod:`vaebalance.runs.pictures`).
"""

# ruff: noqa: F401  (the names under TYPE_CHECKING are re-exports, loaded lazily)
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

_LAZY = {"try_write_report": ".html", "write_report": ".html", "write_plots": ".sweep_page"}

if TYPE_CHECKING:
    from .html import try_write_report, write_report
    from .sweep_page import write_plots


__getattr__, __dir__ = exports(globals(), _LAZY)
