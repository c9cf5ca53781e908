"""The plots of ``vaebalance study dims``: each balance measure against the input size K and
against the latent size J, one line per convention.

A convention whose balance does not depend on K and J draws flat lines; one whose weight
grows with K (``mean-sum``, ``normalized``) bends. One panel per value of the other size, so
each line varies one size only.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from ..schema import StudyRow
from .plots import to_png

# A fixed colour per convention, in the order the study lists them, across every figure.
COLOURS = ("#c0392b", "#e67e22", "#7f8c8d", "#1f4e79", "#2e8b57", "#8e44ad", "#16a085")
# A marker per convention, larger first: conventions that reach the same value (collapse:
# no active units) overlap, and the larger marker behind keeps each visible.
MARKERS = ("o", "s", "D", "^", "v", "P", "X")
LOG_Y = (StudyRow.key.mse_per_element,)


def plotted(rows: list[StudyRow]) -> list[str]:
    """The measures to plot: those some finished cell has (MIG only where factors are known)."""
    return [k for k in StudyRow.PLOTTED if any(getattr(r, k) is not None for r in rows)]


def versus_size(rows: list[StudyRow], axis: str) -> bytes:
    """Every plotted measure against ``axis`` (``input_dim`` or ``latent_dim``): a row of panels
    per measure, a column per value of the other size, a line per convention."""
    other = StudyRow.key.latent_dim if axis == StudyRow.key.input_dim else StudyRow.key.input_dim
    measures = plotted(rows) or list(StudyRow.PLOTTED[:1])
    columns = sorted({getattr(r, other) for r in rows})
    conventions = list(dict.fromkeys(r.convention for r in rows))
    fig = Figure(figsize=(3.6 * len(columns) + 1.8, 2.9 * len(measures)))
    axes = fig.subplots(len(measures), len(columns), squeeze=False)
    for i, measure in enumerate(measures):
        for j, fixed in enumerate(columns):
            ax = axes[i][j]
            for c, convention in enumerate(conventions):
                points = sorted(
                    (getattr(r, axis), getattr(r, measure))
                    for r in rows
                    if r.convention == convention and getattr(r, other) == fixed
                    and r.status == "finished" and getattr(r, measure) is not None
                )  # fmt: skip
                if points:
                    ax.plot(*zip(*points), marker=MARKERS[c % len(MARKERS)],
                            markersize=max(3.0, 9.0 - c), color=COLOURS[c % len(COLOURS)],
                            label=convention)  # fmt: skip
            _axes(ax, rows, axis, measure, f"{_name(other)} = {fixed}", i == 0)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1 - 1.6 / (3.6 * len(columns) + 1.8), 1))
    return to_png(fig)


def _axes(ax, rows, axis: str, measure: str, title: str, top: bool) -> None:
    xs = sorted({getattr(r, axis) for r in rows})
    ax.set_xscale("log", base=2)
    ax.minorticks_off()
    ax.set_xticks(xs, [str(x) for x in xs])
    if measure in LOG_Y:
        ax.set_yscale("log")
    column = StudyRow.column(measure)
    ax.set_ylabel(f"{column.label} [{column.unit}]", fontsize=8)
    ax.set_xlabel(_name(axis), fontsize=8)
    if top:
        ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.25)


def _name(key: str) -> str:
    return "K (input elements)" if key == StudyRow.key.input_dim else "J (latent dims)"
