"""Every balancer on Fashion-MNIST with the reference MLP: where each one lands (a benchmark).

Reference model: MLP 784-512-256 → J = 16 → 256-512-784, Adam 1e-3, batch 128, 10 epochs.
Bernoulli likelihood except where a method needs a Gaussian decoder (`dynamic`, σ-VAE).
Writes a markdown table (the one in the README) and JSON under bench/results/.

    .venv/bin/python bench/balancers.py [--epochs 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from vaebalance.config import build_config
from vaebalance.runs import train

STEPS_PER_EPOCH = 60_000 // 128

# (label, likelihood, balancer overrides, the goal in words) — steps are filled in per run.
CASES = [
    ("constant β=1 (ELBO)", "bernoulli", ["balancer.name=constant"], None),
    ("constant β=4 (β-VAE)", "bernoulli", ["balancer.name=constant", "balancer.beta=4"], None),
    ("σ-VAE: gaussian-learned, β=1", "gaussian-learned", ["balancer.name=constant"], None),
    ("warmup 0→1 over half", "bernoulli", ["balancer.name=warmup", "balancer.steps={half}"], None),
    ("cyclical, 4 cycles", "bernoulli", ["balancer.name=cyclical", "balancer.steps={total}"], None),
    (
        "capacity C→10 nats, γ=1000",
        "bernoulli",
        ["balancer.name=capacity", "balancer.c_max=10", "balancer.steps={total}"],
        ("rate_nats", 10.0),
    ),
    (
        "free bits 0.5 nats/dim",
        "bernoulli",
        ["balancer.name=free-bits", "balancer.free_bits=0.5"],
        None,
    ),
    (
        "GECO MSE 0.02",
        "bernoulli",
        ["balancer.name=geco", "balancer.target_mse=0.02"],
        ("mse_per_element", 0.02),
    ),
    (
        "ControlVAE KL 15 nats",
        "bernoulli",
        ["balancer.name=control", "balancer.target_kl=15"],
        ("rate_nats", 15.0),
    ),
    ("dynamic (Gaussian σ = 1)", "gaussian", ["balancer.name=dynamic"], None),
]


def run_case(label, likelihood, overrides, epochs, out):
    total = epochs * STEPS_PER_EPOCH
    overrides = [o.format(total=total, half=total // 2) for o in overrides]
    cfg = build_config(
        None,
        [
            "data.name=fashion-mnist",
            f"likelihood.name={likelihood}",
            *overrides,
            "model.hidden=[512, 256]",
            "model.latent_dim=16",
            "train.batch_size=128",
            f"train.epochs={epochs}",
            "train.threads=2",
            "train.tensorboard=false",
            "eval.iw_samples=0",
        ],
    )
    start = time.perf_counter()
    _, metrics = train(cfg, out)
    metrics = {**metrics, "wall_seconds": time.perf_counter() - start}
    return metrics


def table(rows) -> str:
    head = (
        "| balancer | likelihood | rate (nats) | distortion (nats) | test −ELBO (nats) "
        "| MSE/pixel | active units | target met |\n|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        m = r["metrics"]
        met = m.get("target_met")
        if met is None and r["goal"]:  # stateless methods: judge the test value, ±10%
            key, value = r["goal"]
            met = abs(m[key] - value) <= 0.1 * value
        met = {True: "yes", False: "**no**", None: "—"}[met]
        lines.append(
            f"| {r['label']} | {m['likelihood']} | {m['rate_nats']:.2f} | "
            f"{m['distortion_nats']:.2f} | {m['neg_elbo_nats']:.2f} | {m['mse_per_element']:.4f} "
            f"| {m['active_units']} | {met} |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, likelihood, overrides, goal) in enumerate(CASES):
            metrics = run_case(label, likelihood, overrides, args.epochs, Path(tmp) / str(i))
            rows.append({"label": label, "goal": goal, "metrics": metrics})
            print(
                f"{label:<32} rate {metrics['rate_nats']:7.2f}  mse {metrics['mse_per_element']:.4f}"
                f"  target_met {metrics.get('target_met')}  {metrics['wall_seconds']:.0f} s"
            )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "balancers.md").write_text(table(rows))
    (out / "balancers.json").write_text(json.dumps(rows, indent=2, default=str))
    print(table(rows))


if __name__ == "__main__":
    main()
