"""The ``vaebalance`` command line: parse, build a config, call the library, show the result.

    vaebalance train                                   # digits, σ-VAE (β = 1), < 1 minute
    vaebalance train --data fashion-mnist --balancer geco --set balancer.target_mse=0.01
    vaebalance evaluate runs/DIR --iw-samples 1000
    vaebalance diagnose runs/DIR
    vaebalance sweep --grid balancer.beta=0.1,0.3,1,3,10 --data fashion-mnist --out sweeps/beta
    vaebalance tune --data fashion-mnist --target-mse 0.01 --epochs 5 --out sweeps/t01
    vaebalance report runs/DIR                         # or a sweep directory
    vaebalance study dims --quick                      # every KL convention vs K and J
    vaebalance explain --recon mse --recon-reduction mean --kl-reduction mean \\
        --kl-weight 0.1 --input-dim 784 --latent-dim 32

Every user error prints one line on stderr and exits with code 2. Each command lives in its own
module and registers itself on :data:`.app.app`; the library is imported inside the commands,
so ``--help`` and ``explain`` start without loading what they do not use.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys

import typer

from ..errors import UserError
from . import explain, measure, study, sweep, train, tune  # noqa: F401  (each registers its commands)
from .app import app, fail, in_cli_terms

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user error is one line on stderr and exit code 2."""
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    command = typer.main.get_command(app)
    if not (sys.argv[1:] if argv is None else argv):  # bare `vaebalance`: the help, no error
        with command.make_context("vaebalance", ["--help"], resilient_parsing=True) as ctx:
            print(command.get_help(ctx))
        return
    try:
        code = command.main(args=argv, prog_name="vaebalance", standalone_mode=False)
    except UserError as e:
        fail(in_cli_terms(e))
    except typer.Abort:
        fail("aborted")
    except typer.TyperException as e:  # usage errors: unknown option, bad value, ...
        fail(e.format_message().replace("\n", " "))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    if isinstance(code, int) and code != 0:
        # typer turns a KeyboardInterrupt it catches into exit code 130 and returns it
        if code == 130:
            print("interrupted", file=sys.stderr)
        raise SystemExit(code)
    if argv is None and _command(sys.argv[1:]) in QUICK_EXIT:
        _exit_now()


# Commands that start no thread or process and write their files atomically (closed and
# fsynced before they return): once they have returned and the exit handlers have run, what
# the interpreter's teardown does (freeing every module and object one by one) changes
# nothing and costs time, 0.1–0.6 s after torch or typer on a loaded machine (BENCHMARKS.md).
QUICK_EXIT = ("diagnose", "report", "explain")


def _command(args: list[str]) -> str | None:
    """The command a command line names (its first word that is not an option)."""
    return next((a for a in args if not a.startswith("-")), None)


def _exit_now() -> None:
    """End the process with exit code 0 as a normal exit would, but without the teardown: the
    exit handlers run (logging's among them), standard output and error are flushed (a closed
    pipe gives 120, as the interpreter's own exit does)."""
    atexit._run_exitfuncs()
    code = 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = 120
    os._exit(code)
