"""The picture of a ``vaebalance tune``: the frontier its runs mapped, and the search's path.

Left, each finished run at (rate, MSE per element) — the rate–distortion plane in the units
the goal is stated in, since under a fixed-σ Gaussian the distortion is an affine function of
the MSE — with the Pareto front through them and the target with its tolerance band. Right,
the goal's metric against β on log axes, each run numbered in the order the search tried it.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ..schema import TuneRow
from ..sweeps.frontier import pareto_front
from .plots import ACCENT, FRONT, INK, to_png

BAND = "#f5b041"


def tune_frontier(
    rows: list[TuneRow],
    key: str,
    target: float,
    tolerance: float,
    chosen: str | None = None,
    data: str = "",
) -> bytes:
    """:func:`tune_figure` as a PNG."""
    return to_png(tune_figure(rows, key, target, tolerance, chosen, data))


def tune_figure(rows, key, target, tolerance, chosen=None, data="") -> Figure:
    rows = [r for r in rows if r.finished and r.rate_nats is not None and r[key] is not None]
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    frontier, search = fig.subplots(1, 2)
    if not rows:
        frontier.text(0.5, 0.5, "no finished runs", ha="center", transform=frontier.transAxes)
        return fig
    order = {r.run: i + 1 for i, r in enumerate(rows)}
    _frontier(frontier, rows, key, target, tolerance, chosen, order)
    _search(search, rows, key, target, tolerance, chosen, order)
    label = TuneRow.GOALS[key]
    where = f" on {data}" if data else ""
    fig.suptitle(f"tune{where}: {label} = {target:g} ± {tolerance:.0%}", fontsize=11)
    return fig


def _frontier(ax, rows, key, target, tolerance, chosen, order) -> None:
    mse = TuneRow.key.mse_per_element
    y_key = key if key != TuneRow.key.rate_nats else mse
    points = [(r.rate_nats, r[y_key]) for r in rows]
    xs, ys = zip(*points)
    ax.scatter(xs, ys, s=36, color=INK, zorder=3, label="run (in search order)")
    for r, x, y in zip(rows, xs, ys):
        ax.annotate(str(order[r.run]), (x, y), xytext=(5, 4), textcoords="offset points")
    # Lower is better on both axes, except PSNR where higher is: flip it for the front.
    sign = -1 if y_key == TuneRow.key.psnr_db else 1
    front = pareto_front([(x, sign * y) for x, y in points])
    ax.plot([xs[i] for i in front], [ys[i] for i in front], color=FRONT, lw=1.6, zorder=2,
            label="empirical frontier (Pareto)")  # fmt: skip
    band = (target * (1 - tolerance), target * (1 + tolerance))
    if key == TuneRow.key.rate_nats:
        ax.axvspan(*band, color=BAND, alpha=0.3, zorder=1, label="target ± tolerance")
        ax.axvline(target, color=BAND, lw=1.2)
    else:
        ax.axhspan(*band, color=BAND, alpha=0.3, zorder=1, label="target ± tolerance")
        ax.axhline(target, color=BAND, lw=1.2)
    _star(ax, rows, chosen, xs, ys)
    if y_key == mse:
        ax.set_yscale("log")
        _plain_log(ax.yaxis)
    ax.set_xlabel("rate R = KL(q(z|x) ‖ p(z))   [nats/example]")
    ax.set_ylabel(_axis_label(y_key))
    ax.set_title("Rate–distortion of the runs (lower left is better)", fontsize=10)
    ax.grid(alpha=0.25, which="both")
    ax.legend(fontsize=8, loc="best")


def _search(ax, rows, key, target, tolerance, chosen, order) -> None:
    xs = [r.beta for r in rows]
    ys = [r[key] for r in rows]
    ax.plot(xs, ys, color="0.75", lw=0.8, zorder=1)  # the path, in search order
    ax.scatter(xs, ys, s=36, color=INK, zorder=3)
    for r, x, y in zip(rows, xs, ys):
        ax.annotate(str(order[r.run]), (x, y), xytext=(5, 4), textcoords="offset points")
    ax.axhspan(target * (1 - tolerance), target * (1 + tolerance), color=BAND, alpha=0.3)
    ax.axhline(target, color=BAND, lw=1.2)
    _star(ax, rows, chosen, xs, ys)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 0.01, 0.02, 0.05, 0.1, …
    _plain_log(ax.xaxis, minor=False)
    if key != TuneRow.key.psnr_db:
        ax.set_yscale("log")
        _plain_log(ax.yaxis)
    ax.set_xlabel("β, the KL weight against D (constant balancer)")
    ax.set_ylabel(_axis_label(key))
    ax.set_title("The search: each run's β and what it reached", fontsize=10)
    ax.grid(alpha=0.25, which="both")


def _plain_log(axis, minor: bool = True) -> None:
    """Log-scale ticks as plain numbers (0.02, not 2×10⁻²); minor ones labelled only where
    the axis spans too little for major ticks to say enough."""
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    axis.set_major_formatter(plain)
    axis.set_minor_formatter(plain if minor else NullFormatter())


def _star(ax, rows, chosen, xs, ys) -> None:
    names = [r.run for r in rows]
    if chosen in names:
        i = names.index(chosen)
        ax.scatter([xs[i]], [ys[i]], s=240, marker="*", color=ACCENT, zorder=4,
                   label=f"chosen: {chosen}")  # fmt: skip


def _axis_label(key: str) -> str:
    column = TuneRow.column(key)
    return f"{column.label}   [{column.unit}]"
