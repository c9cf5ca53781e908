"""``vaebalance explain``: what a loss written as ``recon + w * KL`` really optimizes."""

from __future__ import annotations

import json

import typer

from .app import app, flag


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
    from ..objective.explain import explain as explain_convention

    e = explain_convention(
        recon, recon_reduction, kl_reduction, kl_weight, input_dim, latent_dim, recon_scale
    )
    if as_json:
        print(json.dumps(e.to_json(), indent=2))
        return
    print(e.text)
    if e.suggestions:
        print("As vaebalance commands:")
        for s in e.suggestions:
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
