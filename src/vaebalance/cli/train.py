"""``vaebalance train``: a new run, or a stopped run resumed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from .app import app, fail
from .options import run_options
from .progress import Progress, summary


@app.command()
@run_options
def train(
    out: Path = typer.Option(None, help="run directory (default runs/<time>-<data>-...)"),
    resume: Path = typer.Option(None, help="continue the stopped run in this directory"),
    from_run: Path = typer.Option(
        None, "--from", help="start a new run from this run's config, changed by the options given"
    ),
    print_config: bool = typer.Option(
        False, "--print-config", help="print the resolved config and exit"
    ),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
    no_report: bool = typer.Option(False, "--no-report", help="do not write report.html"),
    config_file: str | None = None,
    overrides: list[str] = (),
):
    """Train a VAE and write a run directory.

    Examples:

      vaebalance train

      vaebalance train --data fashion-mnist --likelihood bernoulli --epochs 10

      vaebalance train --balancer geco --set balancer.target_mse=0.01

      vaebalance train --resume runs/20261125-101500-digits-gaussian-learned-constant

      vaebalance train --from runs/OLD --set balancer.name=geco --set balancer.target_mse=0.03
    """
    from ..config import build_config
    from ..runs import RunInterrupted

    progress = Progress(quiet)
    try:
        if resume is not None:
            if from_run is not None:
                fail("--resume continues a run, --from starts a new one: give one of them")
            path, metrics = _resume(resume, config_file, out, overrides, progress)
        else:
            cfg = (
                _from(from_run, config_file, overrides)
                if from_run
                else build_config(config_file, overrides)
            )
            if print_config:
                print(json.dumps(_with_defaults(cfg.to_dict()), indent=2))
                return
            from ..runs import train as train_run

            path, metrics = train_run(cfg, out, progress.hooks())
    except RunInterrupted as e:
        progress.close()
        print(f"interrupted; resume with `vaebalance train --resume {e.path}`", file=sys.stderr)
        raise SystemExit(130) from None
    progress.close()
    if metrics is None:  # another process of a torchrun job: process 0 reports
        return
    summary(path, metrics)
    if not no_report:
        from ..report import try_write_report

        if (report_path := try_write_report(path)) is not None:
            print(f"report: {report_path}")


def _with_defaults(config: dict) -> dict:
    """The config with every parameter of its likelihood and balancer, defaults included."""
    from ..config import COMPONENTS, component_params

    out = dict(config)
    for section in COMPONENTS:
        params = dict(config[section])
        name = params.pop("name")
        out[section] = {"name": name, **component_params(section, name), **params}
    return out


def _from(run_dir: Path, config_file, overrides: list[str]):
    """The config of the run in ``run_dir`` with ``overrides`` applied (``--from``)."""
    from ..config import RunConfig, derive
    from ..runs import RunDir

    if config_file:
        fail("--from takes its config from the run; drop --config")
    return derive(RunConfig.from_dict(RunDir(run_dir).require().config()), overrides)


def _resume(path: Path, config_file, out, overrides: list[str], progress):
    from ..config import RunConfig
    from ..runs import resume as resume_run

    if config_file or out:
        fail("--resume continues a run with its own config; drop --config and --out")
    changes = {}
    for item in overrides:
        key, _, value = item.partition("=")
        probe = RunConfig().with_value(key, value)  # checks the key and parses the value
        section, _, field = key.partition(".")
        changes[key] = getattr(getattr(probe, section), field)
    return resume_run(path, changes, progress.hooks())
