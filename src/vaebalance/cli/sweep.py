"""``vaebalance sweep`` and ``vaebalance report``: a grid of runs compared, and the pages."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from .app import app
from .options import run_options


@app.command()
@run_options
def sweep(
    grid: list[str] = typer.Option(
        None, "--grid", help="section.field=v1,v2,..., repeatable: the runs are the product"
    ),
    workers: int = typer.Option(None, help="runs at once (default: one per core)"),
    backend: str = typer.Option("local", help="local (worker processes) or ray"),
    address: str = typer.Option(
        None, help="with --backend ray: auto, or ray://HOST:PORT (default RAY_ADDRESS, else local)"
    ),
    out: Path = typer.Option(None, help="sweep directory (default sweeps/<time>-<data>-...)"),
    target_mse: float = typer.Option(None, help="recommend the least rate with MSE/elem ≤ this"),
    target_rate: float = typer.Option(None, help="recommend the least distortion, rate ≤ this"),
    min_active_units: int = typer.Option(None, help="recommend runs with ≥ this many active units"),
    no_report: bool = typer.Option(False, "--no-report", help="do not write report.html files"),
    quiet: bool = typer.Option(False, "--quiet", help="no line per run"),
    config_file: str | None = None,
    overrides: list[str] = (),
):
    """Train a grid of runs in parallel, compare them, and recommend one.

    Every option of `train` applies to every run; each --grid varies one config field.
    Repeating the command with the same --out skips finished runs and completes the rest.

    Examples:

      vaebalance sweep --grid balancer.beta=0.1,0.3,1,3,10 --data fashion-mnist --out sweeps/b

      vaebalance sweep --grid model.latent_dim=8,16,32 --grid train.seed=0,1,2 --epochs 20

      vaebalance sweep --balancer geco --grid balancer.target_mse=0.005,0.01,0.02 --target-mse 0.01
    """
    from ..config import build_config
    from ..report import try_write_report, write_plots
    from ..sweeps import Goal, parse_grid, recommend, run_sweep
    from .sweep_console import SweepConsole, summary

    goal = Goal(target_mse, target_rate, min_active_units)
    parsed = parse_grid(grid)
    base = build_config(config_file, overrides)
    console = SweepConsole(quiet)
    try:
        result = run_sweep(
            base,
            parsed,
            out,
            workers=workers,
            backend=backend,
            address=address,
            after_run=None if no_report else try_write_report,
            on_plan=console.plan,
            on_row=console.row,
        )
    except KeyboardInterrupt:
        print("interrupted; repeat the command with the same --out to resume", file=sys.stderr)
        raise SystemExit(130) from None
    choice = recommend(result.rows, goal)
    if no_report:
        write_plots(result, choice.run if choice else None)
        summary(result, choice)
    else:
        summary(result, choice, try_write_report(result.path, goal))
    if any(not row.finished for row in result.rows):
        raise SystemExit(1)


@app.command()
def report(
    path: Path = typer.Argument(..., help="a run or a sweep directory"),
    target_mse: float = typer.Option(None, help="sweeps: recommend for this MSE per element"),
    target_rate: float = typer.Option(None, help="sweeps: recommend within this rate (nats)"),
    min_active_units: int = typer.Option(None, help="sweeps: at least this many active units"),
):
    """Write a self-contained report.html for a run or a sweep (open it from disk).

    Examples:

      vaebalance report runs/DIR

      vaebalance report sweeps/DIR --target-mse 0.01
    """
    from ..report import write_report
    from ..sweeps import Goal, load_sweep, recommend
    from ..sweeps.results import SWEEP_JSON

    goal = Goal(target_mse, target_rate, min_active_units)
    written = write_report(path, goal)
    if (path / SWEEP_JSON).is_file():
        choice = recommend(load_sweep(path).rows, goal)
        if choice is not None:
            print(f"recommended: {choice.run} — {choice.reason}")
    print(f"report: {written}")
