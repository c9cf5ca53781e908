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
    data: str = typer.Option(
        None,
        help="evaluate on this other data instead (a name or a path, examples of the run's "
        "shape); writes metrics-<name>.json and leaves metrics.json as it is",
    ),
    data_dir: str = typer.Option(None, help="where a named --data source's files are"),
    factors: Path = typer.Option(
        None, help="a .npy/.npz/.csv of integer generative factors, one row per example"
    ),
    factor_metrics: bool = typer.Option(
        None, help="MIG, DCI, SAP, ... (default: when the data has factors)", show_default=False
    ),
):
    """Recompute a run's test metrics (metrics.json), IWAE NLL included, or measure the run's
    model on other data (--data) beside them.

    Examples:

      vaebalance evaluate runs/DIR --iw-samples 1000

      vaebalance evaluate runs/DIR --data heldout.npy
    """
    from ..runs import evaluate_other, evaluate_run
    from ..schema import RunMetrics

    if data is not None:
        written, evaluation = evaluate_other(run_dir, data, iw_samples, batch_size, precision,
                                             data_dir)  # fmt: skip
        summary(written, RunMetrics.from_json(evaluation.to_json()), title=f"metrics on {data}")
    else:
        metrics = evaluate_run(run_dir, iw_samples, batch_size, precision, factors, factor_metrics)
        summary(run_dir, metrics)
    _refresh_report(run_dir)


def _refresh_report(run_dir: Path) -> None:
    """A report written before this evaluation shows old numbers: write it again."""
    from ..report import try_write_report
    from ..runs import REPORT

    if (run_dir / REPORT).is_file() and (written := try_write_report(run_dir)) is not None:
        print(f"report: {written}")


@app.command()
def diagnose(
    run_dir: Path = typer.Argument(..., help="a run directory"),
    as_json: bool = typer.Option(False, "--json", help='print {"findings": [...]} as JSON'),
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
        print(json.dumps({"findings": [v.to_json() for v in verdicts]}, indent=2))
    else:
        print(format_verdicts(verdicts))
