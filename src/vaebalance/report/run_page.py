"""What a run's report shows: config, metrics with units, curves, pictures, the diagnosis."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..evaluation.diagnose import diagnose
from ..runs import HISTORY, MODEL, RunDir
from ..runs.pictures import (
    TRAVERSAL_VALUES,
    cached_png,
    file_digest,
    is_image_shape,
    read_cached,
    traversal_dims,
    write_cached,
)
from ..schema import Evaluation, RunMetrics
from .cells import config_rows, data_uri, number

# The charts and the model's pictures are read back from the run's pictures/ where they were
# drawn before from the same inputs (vaebalance.runs.pictures): a report of a finished run
# then imports neither matplotlib nor torch. Both are imported only where something is drawn.


def run_context(path: Path) -> dict:
    """The template's variables for the run in ``path``."""
    run = RunDir(path).require()
    config, info, history = run.config(), run.info(), run.history()
    metrics = run.metrics() if run.has_metrics() else None
    notes: dict[str, str] = {}
    if metrics is None:
        notes["metrics"] = "No metrics.json: the run has not finished (or was not evaluated)."
    kl = [float(v) for v in (metrics.kl_per_dim if metrics else None) or []]
    pictures = _pictures(path, info, config, kl, notes)
    factor_map = None
    if pictures:
        pictures["dim_factor"] = {}  # filled below where the factors are known
    if metrics is not None and metrics.factor_mi_nats and metrics.factor_entropy_nats:
        mi, entropy = metrics.factor_mi_nats, metrics.factor_entropy_nats
        names = metrics.factor_names or [f"factor_{k}" for k in range(len(entropy))]
        factor_map = data_uri(_chart(path, "factor_map", [mi, entropy, names]))
        if pictures:
            pictures["dim_factor"] = captured_factor(mi, entropy, names)
    return {
        "kind": "run",
        "title": f"vaebalance run {path.name}",
        "name": path.name,
        "path": str(path.resolve()),
        "status": str(info.get("status", "unknown")),
        "created": str(info.get("created", "")),
        "dataset": _dataset_text(info.get("dataset") or {}),
        "config": config_rows(config),
        "metrics": _metric_rows(metrics) if metrics else [],
        "metric_notes": list(metric_notes(metrics).values()) if metrics else [],
        "other_data": _other_data_table(metrics, run.other_metrics()),
        "verdicts": [v.to_json() for v in diagnose(metrics, history, config)] if metrics else [],
        "curves": data_uri(_chart(path, "curves", [file_digest(path, HISTORY)])) if history else None,
        "kl_bars": data_uri(_chart(path, "kl_bars", [kl, pictures.get("dims", [])])) if kl else None,
        "pictures": pictures,
        "factor_map": factor_map,
        "notes": notes,
    }


def _metric_rows(metrics: RunMetrics) -> list[dict]:
    notes = list(metric_notes(metrics))
    return [
        {"label": c.label, "value": number(metrics[c.key]), "unit": c.unit, "key": c.key,
         "mark": _MARKS[notes.index(c.key)] if c.key in notes else ""}
        for c in map(RunMetrics.column, RunMetrics.REPORTED)
        if metrics[c.key] is not None
    ]  # fmt: skip


_MARKS = "¹²³⁴⁵⁶⁷⁸⁹"
# An I(x; z) estimate this close to its ceiling log N says only that the codes tell the N
# examples apart; the true value may be far larger.
SATURATED = 0.95


def metric_notes(m: RunMetrics) -> dict[str, str]:
    """What a reader must know to read a number right, keyed by the number's field."""
    notes = {}
    if m.discretization_bits:
        notes[RunMetrics.key.bits_per_dim] = (
            f"Includes {m.discretization_bits} bits/dim for {m.discretization_bits}-bit data "
            "under a continuous density (the bin width, Theis et al. 2016), so it compares with "
            "discrete models; the nats/example do not include it."
        )
    if m.neg_elbo_nats is not None and m.neg_elbo_nats < 0:
        notes[RunMetrics.key.neg_elbo_nats] = (
            "Negative: a density of continuous data can exceed 1, so −log p(x) can be below 0. "
            "Compare runs on the same data; the sign carries no meaning."
        )
    bound = m.mutual_info_bound_nats
    if m.mutual_info_nats is not None and bound and m.mutual_info_nats >= SATURATED * bound:
        notes[RunMetrics.key.mutual_info_nats] = (
            f"At the ceiling of its estimate, log N = {bound:.3g} nats for the N test examples: "
            "the codes tell the examples apart, and the true I(x; z) may be larger. Evaluate on "
            "more examples to measure it."
        )
    return notes


