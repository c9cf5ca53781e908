"""A sweep's runs side by side: the same test images reconstructed by each, and samples.

Numbers say where a run sits; pictures show what that means. Every run reconstructs the same
test examples (from the first run's data; runs of one sweep share their data unless the grid
varies it) and draws samples from the same prior noise.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..models.pictures import reconstruction_png, samples_png
from ..runs import MODEL, RunDir, load_run
from ..runs.pictures import is_image_shape
from ..schema import SweepRow
from .cells import data_uri

SHOWN_RUNS = 16  # more rows than this stop being a comparison
EXAMPLES = 8


def side_by_side(path: Path, rows: list[SweepRow]) -> tuple[list[dict], str]:
    """One entry per finished run with pictures (run, reconstructions, samples), and a note
    saying what was left out and why ("" when nothing was)."""
    finished = [r for r in rows if r.finished and (path / str(r.run) / MODEL).is_file()]
    if not finished:
        return [], ""
    shape = (RunDir(path / str(finished[0].run)).info().get("dataset") or {}).get("shape")
    if not is_image_shape(shape or []):
        return [], "The examples are not images: no pictures to compare."
    pictures, x = [], None
    for row in finished[:SHOWN_RUNS]:
        try:
            run = load_run(path / str(row.run))
            if x is None:
                data = run.dataset()
                x = data.to_float(data.test[:EXAMPLES])
        except UserError as e:
            return pictures, f"Pictures stop at run {row.run}: {e}"
        model, likelihood = run.model, run.loss_fn.likelihood
        pictures.append({
            "run": row.run,
            "reconstructions": data_uri(reconstruction_png(model, likelihood, x)),
            "samples": data_uri(samples_png(model, likelihood, EXAMPLES)),
        })  # fmt: skip
    left = len(finished) - len(pictures)
    return pictures, f"The first {SHOWN_RUNS} of {len(finished)} runs are shown." if left else ""
