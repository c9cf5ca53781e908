"""Training throughput of the reference model on Fashion-MNIST (a benchmark, not a test).

Reference model: MLP 784-512-256 → J = 16 → 256-512-784, Bernoulli likelihood, Adam 1e-3,
batch 128, 2 threads. Reports samples/s of the training epochs (evaluation excluded) and the
test −ELBO, for vaebalance's trainer and, in the same process, for a plain PyTorch loop (what
most VAE examples do: non-fused Adam, `.item()` every step, denormals not flushed).

    .venv/bin/python bench/train_throughput.py --epochs 3 [--precision bf16]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from vaebalance.config import build_config, resolve
from vaebalance.data import load_dataset
from vaebalance.training import Trainer, build, evaluate_split, runtime


def reference_config(epochs: int, precision: str):
    return build_config(
        None,
        [
            "data.name=fashion-mnist",
            "likelihood.name=bernoulli",
            "model.hidden=[512, 256]",
            "model.latent_dim=16",
            "train.batch_size=128",
            "train.lr=1e-3",
            "train.threads=2",
            f"train.epochs={epochs}",
            f"train.precision={precision}",
        ],
    )


def bench_vaebalance(epochs: int, precision: str) -> dict:
    device = runtime.configure(2, 0, "cpu")
    data = load_dataset("fashion-mnist")
    cfg = resolve(reference_config(epochs, precision), data)
    model, loss_fn = build(cfg, data)
    trainer = Trainer(cfg, data, model, loss_fn, device)
    rates = []
    for _ in range(epochs):
        start = time.perf_counter()
        trainer.train_epoch()
        rates.append(trainer.steps_per_epoch * cfg.train.batch_size / (time.perf_counter() - start))
    test = evaluate_split(model, loss_fn, data, trainer.test_x, cfg)
    return {
        "samples_per_s": max(rates),
        "samples_per_s_per_epoch": rates,
        "test_neg_elbo_nats": -test.elbo_nats,
    }


def bench_plain_loop(epochs: int) -> dict:
    """The usual tutorial loop, on the same in-memory data, for comparison."""
    torch.set_flush_denormal(False)
    torch.manual_seed(0)
    data = load_dataset("fashion-mnist")
    cfg = resolve(reference_config(epochs, "fp32"), data)
    model, _ = build(cfg, data)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x_all = data.train
    rates = []
    for _ in range(epochs):
        perm = torch.randperm(len(x_all))
        start = time.perf_counter()
        n = 0
        for i in range(len(x_all) // 128):
            x = x_all[perm[i * 128 : (i + 1) * 128]].float() / 255
            logits, mu, logvar = model(x)
            rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (rec + kl) / len(x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
            n += len(x)
        rates.append(n / (time.perf_counter() - start))
    torch.set_flush_denormal(True)
    return {"samples_per_s": max(rates), "samples_per_s_per_epoch": rates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--skip-plain", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    results = {"vaebalance": bench_vaebalance(args.epochs, args.precision)}
    if not args.skip_plain:
        results["plain_pytorch_loop"] = bench_plain_loop(args.epochs)
    results["settings"] = {"epochs": args.epochs, "precision": args.precision, "threads": 2}
    for name in ("vaebalance", "plain_pytorch_loop"):
        if name in results:
            print(f"{name:>20}: {results[name]['samples_per_s']:>8.0f} samples/s")
    print(f"{'test −ELBO':>20}: {results['vaebalance']['test_neg_elbo_nats']:.2f} nats")
    out = Path(__file__).parent / "results" / f"train_throughput_{args.precision}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
