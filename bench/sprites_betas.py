"""β-VAE on ``sprites`` (32×32, conv, J = 10, Bernoulli) at β ∈ {1, 4, 16}: every factor metric
next to the active units, plus the renderer's speed and the memory of a batch. A benchmark
(minutes of CPU), not a test; the README quotes its output.

    .venv/bin/python bench/sprites_betas.py --steps 1500 --out bench/results/sprites_betas.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from vaebalance.config import build_config
from vaebalance.data.sprites import render, sample_classes
from vaebalance.runs import train

KEYS = (
    "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap",
    "modularity", "explicitness", "betavae_score", "factorvae_score", "active_units",
    "rate_nats", "distortion_nats",
)  # fmt: skip


def render_speed(size: int, n: int = 4096, batch: int = 256) -> dict:
    """Images per second of :func:`render` and the bytes of one batch of images."""
    classes = sample_classes(n, np.random.default_rng(0))
    start = time.perf_counter()
    for s in range(0, n, batch):
        images = render(classes[s : s + batch], size)
    seconds = time.perf_counter() - start
    return {
        "size": size,
        "images_per_s": n / seconds,
        "batch": batch,
        "batch_bytes": images.numel() * images.element_size(),
    }


def run(beta: float, steps: int, out: Path, threads: int, batches: int) -> dict:
    cfg = build_config(
        None,
        [
            "data.name=sprites",
            "data.size=32",
            "model.arch=conv",
            "model.latent_dim=10",
            "likelihood.name=bernoulli",
            f"balancer.beta={beta}",
            f"train.steps={steps}",
            "train.batch_size=64",
            "train.lr=1e-3",
            f"train.threads={threads}",
            "train.tensorboard=false",
            "eval.iw_samples=0",
            f"eval.intervention_batches={batches}",
        ],
    )
    start = time.perf_counter()
    _, metrics = train(cfg, out / f"beta{beta:g}")
    row = {k: metrics.get(k) for k in KEYS}
    return {"beta": beta, "steps": steps, "wall_s": time.perf_counter() - start, **row}


def main() -> None:  # about 15 minutes on 2 idle cores with the defaults
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--betas", type=float, nargs="+", default=[1.0, 4.0, 16.0])
    # One thread per run: on a loaded machine two OpenMP threads wait on each other (2.7 s
    # per step with 2 threads vs about 1 s with 1 at a load of 16 on 2 cores).
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--intervention-batches", type=int, default=200)
    parser.add_argument("--runs", type=Path, default=Path("/tmp/sprites_betas"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/sprites_betas.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)  # the render timing uses the runs' thread count
    result = {"render": [render_speed(64), render_speed(32)], "runs": []}
    print(json.dumps(result["render"]))
    for beta in args.betas:
        result["runs"].append(
            run(beta, args.steps, args.runs, args.threads, args.intervention_batches)
        )
        print(json.dumps(result["runs"][-1]), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
