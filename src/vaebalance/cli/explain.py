"""``vaebalance explain``: what a loss written as ``recon + w * KL`` really optimizes."""

from __future__ import annotations

import json

import typer

from .app import app, flag

# The names only (a short import): the library itself is loaded inside the command.
PRESET_NAMES = (
    "pytorch-vae", "lightning-bolts", "keras-example", "keras-io-2020", "pythae", "disent",
    "pytorch-examples", "scvi-tools",
)  # fmt: skip


@app.command()
def explain(
    recon: str = typer.Option("mse", help="mse, sse or bce"),
    recon_reduction: str = typer.Option(None, help="sum or mean over input elements"),
    kl_reduction: str = typer.Option("sum", help="sum or mean over latent dims"),
    kl_weight: float = typer.Option(1.0, help="the weight w on the KL term"),
    input_dim: int = typer.Option(None, help="K, elements per example (784 for MNIST)"),
    latent_dim: int = typer.Option(None, help="J, latent dimensions"),
    recon_scale: float = typer.Option(1.0, help="constant factor on the reconstruction term"),
    preset: str = typer.Option(
        None, help="a convention people copy: " + ", ".join(PRESET_NAMES), metavar="NAME"
    ),
    input_shape: str = typer.Option(None, help="C,H,W (or D) of one example, e.g. 3,64,64"),
    batch_size: int = typer.Option(None, help="M, for a preset whose weight depends on it"),
    dataset_size: int = typer.Option(None, help="N, for a preset whose weight depends on it"),
    loss_file: str = typer.Option(
        None, help="a Python file with your loss function (it is run: your own code only)"
    ),
    loss_fn: str = typer.Option(None, help="the function in --loss-file: fn(x, recon, mu, logvar)"),
    likelihood_hint: str = typer.Option(None, help="for --loss-file: gaussian or bernoulli"),
    data_range: float = typer.Option(None, help="max − min of your data (default: [0, 1])"),
    data_std: float = typer.Option(None, help="the spread (std) of your data's values"),
    data: str = typer.Option(None, help="read --data-range and --data-std from this dataset"),
    as_json: bool = typer.Option(False, "--json", help="print the numbers as JSON"),
):
    """Say what a loss written as `recon + w * KL` really optimizes.

    Example (the most asked question: MSE and KL averaged, weight 0.1):

      vaebalance explain --recon mse --recon-reduction mean --kl-reduction mean
      --kl-weight 0.1 --input-dim 784 --latent-dim 32

    Example (a convention copied from a repository, at your data):

      vaebalance explain --preset pytorch-vae --input-shape 1,28,28 --latent-dim 16

    Example (your own loss function; this imports and runs my_loss.py):

      vaebalance explain --loss-file my_loss.py --loss-fn vae_loss --input-shape 1,28,28
      --latent-dim 16
    """
    from ..errors import UserError

    if preset is not None and loss_file is not None:
        raise UserError("give either preset or loss_file, not both", ("preset", "loss_file"))
    if preset is not None:
        return _preset(preset, input_shape, input_dim, latent_dim, batch_size, dataset_size,
                       as_json)  # fmt: skip
    if loss_file is not None:
        return _loss_file(loss_file, loss_fn, input_shape, input_dim, latent_dim,
                          likelihood_hint, as_json)  # fmt: skip
    from ..objective.explain import explain as explain_convention

    if input_dim is None or latent_dim is None:
        raise UserError(
            "explain needs input_dim and latent_dim (K and J), or a preset, or a loss_file",
            ("input_dim", "latent_dim", "preset", "loss_file"),
        )
    if data is not None:
        data_range, data_std = _data_scale(data)
    e = explain_convention(
        recon, recon_reduction, kl_reduction, kl_weight, input_dim, latent_dim, recon_scale,
        data_range, data_std,
    )  # fmt: skip
    if as_json:
        print(json.dumps(e.to_json(), indent=2))
        return
    print(e.text)
    if e.suggestions:
        print("As vaebalance commands:")
        for s in e.suggestions:
            print(f"  vaebalance train {command_args(s.config)}")


def _shape(input_shape: str | None, input_dim: int | None) -> tuple[int, ...] | None:
    from ..objective.presets import parse_shape

    if input_shape is not None:
        return parse_shape(input_shape)
    if input_dim is not None:
        return parse_shape(str(input_dim))
    return None


def _preset(name, input_shape, input_dim, latent_dim, batch_size, dataset_size, as_json):
    from ..objective.presets import explain_preset

    shape = _shape(input_shape, input_dim)
    e = explain_preset(name, shape, latent_dim, batch_size, dataset_size)
    if as_json:
        print(json.dumps(e.to_json(), indent=2))
        return
    print(e.text)
    print(f"As a vaebalance command: vaebalance train {command_args(e.yours.config)}")


def _loss_file(path, fn_name, input_shape, input_dim, latent_dim, hint, as_json):
    from ..errors import UserError
    from ..objective.loss_explain import explain_loss, load_loss_function

    if fn_name is None:
        raise UserError(
            "explain with loss_file needs loss_fn, the function's name", ("loss_fn", "loss_file")
        )
    shape = _shape(input_shape, input_dim)
    if shape is None or latent_dim is None:
        raise UserError(
            "explain with loss_file needs input_shape and latent_dim",
            ("input_shape", "latent_dim", "loss_file"),
        )
    fn = load_loss_function(path, fn_name)
    e = explain_loss(fn, shape, latent_dim, likelihood_hint=hint)
    if as_json:
        print(json.dumps(e.to_json(), indent=2))
        return
    print(e.text)
    print("As vaebalance commands:")
    for s in e.explanation.suggestions:
        print(f"  vaebalance train {command_args(s.config)}")


def command_args(config: dict) -> str:
    """``{"likelihood.name": "gaussian"}`` → ``--likelihood gaussian``: the named option where
    the CLI has one, else ``--set section.field=value``."""
    from .options import RUN_OPTIONS

    by_key = {option.key: name for name, option in RUN_OPTIONS.items()}
    parts = []
    for key, value in config.items():
        if key in by_key:
            parts.append(f"{flag(by_key[key])} {value}")
        else:
            parts.append(f"--set {key}={value}")
    return " ".join(parts)


def _data_scale(name: str) -> tuple[float, float]:
    """The range and spread of a dataset's training values, as the model sees them."""
    from ..data import load_dataset

    data = load_dataset(name)
    x = data.to_float(data.train[:10_000])
    return float(x.max() - x.min()), float(x.std())