def _other_data_table(metrics: RunMetrics | None, others: list) -> dict | None:
    """Headers and rows: one row per compared metric, one column per dataset (the run's own
    test split first); None when the run was evaluated on no other data."""
    if not others:
        return None
    columns = [("test split", metrics)] + [(name, m) for name, m in others]
    rows = []
    for column in map(Evaluation.column, Evaluation.COMPARED):
        values = [number(m[column.key]) if m is not None else "—" for _, m in columns]
        rows.append({"label": column.label, "unit": column.unit, "values": values})
    return {"headers": [name for name, _ in columns], "rows": rows}


def _dataset_text(d: dict) -> str:
    shape = "×".join(str(s) for s in d.get("shape", []))
    text = (
        f"{d.get('name', '?')}: examples of shape {shape}, "
        f"{d.get('train_examples', '?')} train / "
        + (f"{d['val_examples']} validation / " if d.get("val_examples") else "")
        + f"{d.get('test_examples', '?')} test"
    )
    if d.get("standardized"):
        text += (
            f"; standardized per element by the training split's mean and std (the model's "
            f"likelihoods are reported in the data's units: Σ log s_d = "
            f"{number(d.get('log_det_nats'))} nats added)"
        )
    return text


def _chart(path: Path, name: str, inputs: list) -> bytes:
    """The chart ``name`` of the run (:mod:`.plots`, drawn from ``inputs``), kept in the run's
    pictures/ and read back while its inputs are the same."""

    def draw() -> bytes:
        from . import plots

        if name == "curves":
            return plots.training_curves(RunDir(path).history())
        if name == "kl_bars":
            return plots.kl_bars(*inputs)
        return plots.factor_heatmap(*inputs)

    return cached_png(path, name, inputs, draw)


def captured_factor(mi, entropy, names, floor: float = 0.05) -> dict[int, str]:
    """For each latent dim, the factor it shares the largest share of information with
    (``"pos_x (0.62)"``), where that share is at least ``floor``."""
    out = {}
    for j, row in enumerate(mi):
        shares = [m / h if h > 0 else 0.0 for m, h in zip(row, entropy)]
        k = max(range(len(shares)), key=shares.__getitem__)  # the first of equal shares
        if shares[k] >= floor:
            out[j] = f"{names[k]} ({shares[k]:.2f})"
    return out


def _pictures(path: Path, info: dict, config: dict, kl: list[float], notes: dict) -> dict:
    """Reconstructions, prior samples and traversals as data URIs, or notes saying why not:
    read back where they were drawn from the run as it is now, else drawn from the model."""
    shape = (info.get("dataset") or {}).get("shape") or []
    if not is_image_shape(shape):
        notes["pictures"] = (
            f"The examples are not images (shape ({', '.join(map(str, shape))})), so there are "
            "no reconstructions, samples or traversals to show."
        )
        return {}
    if not (path / MODEL).is_file():
        notes["pictures"] = f"No {MODEL} yet: the pictures appear once training has finished."
        return {}
    latent_dim = (config.get("model") or {}).get("latent_dim") or 0
    dims = traversal_dims(kl, latent_dim)
    drawn = read_cached(path, dims)
    if drawn is None:
        drawn = _draw(path, dims, notes)
        if drawn is None:
            return {}
    out = {
        "samples": data_uri(drawn.samples),
        "traversals": data_uri(drawn.traversals),
        "dims": dims,
        "dim_kl": [(j, kl[j] if kl else None) for j in dims],
        "values": [f"{v:g}" for v in TRAVERSAL_VALUES],
        "base": drawn.base,
    }
    if drawn.reconstructions is not None:
        out["reconstructions"] = data_uri(drawn.reconstructions)
    return out


def _draw(path: Path, dims: list[int], notes: dict):
    """The model's pictures drawn from its weights (torch), kept for the next report."""
    from ..runs import load_run
    from ..runs.pictures import draw, shown_examples

    try:
        run = load_run(path)
    except UserError as e:
        notes["pictures"] = f"The model cannot be loaded, so there are no pictures: {e}"
        return None
    try:
        x = shown_examples(run.dataset())
    except (UserError, OSError) as e:
        notes["reconstructions"] = (
            f"Reconstructions are skipped because the run's data cannot be loaded: {e}. "
            "The traversals start from z = 0 instead."
        )
        x = None
    drawn = draw(run, x, dims)
    write_cached(path, dims, drawn)
    return drawn
