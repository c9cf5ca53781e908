"""``vaebalance study dims``: how each KL-weighting convention balances as K and J change."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from .app import app

study_app = typer.Typer(
    no_args_is_help=True,
    help="Studies: the same question asked of every convention, with one command.",
)
app.add_typer(study_app, name="study")


@study_app.command()
def dims(
    data: str = typer.Option(
        "fashion-mnist", help="fashion-mnist (K = 14², 28², 56²), sprites (32², 64²; MIG) or digits"
    ),
    quick: bool = typer.Option(False, "--quick", help="digits at K = 4², 8² and J = 2, 8: minutes"),
    out: Path = typer.Option(None, help="study directory (default studies/<time>-dims-<data>)"),
    workers: int = typer.Option(None, help="cells at once (default: one per core)"),
    quiet: bool = typer.Option(False, "--quiet", help="no line per cell"),
):
    """Train every convention (normalized, mean-sum, elbo-unit-sigma, sigma-vae, geco,
    controlvae, continuous-bernoulli) at several input sizes K and latent sizes J; write
    study.csv, versus_K.png, versus_J.png, pictures/ and report.html.

    Repeating the command with the same --out skips finished cells and completes the rest.
    docs/guide.md explains the conventions and what the studies found.

    Examples:

      vaebalance study dims --quick --out studies/quick

      vaebalance study dims --data sprites --out studies/sprites --workers 2
    """
    from ..report.study_page import write_study_report
    from ..sweeps.study import STUDY_CSV, run_study, study_plan
    from .sweep_console import SweepConsole

    plan = study_plan(data, quick)
    console = SweepConsole(quiet)
    try:
        rows = run_study(plan, out, workers=workers, on_plan=console.plan, on_row=console.row)
    except KeyboardInterrupt:
        print("interrupted; repeat the command with the same --out to resume", file=sys.stderr)
        raise SystemExit(130) from None
    path = Path(console.path) if console.path else Path(out)
    report = write_study_report(path)
    _summary(rows)
    print(f"results: {path / STUDY_CSV}")
    print(f"report: {report}")
    if any(row.status != "finished" for row in rows):
        raise SystemExit(1)


def _summary(rows) -> None:
    """One line per cell: the convention, K, J, effective β and the balance it reached."""
    for r in rows:
        beta = "—" if r.effective_beta is None else f"{r.effective_beta:.4g}"
        if r.status != "finished":
            print(
                f"{r.convention:<21} K={r.input_dim:<5} J={r.latent_dim:<3} {r.status}: {r.error}"
            )
            continue
        print(
            f"{r.convention:<21} K={r.input_dim:<5} J={r.latent_dim:<3} β={beta:<9} "
            f"MSE/elem {r.mse_per_element:.4g}  active units {r.active_units}"
            + (f"  MIG {r.mig:.3f}" if r.mig is not None else "")
        )
