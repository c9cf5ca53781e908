"""The ``vaebalance`` command line: parse, build a config, call the library, show the result.

    vaebalance train                                   # digits, σ-VAE (β = 1), < 1 minute
    vaebalance train --data fashion-mnist --balancer geco --set balancer.target_mse=0.01
    vaebalance evaluate runs/DIR --iw-samples 1000
    vaebalance diagnose runs/DIR
    vaebalance sweep --grid balancer.beta=0.1,0.3,1,3,10 --data fashion-mnist --out sweeps/beta
    vaebalance report runs/DIR                         # or a sweep directory
    vaebalance explain --recon mse --recon-reduction mean --kl-reduction mean \\
        --kl-weight 0.1 --input-dim 784 --latent-dim 32

Every user error prints one line on stderr and exits with code 2.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import typer

from .errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Train VAEs with a KL weight set by principle, and measure the balance.",
)


# The named options of train and sweep, and the config field each sets (the rest: --set).
NAMED_OPTIONS = {
    "data": "data.name",
    "data_dir": "data.data_dir",
    "likelihood": "likelihood.name",
    "balancer": "balancer.name",
    "model": "model.arch",
    "latent_dim": "model.latent_dim",
    "epochs": "train.epochs",
    "steps": "train.steps",
    "batch_size": "train.batch_size",
    "lr": "train.lr",
    "seed": "train.seed",
    "threads": "train.threads",
    "precision": "train.precision",
    "iw_samples": "eval.iw_samples",
}


def _overrides(options: dict, set_: list[str] | None) -> list[str]:
    """``section.field=value`` items for the named options given, then the ``--set`` ones."""
    items = []
    for name, key in NAMED_OPTIONS.items():
        value = options[name]
        if value is not None:
            # Strings go in as they are: JSON-quoting them would keep the quotes in str fields.
            items.append(f"{key}={value if isinstance(value, str) else json.dumps(value)}")
    return items + list(set_ or [])


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


@app.command()
def train(
    data: str = typer.Option(None, help="digits, fashion-mnist, mnist, cifar10, or a path"),
    data_dir: str = typer.Option(None, help="where a named dataset's files are"),
    likelihood: str = typer.Option(None, help="auto, bernoulli, gaussian-learned, ..."),
    balancer: str = typer.Option(None, help="constant, warmup, geco, control, ..."),
    model: str = typer.Option(None, help="mlp or conv"),
    latent_dim: int = typer.Option(None, help="J, the number of latent dimensions"),
    epochs: int = typer.Option(None),
    steps: int = typer.Option(None, help="train this many steps instead of epochs"),
    batch_size: int = typer.Option(None),
    lr: float = typer.Option(None),
    seed: int = typer.Option(None),
    threads: int = typer.Option(None, help="CPU threads (default: one per core)"),
    precision: str = typer.Option(None, help="fp32 or bf16"),
    iw_samples: int = typer.Option(None, help="importance samples for the final NLL"),
    out: Path = typer.Option(None, help="run directory (default runs/<time>-<data>-...)"),
    resume: Path = typer.Option(None, help="continue the stopped run in this directory"),
    config: Path = typer.Option(None, help="a JSON, YAML or TOML config file"),
    set_: list[str] = typer.Option(None, "--set", help="section.field=value, repeatable"),
    print_config: bool = typer.Option(False, help="print the resolved config and exit"),
    quiet: bool = typer.Option(False, help="no progress bar"),
    no_report: bool = typer.Option(False, "--no-report", help="do not write report.html"),
):
    """Train a VAE and write a run directory.

    Examples:

      vaebalance train

      vaebalance train --data fashion-mnist --likelihood bernoulli --epochs 10

      vaebalance train --balancer geco --set balancer.target_mse=0.01

      vaebalance train --resume runs/20261125-101500-digits-gaussian-learned-constant
    """
    from .config import RunConfig, build_config, set_value
    from .training import resume as resume_run
    from .training import train as train_run

    overrides = _overrides(locals(), set_)
    if resume is not None:
        if config or out:
            fail("--resume continues a run with its own config; drop --config and --out")
        changes = {}
        for item in overrides:
            key, _, value = item.partition("=")
            probe = RunConfig()
            set_value(probe, key, value)
            section, _, field = key.partition(".")
            changes[key] = getattr(getattr(probe, section), field)
        progress = _Progress(quiet)
        path, metrics = resume_run(resume, changes, progress.hooks())
    else:
        cfg = build_config(str(config) if config else None, overrides)
        if print_config:
            print(json.dumps(cfg.to_dict(), indent=2))
            return
        progress = _Progress(quiet)
        path, metrics = train_run(cfg, out, progress.hooks())
    progress.close()
    _summary(path, metrics)
    if not no_report:
        from .report.html import try_write_report

        if (report_path := try_write_report(path)) is not None:
            print(f"report: {report_path}")


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="a run directory"),
    iw_samples: int = typer.Option(1000, help="importance samples K for the IWAE NLL"),
    batch_size: int = typer.Option(None, help="examples per evaluation block"),
    precision: str = typer.Option("fp32", help="fp32, or bf16 (about 2.5× faster on this CPU)"),
):
    """Recompute a run's test metrics (metrics.json), IWAE NLL included.

    Example:

      vaebalance evaluate runs/DIR --iw-samples 1000
    """
    from .evaluation.run import evaluate_run

    metrics = evaluate_run(run_dir, iw_samples, batch_size, precision)
    _summary(run_dir, metrics)


@app.command()
def diagnose(
    run_dir: Path = typer.Argument(..., help="a run directory"),
    as_json: bool = typer.Option(False, "--json", help="print the verdicts as JSON"),
):
    """Say in plain words where a run sits between reconstruction and latent structure.

    Example:

      vaebalance diagnose runs/DIR --json
    """
    from .evaluation.diagnose import diagnose as diagnose_metrics
    from .evaluation.diagnose import format_verdicts
    from .runs import RunDir

    run = RunDir(run_dir).require()
    if not (run / "metrics.json").is_file():
        fail(f"{run_dir} has no metrics.json yet; run `vaebalance evaluate {run_dir}` first")
    verdicts = diagnose_metrics(run.metrics(), run.history(), run.config())
    if as_json:
        print(json.dumps([v.to_json() for v in verdicts], indent=2))
    else:
        print(format_verdicts(verdicts))


@app.command()
def explain(
    recon: str = typer.Option("mse", help="mse, sse or bce"),
    recon_reduction: str = typer.Option(None, help="sum or mean over input elements"),
    kl_reduction: str = typer.Option("sum", help="sum or mean over latent dims"),
    kl_weight: float = typer.Option(1.0, help="the weight w on the KL term"),
    input_dim: int = typer.Option(..., help="K, elements per example (784 for MNIST)"),
    latent_dim: int = typer.Option(..., help="J, latent dimensions"),
    recon_scale: float = typer.Option(1.0, help="constant factor on the reconstruction term"),
    as_json: bool = typer.Option(False, "--json", help="print beta, sigma, sigma_squared"),
):
    """Say what a loss written as `recon + w * KL` really optimizes.

    Example (the most asked question: MSE and KL averaged, weight 0.1):

      vaebalance explain --recon mse --recon-reduction mean --kl-reduction mean
      --kl-weight 0.1 --input-dim 784 --latent-dim 32
    """
    from .objective.explain import explain as explain_convention

    e = explain_convention(
        recon, recon_reduction, kl_reduction, kl_weight, input_dim, latent_dim, recon_scale
    )
    print(json.dumps(e.to_json(), indent=2) if as_json else e.text)


@app.command()
def sweep(
    grid: list[str] = typer.Option(
        None, "--grid", help="section.field=v1,v2,..., repeatable: the runs are the product"
    ),
    data: str = typer.Option(None, help="digits, fashion-mnist, mnist, cifar10, or a path"),
    data_dir: str = typer.Option(None, help="where a named dataset's files are"),
    likelihood: str = typer.Option(None, help="auto, bernoulli, gaussian-learned, ..."),
    balancer: str = typer.Option(None, help="constant, warmup, geco, control, ..."),
    model: str = typer.Option(None, help="mlp or conv"),
    latent_dim: int = typer.Option(None, help="J, the number of latent dimensions"),
    epochs: int = typer.Option(None),
    steps: int = typer.Option(None, help="train this many steps instead of epochs"),
    batch_size: int = typer.Option(None),
    lr: float = typer.Option(None),
    seed: int = typer.Option(None),
    threads: int = typer.Option(None, help="CPU threads per run (default: cores / workers)"),
    precision: str = typer.Option(None, help="fp32 or bf16"),
    iw_samples: int = typer.Option(None, help="importance samples for the final NLL"),
    workers: int = typer.Option(None, help="runs at once (default: one per core)"),
    backend: str = typer.Option("local", help="local (worker processes) or ray"),
    out: Path = typer.Option(None, help="sweep directory (default sweeps/<time>-<data>-...)"),
    config: Path = typer.Option(None, help="a JSON, YAML or TOML config file for every run"),
    set_: list[str] = typer.Option(None, "--set", help="section.field=value, repeatable"),
    target_mse: float = typer.Option(None, help="recommend the least rate with MSE/elem ≤ this"),
    target_rate: float = typer.Option(None, help="recommend the least distortion, rate ≤ this"),
    min_active_units: int = typer.Option(None, help="recommend runs with ≥ this many active units"),
    no_report: bool = typer.Option(False, "--no-report", help="do not write report.html files"),
    quiet: bool = typer.Option(False, help="no line per run"),
):
    """Train a grid of runs in parallel, compare them, and recommend one.

    Every option of `train` applies to every run; each --grid varies one config field.
    Repeating the command with the same --out skips finished runs and completes the rest.

    Examples:

      vaebalance sweep --grid balancer.beta=0.1,0.3,1,3,10 --data fashion-mnist --out sweeps/b

      vaebalance sweep --grid model.latent_dim=8,16,32 --grid train.seed=0,1,2 --epochs 20

      vaebalance sweep --balancer geco --grid balancer.target_mse=0.005,0.01,0.02 --target-mse 0.01
    """
    from .config import build_config
    from .report.html import try_write_report
    from .report.sweep_page import write_plots
    from .sweeps import Goal, parse_grid, recommend, run_sweep
    from .sweeps.console import SweepConsole, summary

    overrides = _overrides(locals(), set_)
    goal = Goal(target_mse, target_rate, min_active_units)
    parsed = parse_grid(grid)
    base = build_config(str(config) if config else None, overrides)
    console = SweepConsole(quiet)
    try:
        result = run_sweep(
            base,
            parsed,
            out,
            workers=workers,
            backend=backend,
            report=not no_report,
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
    if any(row["status"] != "finished" for row in result.rows):
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
    from .report import write_report
    from .sweeps import Goal, load_sweep, recommend
    from .sweeps.results import SWEEP_JSON

    goal = Goal(target_mse, target_rate, min_active_units)
    written = write_report(path, goal)
    if (path / SWEEP_JSON).is_file():
        choice = recommend(load_sweep(path).rows, goal)
        if choice is not None:
            print(f"recommended: {choice.run} — {choice.reason}")
    print(f"report: {written}")


class _Progress:
    """A rich progress bar fed by the trainer's hooks (host-side counts only)."""

    def __init__(self, quiet: bool):
        self.bar = None
        self.quiet = quiet

    def hooks(self):
        from .training import Hooks

        if self.quiet:
            return Hooks()
        return Hooks(on_start=self._start, on_samples=self._advance, on_epoch_end=self._epoch_end)

    def _start(self, done: int, total: int) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[speed]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[stats]}"),
        )
        self.task = self.bar.add_task(
            "train", total=total, completed=done, epoch="", speed="", stats=""
        )
        self.bar.start()

    def _advance(self, n: int) -> None:
        self.bar.advance(self.task, n)
        speed = self.bar.tasks[0].speed
        if speed:
            self.bar.update(self.task, speed=f"{speed:>6.0f} samples/s")

    def _epoch_end(self, rows: dict) -> None:
        t, v = rows["train"], rows["test"]
        stats = (
            f"rate {t['rate_nats']:.3g}  distortion {t['distortion_nats']:.4g}  "
            f"β {t['beta']:.3g}  test −ELBO {-v['elbo_nats']:.4g}"
        )
        if t.get("balancer_target_met") is False:
            stats += "  [yellow]target not met[/]"
        self.bar.update(self.task, epoch=t["epoch"], stats=stats)

    def close(self):
        if self.bar is not None:
            self.bar.stop()


def _summary(path, metrics: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="test metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("−ELBO (nats/example)", metrics.get("neg_elbo_nats")),
        ("rate (nats)", metrics.get("rate_nats")),
        ("distortion (nats)", metrics.get("distortion_nats")),
        ("bits/dim (−ELBO)", metrics.get("bits_per_dim")),
        ("IWAE NLL (nats)", metrics.get("nll_iw_nats")),
        ("MSE per element", metrics.get("mse_per_element")),
        ("PSNR (dB)", metrics.get("psnr_db")),
        ("active units", metrics.get("active_units")),
    ]
    for name, value in rows:
        if value is not None:
            table.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    if metrics.get("target_met") is False:
        table.add_row("balancer target", "[yellow]not met[/]")
    Console().print(table)
    print(f"outputs: {path}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user error is one line on stderr and exit code 2."""
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="vaebalance", standalone_mode=False)
    except UserError as e:
        fail(str(e))
    except typer.Abort:
        fail("aborted")
    except typer.TyperException as e:  # usage errors: unknown option, bad value, ...
        fail(e.format_message().replace("\n", " "))
    except KeyboardInterrupt:
        print("interrupted; resume with `vaebalance train --resume DIR`", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
