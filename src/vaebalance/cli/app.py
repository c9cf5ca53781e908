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
    help="Train VAEs with a KL weight set by principle, and measure the balance.",
)


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
