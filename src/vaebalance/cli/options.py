"""The options ``train`` and ``sweep`` share, declared once, each the config field it sets.

:func:`run_options` adds them to a command's signature (typer reads ``__signature__``) and hands
the command ``config_file`` and ``overrides`` instead: the ``section.field=value`` items of the
named options given, then the ``--set`` ones, in the order :func:`~vaebalance.config.build_config`
applies them. Each option's help shows the config default, so ``--help`` tells what a run does
when the option is left out.
"""

from __future__ import annotations

import functools
import inspect
import json
from dataclasses import dataclass
from pathlib import Path

import typer

from . import names


@dataclass(frozen=True)
class RunOption:
    key: str  # the config field it sets
    type: type
    help: str
    default: object = None  # the config's default, shown in the help


RUN_OPTIONS: dict[str, RunOption] = {
    "data": RunOption("data.name", str, f"{', '.join(names.DATASETS)}, or a path", "digits"),
    "data_dir": RunOption("data.data_dir", str, "where a named dataset's files are"),
    "factors": RunOption(
        "data.factors", str, "a .npy/.npz/.csv of integer generative factors, one row per example"
    ),
    "likelihood": RunOption("likelihood.name", str, ", ".join(names.LIKELIHOODS), "auto"),
    "balancer": RunOption(
        "balancer.name", str, f"{', '.join(names.BALANCERS)}; chain them as warmup+geco",
        "constant",
    ),
    "model": RunOption("model.arch", str, ", ".join(names.ARCHITECTURES), "mlp"),
    "latent_dim": RunOption("model.latent_dim", int, "J, the number of latent dimensions", 16),
    "epochs": RunOption("train.epochs", int, "passes over the training split", 100),
    "steps": RunOption("train.steps", int, "train this many optimizer steps instead of epochs"),
    "batch_size": RunOption("train.batch_size", int, "examples per optimizer step", 64),
    "lr": RunOption("train.lr", float, "Adam's learning rate", 1e-3),
    "seed": RunOption("train.seed", int, "seeds the split, the weights and the batches", 0),
    "threads": RunOption("train.threads", int, "CPU threads (default: one per core)"),
    "precision": RunOption("train.precision", str, "fp32 or bf16", "fp32"),
    "iw_samples": RunOption("eval.iw_samples", int, "importance samples for the final NLL", 100),
}  # fmt: skip


def _help(option: RunOption) -> str:
    if option.default is None:
        return option.help
    return f"{option.help} (default: {option.default})"


def _parameters() -> list[inspect.Parameter]:
    params = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, help=_help(option), show_default=False),
            annotation=option.type | None,
        )
        for name, option in RUN_OPTIONS.items()
    ]
    params.append(
        inspect.Parameter(
            "config",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, help="a JSON, YAML or TOML config file", show_default=False),
            annotation=Path | None,
        )
    )
    params.append(
        inspect.Parameter(
            "set_",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(
                None, "--set", help="section.field=value, repeatable", show_default=False
            ),
            annotation=list[str] | None,
        )
    )
    return params


def overrides(values: dict, sets: list[str] | None) -> list[str]:
    """``section.field=value`` items for the named options given, then the ``--set`` ones."""
    items = []
    for name, option in RUN_OPTIONS.items():
        value = values.get(name)
        if value is not None:
            # Strings go in as they are: JSON-quoting them would keep the quotes in str fields.
            items.append(f"{option.key}={value if isinstance(value, str) else json.dumps(value)}")
    return items + list(sets or [])


def run_options(command):
    """Give ``command`` the shared options; it receives ``config_file`` and ``overrides``."""
    own = [
        p
        for p in inspect.signature(command).parameters.values()
        if p.name not in ("config_file", "overrides")
    ]
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

    @functools.wraps(command)
    def wrapper(**kwargs):
        shared = {name: kwargs.pop(name) for name in RUN_OPTIONS}
        config, sets = kwargs.pop("config"), kwargs.pop("set_")
        return command(
            **kwargs, config_file=str(config) if config else None, overrides=overrides(shared, sets)
        )

    wrapper.__signature__ = inspect.Signature([*own, *_parameters()])
    return wrapper
