"""Plain PyTorch loops, the way most VAE examples are written: a benchmark worker.

Plain ``nn.Linear`` layers, non-fused Adam, ``loss.item()`` every step, denormals as PyTorch
leaves them, batches indexed out of the in-memory images (no DataLoader, so the loop is not
handicapped). Prints ``RESULT {json}`` on stdout.

- ``train``: the reference model (784-512-256 → J = 16, Bernoulli) on Fashion-MNIST: per-epoch
  train seconds, test-pass seconds and the test −ELBO (nats/example).
- ``tiny``: the linear 12 → 2J VAE (J = 2, unit Gaussian decoder) on random data: seconds per
  optimizer step at batch 128.
- ``iwae``: vaebalance's ``importance_weighted_nll`` (k samples, fp32 or bf16) on the first
  test images, and the fp32 decoder-only roofline (back-to-back decoder calls of 4096 rows).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: the shared ceiling
from iwae_throughput import decoder_only  # noqa: E402


def mlp(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class PlainVAE(nn.Module):
    def __init__(self, d, hidden, j):
        super().__init__()
        self.enc = mlp([d, *hidden, 2 * j])
        self.dec = mlp([j, *reversed(hidden), d])

    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=-1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.dec(z), mu, logvar


def neg_elbo(model, x, bernoulli=True):
    out, mu, logvar = model(x)
    if bernoulli:
        rec = F.binary_cross_entropy_with_logits(out, x, reduction="sum")
    else:
        rec = 0.5 * ((out - x) ** 2).sum() + 0.5 * x.numel() * math.log(2 * math.pi)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (rec + kl) / len(x)


def fashion():
    from vaebalance.data import load_dataset  # only to read the same files the same way

    data = load_dataset("fashion-mnist")
    return data.to_float(data.train).flatten(1), data.to_float(data.test).flatten(1)


def train(epochs: int, batch: int = 128, fraction: float = 1.0) -> dict:
    x_train, x_test = fashion()
    model = PlainVAE(784, (512, 256), 16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_s, test_s, test_loss = [], [], None
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(x_train))
        for i in range(max(1, round(fraction * (len(x_train) // batch)))):
            loss = neg_elbo(model, x_train[perm[i * batch : (i + 1) * batch]])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
        train_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        with torch.no_grad():
            test_loss = sum(neg_elbo(model, x_test[i : i + 1000]).item() * len(x_test[i : i + 1000])
                            for i in range(0, len(x_test), 1000)) / len(x_test)  # fmt: skip
        test_s.append(time.perf_counter() - start)
    return {"train_seconds": train_s, "test_seconds": test_s, "test_neg_elbo_nats": test_loss}


def tiny(steps: int, batch: int = 128, d: int = 12, j: int = 2) -> dict:
    x_all = torch.randn(8192, d)
    model = PlainVAE(d, (), j)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(3):  # three timed blocks; the best is the loop's own cost
        start = time.perf_counter()
        for _ in range(steps):
            x = x_all[torch.randint(len(x_all), (batch,))]
            loss = neg_elbo(model, x, bernoulli=False)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
        times.append((time.perf_counter() - start) / steps)
    return {"seconds_per_step": min(times), "seconds_per_step_blocks": times}


def iwae(examples: int, k: int, precision: str) -> dict:
    from vaebalance.data import load_dataset
    from vaebalance.evaluation import importance_weighted_nll
    from vaebalance.likelihoods import get
    from vaebalance.models import ModelConfig, build_model

    torch.set_flush_denormal(True)
    data = load_dataset("fashion-mnist")
    x = data.to_float(data.test[:examples])
    model = build_model(ModelConfig(hidden=(512, 256), latent_dim=16), data.shape).eval()
    likelihood = get("bernoulli")
    importance_weighted_nll(model, likelihood, x[:16], 100, precision=precision)  # warm-up
    start = time.perf_counter()
    r = importance_weighted_nll(model, likelihood, x, k, precision=precision)
    seconds = time.perf_counter() - start
    roof = decoder_only(model, 16)
    return {"seconds": seconds, "example_k_per_second": examples * k / seconds,
            "nll": float(r.nll_nats.mean()), "decoder_only_fp32_example_k_per_second": roof}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "tiny", "iwae"])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--examples", type=int, default=2000)
    p.add_argument("--k", type=int, default=1000)
    p.add_argument("--precision", default="fp32")
    p.add_argument("--fraction", type=float, default=1.0, help="of each training epoch")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.mode == "train":
        out = train(args.epochs, fraction=args.fraction)
    elif args.mode == "tiny":
        out = tiny(args.steps)
    else:
        out = iwae(args.examples, args.k, args.precision)
    sys.stdout.write("\nRESULT " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
