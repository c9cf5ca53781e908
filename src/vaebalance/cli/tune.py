"""``vaebalance tune``: state the MSE, PSNR or rate you want; a few runs find the β for it."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from .app import app
from .options import run_options

TUNE_PNG = "frontier.png"


@app.command()
@run_options
def tune(
    target_mse: float = typer.Option(None, help="reach this test MSE per element (data units²)"),
    target_psnr: float = typer.Option(None, help="reach this test PSNR (dB, data in [0, 1])"),
    target_rate: float = typer.Option(None, help="reach this test rate (nats/example)"),
    min_active_units: int = typer.Option(
        None, help="report whether the chosen run keeps at least this many active units"
    ),
    tolerance: float = typer.Option(0.05, help="relative distance that counts as reached"),
    max_runs: int = typer.Option(6, help="stop after this many runs, reached or not"),
    backend: str = typer.Option("local", help="local or ray: where each run trains"),
    out: Path = typer.Option(None, help="tune directory (default sweeps/<time>-<data>-tune)"),
    no_report: bool = typer.Option(False, "--no-report", help="no report.html per run"),
    quiet: bool = typer.Option(False, "--quiet", help="no line per run"),
    config_file: str | None = None,
    overrides: list[str] = (),
):
    """Find the KL weight β that reaches a stated goal, in a few runs.

    The first β is the σ-VAE's balance for the goal (β·σ² = the target MSE under a Gaussian
    decoder with fixed σ; `auto` becomes `gaussian`, σ = 1); each next one is a secant step
    in log β, kept inside the bracket once two runs straddle the target. Every option of
    `train` applies to every run. Repeating the command with the same --out resumes it.

    Examples:

      vaebalance tune --data fashion-mnist --target-mse 0.01 --epochs 5

      vaebalance tune --target-rate 20 --min-active-units 8 --epochs 20

      vaebalance tune --target-psnr 22 --tolerance 0.02 --max-runs 8 --out sweeps/t22
    """
    from ..config import build_config
    from ..report import try_write_report
    from ..sweeps.tuning import default_tune_dir, run_tune
    from .tune_console import TuneConsole

    target = _target(target_mse, target_psnr, target_rate)
    base = build_config(config_file, overrides)
    out = out or default_tune_dir(base)
    console = TuneConsole(target, tolerance, quiet)
    try:
        result = run_tune(
            base,
            target,
            out,
            tolerance=tolerance,
            max_runs=max_runs,
            min_active_units=min_active_units,
            backend=backend,
            after_run=None if no_report else try_write_report,
            on_start=lambda path: console.start(path, max_runs),
            on_row=console.row,
        )
    except KeyboardInterrupt:
        print(f"interrupted; repeat the command with --out {out} to resume", file=sys.stderr)
        raise SystemExit(130) from None
    _plot(result, base.data.name)
    console.report(result, out / TUNE_PNG)
    if result.stopped == "failed":
        raise SystemExit(1)


def _target(mse: float | None, psnr: float | None, rate: float | None):
    from ..errors import UserError
    from ..schema import TuneRow
    from ..sweeps.tune import Target

    given = {
        key: value for key, value in zip(TuneRow.GOALS, (mse, psnr, rate)) if value is not None
    }
    if len(given) != 1:
        raise UserError("give exactly one goal: --target-mse, --target-psnr or --target-rate")
    ((key, value),) = given.items()
    return Target(key, value)


def _plot(result, data: str) -> None:
    from ..report.tune_plot import tune_frontier
    from ..storage import atomic_write

    chosen = result.chosen.run if result.chosen else None
    png = tune_frontier(
        result.rows, result.target.key, result.target.value, result.tolerance, chosen, data
    )
    atomic_write(result.path / TUNE_PNG, png)
