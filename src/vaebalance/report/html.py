"""``report.html``: one self-contained page about a run or a sweep.

Every picture is a PNG inlined as a ``data:image/png;base64`` URI and the styles are inline,
so the file opens from disk with no server and no network (no scripts, fonts or stylesheets
from elsewhere). The page is rendered by jinja2 with autoescaping on: run names, paths and
config strings are text, never markup.
"""

from __future__ import annotations

import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..errors import UserError
from ..runs import REPORT, RunDir
from ..storage import atomic_write
from ..sweeps.results import SWEEP_JSON

TEMPLATES = Path(__file__).parent / "templates"
log = logging.getLogger("vaebalance")


def write_report(path: str | Path, goal=None) -> Path:
    """Write ``report.html`` into a run or sweep directory; returns its path.

    Args:
        path: a run directory (``run.json``) or a sweep directory (``sweep.json``).
        goal: for a sweep, the :class:`~vaebalance.sweeps.Goal` the recommendation serves
            (default: the knee of the frontier).
    """
    path = Path(path)
    is_sweep = (path / SWEEP_JSON).is_file()
    if goal is not None and goal.given() and not is_sweep:
        raise UserError(
            "target_mse, target_rate and min_active_units apply to sweeps",
            params=("target_mse", "target_rate", "min_active_units"),
        )
    # Each page imports what it draws with only when it is the page asked for.
    if is_sweep:
        from .sweep_page import sweep_context

        context = sweep_context(path, goal)
    elif RunDir(path).is_run():
        from .run_page import run_context

        context = run_context(path)
    elif not path.is_dir():
        raise UserError(f"no such directory: {path}")
    else:
        raise UserError(f"{path} is neither a run (no run.json) nor a sweep (no {SWEEP_JSON})")
    atomic_write(path / REPORT, render(context).encode())
    return path / REPORT


def try_write_report(path: Path, goal=None) -> Path | None:
    """:func:`write_report` for a run that has just ended: a failure is logged, not raised,
    since the run itself is complete and saved and must not turn into an error."""
    try:
        return write_report(path, goal)
    except Exception as e:
        text = " ".join(str(e).split())
        log.warning("report.html for %s not written: %s: %s", path, type(e).__name__, text)
        return None


def render(context: dict) -> str:
    return render_template("report.html", context)


def render_template(name: str, context: dict) -> str:
    """Render one of ``templates/`` (autoescaped, strict about undefined variables)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # names and config strings must never become markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(name).render(**context)
