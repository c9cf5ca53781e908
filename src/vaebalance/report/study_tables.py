"""``study.md``: the study's numbers as Markdown tables, one per measure, a row per convention
and a column per (image side, J) cell, so a guide can quote them as the command wrote them."""

from __future__ import annotations

from ..schema import StudyRow

_K = StudyRow.key
MEASURES = (_K.effective_beta, _K.active_units, _K.mse_per_element, _K.mig, _K.rate_nats)


def markdown_tables(rows: list[StudyRow], title: str = "") -> str:
    """A table per measure that some cell has; "—" where a cell did not finish or has none."""
    cells = list(dict.fromkeys((r.image_side, r.latent_dim) for r in rows))
    conventions = list(dict.fromkeys(r.convention for r in rows))
    by_cell = {(r.convention, r.image_side, r.latent_dim): r for r in rows}
    parts = [f"# {title}\n"] if title else []
    for measure in MEASURES:
        if not any(r.get(measure) is not None for r in rows):
            continue
        column = StudyRow.column(measure)
        head = " | ".join(f"{s}² J={j}" for s, j in cells)
        lines = [
            f"## {column.label} [{column.unit}]\n",
            f"| convention | {head} |",
            "|---|" + "---:|" * len(cells),
        ]
        for convention in conventions:
            values = [_value(by_cell.get((convention, s, j)), measure) for s, j in cells]
            lines.append(f"| {convention} | " + " | ".join(values) + " |")
        parts.append("\n".join(lines) + "\n")
    failed = [r for r in rows if r.status != "finished"]
    if failed:
        parts.append("Cells that did not finish: " + "; ".join(
            f"{r.convention} {r.image_side}² J={r.latent_dim}: {r.status} {r.error or ''}".strip()
            for r in failed) + "\n")  # fmt: skip
    return "\n".join(parts)


def _value(row: StudyRow | None, measure: str) -> str:
    if row is None or row.status != "finished":
        return "—"
    value = row.get(measure)
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.3g}"
