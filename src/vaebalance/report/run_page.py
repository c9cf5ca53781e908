"""What a run's report shows: config, metrics with units, curves, pictures, the diagnosis."""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import UserError
from ..evaluation.diagnose import diagnose
from ..runs import MODEL, RunDir, load_run
from ..schema import Evaluation, RunMetrics
from .cells import config_rows, data_uri, number
from .pictures import (
    TRAVERSAL_DIMS,
    TRAVERSAL_VALUES,
    is_image_shape,
    reconstruction_png,
    samples_png,
    top_dims,
    traversal_png,
)
from .plots import kl_bars, training_curves

RECONSTRUCTED = 12  # test examples shown with their reconstructions


def run_context(path: Path) -> dict:
    """The template's variables for the run in ``path``."""
    run = RunDir(path).require()
    config, info, history = run.config(), run.info(), run.history()
    metrics = run.metrics() if run.has_metrics() else None
    notes: dict[str, str] = {}
    if metrics is None:
        notes["metrics"] = "No metrics.json: the run has not finished (or was not evaluated)."
    kl = [float(v) for v in (metrics.kl_per_dim if metrics else None) or []]
    pictures = _pictures(path, info, kl, notes)
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
        "other_data": _other_data_table(metrics, run.other_metrics()),
        "verdicts": [v.to_json() for v in diagnose(metrics, history, config)] if metrics else [],
        "curves": data_uri(training_curves(history)) if history else None,
        "kl_bars": data_uri(kl_bars(kl, pictures.get("dims", []))) if kl else None,
        "pictures": pictures,
        "notes": notes,
    }


def _metric_rows(metrics: RunMetrics) -> list[dict]:
    return [
        {"label": c.label, "value": number(metrics[c.key]), "unit": c.unit, "key": c.key}
        for c in map(RunMetrics.column, RunMetrics.REPORTED)
        if metrics[c.key] is not None
    ]


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
        f"{d.get('train_examples', '?')} train / {d.get('test_examples', '?')} test"
    )
    if d.get("standardized"):
        text += (
            f"; standardized per element by the training split's mean and std (the model's "
            f"likelihoods are reported in the data's units: Σ log s_d = "
            f"{number(d.get('log_det_nats'))} nats added)"
        )
    return text


def _pictures(path: Path, info: dict, kl: list[float], notes: dict) -> dict:
    """Reconstructions, prior samples and traversals as data URIs, or notes saying why not."""
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
    try:
        run = load_run(path)
    except UserError as e:
        notes["pictures"] = f"The model cannot be loaded, so there are no pictures: {e}"
        return {}
    model, likelihood = run.model, run.loss_fn.likelihood
    invert = run.standardization.invert if run.standardization is not None else None
    x = _test_examples(run, notes)
    dims = top_dims(kl) if kl else list(range(min(TRAVERSAL_DIMS, model.latent_dim)))
    with torch.no_grad():
        base = model.encode(x[:1])[0][0] if x is not None else torch.zeros(model.latent_dim)
    out = {
        "samples": data_uri(samples_png(model, likelihood, invert=invert)),
        "traversals": data_uri(traversal_png(model, likelihood, base, dims, invert)),
        "dims": dims,
        "dim_kl": [(j, kl[j] if kl else None) for j in dims],
        "values": [f"{v:g}" for v in TRAVERSAL_VALUES.tolist()],
        "base": "μ of the first test example" if x is not None else "z = 0",
    }
    if x is not None:
        out["reconstructions"] = data_uri(reconstruction_png(model, likelihood, x, invert))
    return out


def _test_examples(run, notes: dict):
    try:
        data = run.dataset()
    except (UserError, OSError) as e:
        notes["reconstructions"] = (
            f"Reconstructions are skipped because the run's data cannot be loaded: {e}. "
            "The traversals start from z = 0 instead."
        )
        return None
    return data.to_float(data.test[:RECONSTRUCTED])
