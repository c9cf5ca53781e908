"""The typer application every command registers on, and how a user error leaves the CLI."""

from __future__ import annotations

import re
import sys

import typer

from ..errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: the rich layout tags every flag <bool> and clips long lists on narrow screens.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Train VAEs with a KL weight set by principle, and measure the balance.",
)


def _version(value: bool) -> None:
    if value:
        from .._version import __version__

        print(f"vaebalance {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Train VAEs with a KL weight set by principle, and measure the balance."""


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def flag(param: str) -> str:
    """The command-line spelling of a Python parameter name: ``target_mse`` → ``--target-mse``."""
    return "--" + param.replace("_", "-")


def in_cli_terms(error: UserError) -> str:
    """The error's sentence with the parameters it names spelled as this CLI's flags."""
    text = str(error)
    for param in error.params:
        text = re.sub(rf"(?<![\w.-]){re.escape(param)}(?![\w])", flag(param), text)
    return text
