"""``vaebalance tune`` on Fashion-MNIST: runs used and MSE reached for stated targets.

Reference model: MLP 784-512-256 → J = 16, Adam 1e-3, batch 64, a short budget of 3 epochs,
one thread per run. Prints the README's table (target, runs, reached, off, β, wall time) and
writes the first target's frontier plot where ``--image`` says. Each target's tune directory
is kept under ``--out``, so repeating the command reads finished runs back.

    .venv/bin/python bench/tune_fashion_mnist.py --out /tmp/tune_bench \
        --image docs/images/tune_fashion_mnist.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vaebalance.config import build_config
from vaebalance.report.tune_plot import tune_frontier
from vaebalance.schema import TuneRow
from vaebalance.sweeps.tune import Target
from vaebalance.sweeps.tuning import run_tune

BASE = [
    "data.name=fashion-mnist",
    "train.epochs=3",
    "train.threads=1",
    "train.tensorboard=false",
    "eval.iw_samples=0",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=float, nargs="+", default=[0.02, 0.03, 0.015, 0.01])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/tune_bench"))
    parser.add_argument("--image", type=Path, default=None)
    args = parser.parse_args()
    base = build_config(None, [*BASE, f"train.epochs={args.epochs}"])
    print("| target MSE | runs | reached (test MSE) | off | β found | wall time (this call) |")
    print("|---|---|---|---|---|---|")
    for i, value in enumerate(args.targets):
        start = time.perf_counter()
        target = Target(TuneRow.key.mse_per_element, value)
        result = run_tune(base, target, args.out / f"mse-{value:g}")
        wall = time.perf_counter() - start
        chosen = result.chosen
        print(
            f"| {value:g} | {len(result.rows)} | {chosen.mse_per_element:.4g} | "
            f"{chosen.relative_error:+.1%} | {chosen.beta:g} | {wall:.0f} s ({result.stopped}) |"
        )
        if i == 0 and args.image is not None:
            png = tune_frontier(result.rows, target.key, value, 0.05, chosen.run, "fashion-mnist")
            args.image.write_bytes(png)


if __name__ == "__main__":
    main()
