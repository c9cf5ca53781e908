"""The report of ``vaebalance study dims``: ``versus_K.png``, ``versus_J.png``, one picture per
(K, J) cell comparing the conventions, ``study.md`` (the numbers as Markdown tables) and
``report.html`` with the table of ``study.csv``.

Each cell's picture has one row per convention (in ``study.csv``'s order) after a first row of
the test images themselves: 8 reconstructions of the same test images (decoder mean at z = μ),
then 8 prior samples (decoder means at the same z ~ N(0, I)). A convention that failed or whose
run is gone is a blank row.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import UserError
from ..models.imaging import prior_samples, reconstructions
from ..models.pictures import grid_png
from ..runs import load_run
from ..schema import StudyRow
from ..storage import atomic_write, read_json
from ..sweeps.study import STUDY_JSON, read_study
from .cells import data_uri, number
from .html import render_template
from .study_plots import versus_size
from .study_tables import markdown_tables

VERSUS_K, VERSUS_J, PICTURES, STUDY_MD = "versus_K.png", "versus_J.png", "pictures", "study.md"
EXAMPLES = 8
COLUMNS = tuple(k for k in StudyRow.keys_() if k not in ("run", "error"))


def write_study_report(path: str | Path) -> Path:
    """Write the plots, the cell pictures and ``report.html`` of the study in ``path``."""
    path = Path(path)
    rows = read_study(path)
    plan = read_json(path / STUDY_JSON) if (path / STUDY_JSON).is_file() else {}
    plots = {VERSUS_K: versus_size(rows, StudyRow.key.input_dim),
             VERSUS_J: versus_size(rows, StudyRow.key.latent_dim)}  # fmt: skip
    for name, png in plots.items():
        atomic_write(path / name, png)
    pictures = cell_pictures(path, rows)
    columns = [c for c in COLUMNS if any(r.get(c) not in (None, "") for r in rows)]
    context = {
        "title": f"vaebalance study dims: {plan.get('data', path.name)}",
        "plan": plan,
        "plots": {name: data_uri(png) for name, png in plots.items()},
        "columns": [(c, _unit(c)) for c in columns],
        "rows": [[_cell(r.get(c)) for c in columns] for r in rows],
        "conventions": list(dict.fromkeys(r.convention for r in rows)),
        "pictures": [(title, data_uri(png)) for title, png in pictures],
    }
    title = f"vaebalance study dims --data {plan.get('data', '?')}"
    atomic_write(path / STUDY_MD, markdown_tables(rows, title).encode())
    out = path / "report.html"
    atomic_write(out, render_template("study.html", context).encode())
    return out


def cell_pictures(path: Path, rows: list[StudyRow]) -> list[tuple[str, bytes]]:
    """One PNG per (K, J) cell, written to ``pictures/``; returns (title, PNG) pairs."""
    (path / PICTURES).mkdir(exist_ok=True)
    cells = list(dict.fromkeys((r.image_side, r.latent_dim) for r in rows))
    shown, examples = [], {}
    for side, latent in cells:
        members = [r for r in rows if (r.image_side, r.latent_dim) == (side, latent)]
        png = _cell_png(path, members, examples)
        if png is None:
            continue
        name = f"cell_{side}x{side}_J{latent}.png"
        atomic_write(path / PICTURES / name, png)
        shown.append((f"{side}×{side} (K = {members[0].input_dim}), J = {latent}", png))
    return shown


def _cell_png(path: Path, members: list[StudyRow], examples: dict) -> bytes | None:
    rows, shape = [], None
    for row in members:
        images = _pictures_of(path, row, examples) if row.status == "finished" else None
        rows.append(images)
        shape = shape or (images.shape[1:] if images is not None else None)
    if shape is None:
        return None
    x = examples[members[0].image_side]
    blank = torch.ones(EXAMPLES, *shape)
    first = torch.cat([x, blank])
    grid = [first, *(r if r is not None else torch.cat([blank, blank]) for r in rows)]
    return grid_png(torch.cat(grid), nrow=2 * EXAMPLES)


def _pictures_of(path: Path, row: StudyRow, examples: dict) -> torch.Tensor | None:
    """8 reconstructions then 8 prior samples of one cell's model, in [0, 1]."""
    try:
        run = load_run(path / str(row.run))
        if row.image_side not in examples:  # cells of one size share their data
            data = run.dataset()
            examples[row.image_side] = data.to_float(data.test[:EXAMPLES])
    except UserError:
        return None
    x = examples[row.image_side]
    likelihood = run.loss_fn.likelihood
    with torch.no_grad():
        recon = reconstructions(run.model, likelihood, x)
        samples = prior_samples(run.model, likelihood, EXAMPLES)
    return torch.cat([recon, samples]).clamp(0, 1)


def _unit(key: str) -> str:
    return StudyRow.column(key).unit


def _cell(value) -> str:
    if value is None or value == "":
        return "—"
    return (
        number(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else str(value)
    )
