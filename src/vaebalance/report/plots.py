"""Charts as PNG bytes: the rate–distortion plane, sweeps against their varied field, training
curves and the KL of each latent dimension.

matplotlib's object API with the Agg canvas: no pyplot, so no global backend is chosen and
nothing needs a display.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..schema import EpochRecord, SweepRow
from ..sweeps.frontier import pareto_front

DPI = 100
# Fields whose values are weights or targets of the KL term: a sweep over one of them is a
# β-sweep, plotted against that field on the x axis in preference to any other varied field.
BETA_LIKE = ("beta", "beta_norm", "mean_weight", "target_kl", "target_mse", "c_max", "free_bits")
INK, ACCENT, FRONT = "#1f4e79", "#c0392b", "#2e8b57"


def to_png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def rate_distortion(rows: list[SweepRow], recommended: str | None = None, data: str = "") -> bytes:
    """:func:`rate_distortion_figure` as a PNG."""
    return to_png(rate_distortion_figure(rows, recommended, data))


def rate_distortion_figure(rows, recommended: str | None = None, data: str = "") -> Figure:
    """Each finished run at (rate, distortion), labelled; the Pareto front; lines R + D = c.

    Lines of constant ELBO have slope −1 in these axes: moving along one trades a nat of rate
    for a nat of distortion at the same −ELBO, and lower-left lines are better ELBOs. The
    legend sits below the axes, where it cannot cover a run or its label.
    """
    rows = [SweepRow.from_row(r) for r in rows]
    runs = [(r.run, p) for r in rows if (p := _point(r)) is not None]
    fig = Figure(figsize=(8, 6.2), layout="constrained")
    ax = fig.add_subplot()
    if not runs:
        ax.text(0.5, 0.5, "no finished runs", ha="center", transform=ax.transAxes)
        return fig
    names, points = zip(*runs)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    ax.scatter(xs, ys, s=36, color=INK, zorder=3, label="run")
    for name, x, y in zip(names, xs, ys):
        ax.annotate(name, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=8)
    front = pareto_front(points)
    ax.plot(
        [xs[i] for i in front],
        [ys[i] for i in front],
        color=FRONT,
        lw=1.8,
        zorder=2,
        label="empirical frontier (Pareto)",
    )
    if recommended in names:
        i = names.index(recommended)
        ax.scatter(
            [xs[i]],
            [ys[i]],
            s=260,
            marker="*",
            color=ACCENT,
            zorder=4,
            label=f"recommended: {recommended}",
        )
    _pad_limits(ax, xs, ys)
    _iso_elbo_lines(ax)
    ax.set_xlabel("rate R = KL(q(z|x) ‖ p(z))   [nats/example]")
    ax.set_ylabel("distortion D = E[−log p(x|z)]   [nats/example]")
    ax.set_title(f"Rate–distortion{f' on {data}' if data else ''} (lower left is better)")
    ax.grid(alpha=0.25)
    ax.plot([], [], ls="--", lw=0.8, color="0.6", label="constant −ELBO = R + D (slope −1)")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def _pad_limits(ax, xs, ys) -> None:
    for lo, hi, setter in ((min(xs), max(xs), ax.set_xlim), (min(ys), max(ys), ax.set_ylim)):
        pad = 0.12 * (hi - lo) or 0.12 * abs(hi) or 1.0
        setter(lo - pad, hi + pad)


def _iso_elbo_lines(ax, count: int = 7) -> None:
    """Dashed lines R + D = c at round values of c across the visible plane."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    lo, hi = x0 + y0, x1 + y1
    step = _nice_step((hi - lo) / count)
    c = math.ceil(lo / step) * step
    while c < hi:
        ax.plot([x0, x1], [c - x0, c - x1], ls="--", lw=0.8, color="0.6", zorder=1)
        x_label = min(x1, c - y0) - 0.02 * (x1 - x0)  # where the line leaves the plot, inside
        y_label = c - x_label
        if y0 <= y_label <= y1 - 0.04 * (y1 - y0):  # room above for the text
            ax.text(x_label, y_label, f"{c:g}", fontsize=7, color="0.45", ha="right", va="bottom")
        c += step
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def sweep_axis(keys: list[str]) -> str:
    """The varied field to put on the x axis: a β-like one if any, else the first."""
    return next((k for k in keys if k.rpartition(".")[2] in BETA_LIKE), keys[0])


