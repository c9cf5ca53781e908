"""``vaebalance evaluate`` and ``vaebalance diagnose``: a trained run measured and judged."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .app import app, fail
from .progress import summary


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="a run directory"),
    iw_samples: int = typer.Option(1000, help="importance samples K for the IWAE NLL"),
    batch_size: int = typer.Option(None, help="examples per evaluation block"),
    precision: str = typer.Option("fp32", help="fp32, or bf16 (about 2.5× faster on this CPU)"),
    factors: Path = typer.Option(
        None, help="a .npy/.npz/.csv of integer generative factors, one row per example"
    ),
    factor_metrics: bool = typer.Option(
        None, help="MIG, DCI, SAP, ... (default: when the data has factors)", show_default=False
    ),
):
    """Recompute a run's test metrics (metrics.json), IWAE NLL included.

    Example:

      vaebalance evaluate runs/DIR --iw-samples 1000
    """
    from ..runs import evaluate_run

    metrics = evaluate_run(run_dir, iw_samples, batch_size, precision, factors, factor_metrics)
    summary(run_dir, metrics)


@app.command()
def diagnose(
    run_dir: Path = typer.Argument(..., help="a run directory"),
    as_json: bool = typer.Option(False, "--json", help="print the verdicts as JSON"),
):
    """Say in plain words where a run sits between reconstruction and latent structure.

    Example:

      vaebalance diagnose runs/DIR --json
    """
    from ..evaluation import diagnose as diagnose_metrics
    from ..evaluation import format_verdicts
    from ..runs import RunDir

    run = RunDir(run_dir).require()
    if not run.has_metrics():
        fail(f"{run_dir} has no metrics.json yet; run `vaebalance evaluate {run_dir}` first")
    verdicts = diagnose_metrics(run.metrics(), run.history(), run.config())
    if as_json:
        print(json.dumps([v.to_json() for v in verdicts], indent=2))
    else:
        print(format_verdicts(verdicts))
