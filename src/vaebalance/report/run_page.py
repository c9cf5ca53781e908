"""What a run's report shows: config, metrics with units, curves, pictures, the diagnosis."""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import UserError
from ..evaluation.diagnose import diagnose
from ..runs import MODEL, RunDir, load_run
from ..schema import RunMetrics
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
from .plots import captured_factor, factor_heatmap, kl_bars, training_curves

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
    factor_map = None
    if pictures:
        pictures["dim_factor"] = {}  # filled below where the factors are known
    if metrics is not None and metrics.factor_mi_nats and metrics.factor_entropy_nats:
        mi, entropy = metrics.factor_mi_nats, metrics.factor_entropy_nats
        names = metrics.factor_names or [f"factor_{k}" for k in range(len(entropy))]
        factor_map = data_uri(factor_heatmap(mi, entropy, names))
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
        "verdicts": [v.to_json() for v in diagnose(metrics, history, config)] if metrics else [],
        "curves": data_uri(training_curves(history)) if history else None,
        "kl_bars": data_uri(kl_bars(kl, pictures.get("dims", []))) if kl else None,
        "pictures": pictures,
        "factor_map": factor_map,
        "notes": notes,
    }


def _metric_rows(metrics: RunMetrics) -> list[dict]:
    return [
        {"label": c.label, "value": number(metrics[c.key]), "unit": c.unit, "key": c.key}
        for c in map(RunMetrics.column, RunMetrics.REPORTED)
        if metrics[c.key] is not None
    ]


def _dataset_text(d: dict) -> str:
    shape = "×".join(str(s) for s in d.get("shape", []))
    return (
        f"{d.get('name', '?')}: examples of shape {shape}, "
        f"{d.get('train_examples', '?')} train / {d.get('test_examples', '?')} test"
    )


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
    x = _test_examples(run, notes)
    dims = top_dims(kl) if kl else list(range(min(TRAVERSAL_DIMS, model.latent_dim)))
    with torch.no_grad():
        base = model.encode(x[:1])[0][0] if x is not None else torch.zeros(model.latent_dim)
    out = {
        "samples": data_uri(samples_png(model, likelihood)),
        "traversals": data_uri(traversal_png(model, likelihood, base, dims)),
        "dims": dims,
        "dim_kl": [(j, kl[j] if kl else None) for j in dims],
        "values": [f"{v:g}" for v in TRAVERSAL_VALUES.tolist()],
        "base": "μ of the first test example" if x is not None else "z = 0",
    }
    if x is not None:
        out["reconstructions"] = data_uri(reconstruction_png(model, likelihood, x))
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