def versus(rows: list[SweepRow], keys: list[str]) -> bytes:
    """Distortion and rate against the sweep's main varied field, one line per other setting."""
    axis = sweep_axis(keys)
    others = [k for k in keys if k != axis]
    rows = [SweepRow.from_row(r, keys) for r in rows]
    runs = [r for r in rows if _point(r) is not None]
    values = [str(r.values[axis]) for r in runs]
    numeric = all(_float(v) is not None for v in values)
    fig = Figure(figsize=(10, 3.8))
    panels = fig.subplots(1, 2)
    groups: dict[str, list[dict]] = {}
    for r in runs:
        groups.setdefault(", ".join(f"{_label(k)}={r.values[k]}" for k in others), []).append(r)
    order = {v: i for i, v in enumerate(dict.fromkeys(values))}
    for ax, index, title in zip(panels, (1, 0), ("distortion", "rate")):
        for label, members in groups.items():
            x = [_float(str(r.values[axis])) if numeric else order[str(r.values[axis])]
                 for r in members]  # fmt: skip
            y = [_point(r)[index] for r in members]
            pairs = sorted(zip(x, y))
            ax.plot(*zip(*pairs), marker="o", label=label or None)
        ax.set_xlabel(_label(axis))
        ax.set_ylabel(f"{title} [nats/example]")
        ax.set_title(f"{title} vs {_label(axis)}")
        ax.grid(alpha=0.25)
        _x_axis(ax, list(order), numeric)
        if others:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return to_png(fig)


def _x_axis(ax, values: list[str], numeric: bool) -> None:
    """Ticks at the grid's own values; a log scale when they are positive and span 10×."""
    if not numeric:
        ax.set_xticks(range(len(values)), values, rotation=30, ha="right")
        return
    xs = sorted({float(v) for v in values})
    if xs[0] > 0 and xs[-1] / xs[0] >= 10:
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(xs, [f"{x:g}" for x in xs])


CURVES = (  # what each panel plots against the step, its title, and whether test has it
    (lambda r: r.rate_nats, "rate R [nats/example]", True),
    (lambda r: r.distortion_nats, "distortion D [nats/example]", True),
    (lambda r: -r.elbo_nats, "−ELBO = R + D [nats/example]", True),
    (lambda r: r.beta, "β (KL weight)", False),
)


def training_curves(history: list[EpochRecord]) -> bytes:
    """Rate, distortion, −ELBO and β over optimizer steps, train and held out (validation,
    or test in runs without a validation split)."""
    history = [EpochRecord.from_json(r) for r in history]
    fig = Figure(figsize=(10, 6))
    for ax, (value, title, on_test) in zip(fig.subplots(2, 2).flat, CURVES):
        for split, style in (("train", "-"), ("val", "--"), ("test", "--")):
            pts = [
                (r.step, v)
                for r in history
                if r.split == split and (v := _float(_safe(value, r))) is not None
            ]
            if pts and (on_test or split == "train"):
                ax.plot(*zip(*pts), ls=style, marker="." if len(pts) < 30 else None, label=split)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step", fontsize=8)
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return to_png(fig)


def kl_bars(kl_per_dim: list[float], highlight: list[int] = ()) -> bytes:
    """The rate of each latent dimension; the dims shown in the traversals highlighted."""
    fig = Figure(figsize=(min(10, 2 + 0.35 * len(kl_per_dim)), 3))
    ax = fig.add_subplot()
    colors = [ACCENT if j in highlight else INK for j in range(len(kl_per_dim))]
    ax.bar(range(len(kl_per_dim)), kl_per_dim, color=colors)
    ax.set_xlabel("latent dimension j")
    ax.set_ylabel("KL_j [nats/example]")
    ax.set_xticks(range(len(kl_per_dim)))
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="y", alpha=0.25)
    fig.tight_layout()
    return to_png(fig)


def factor_heatmap(mi: list[list[float]], entropy: list[float], names: list[str]) -> bytes:
    """I(z̃_j; v_k) / H(v_k) as a heat map, latent dims down, factors across: which factor each
    dimension captures (a disentangled code has one bright cell per row and column)."""
    m = np.asarray(mi, dtype=float)
    h = np.asarray(entropy, dtype=float)
    share = np.divide(m, h, out=np.zeros_like(m), where=h > 0)
    fig = Figure(figsize=(2 + 0.9 * m.shape[1], 1.2 + 0.3 * m.shape[0]))
    ax = fig.add_subplot()
    image = ax.imshow(share, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for (j, k), value in np.ndenumerate(share):
        ax.text(k, j, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="black" if value > 0.5 else "white")  # fmt: skip
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_yticks(range(m.shape[0]), [f"z{j}" for j in range(m.shape[0])], fontsize=7)
    ax.set_xlabel("generative factor k")
    ax.set_ylabel("latent dimension j")
    fig.colorbar(image, ax=ax, label="I(z_j; v_k) / H(v_k)")
    fig.tight_layout()
    return to_png(fig)


def _label(key: str) -> str:
    return key.rpartition(".")[2]


def _float(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _safe(value, record):
    """A curve's value for one record, None where a field is missing (an empty CSV cell)."""
    try:
        return value(record)
    except TypeError:  # −None
        return None


def _point(row: SweepRow) -> tuple[float, float] | None:
    if not row.finished:
        return None
    r, d = _float(row.rate_nats), _float(row.distortion_nats)
    return None if r is None or d is None else (r, d)
