"""fp32 matrix-product throughput on this CPU: MKL (PyTorch's default) vs oneDNN (a benchmark).

The shapes are those of the reference MLP's training step (batch 128) and of an IWAE decoder
call. ``vaebalance.models.Linear`` routes fp32 products to oneDNN because of this comparison.

    .venv/bin/python bench/matmul.py
"""

from __future__ import annotations

import time

import torch

SHAPES = [(128, 784, 512), (128, 512, 256), (128, 256, 512), (128, 512, 784), (4096, 256, 512)]


def gflops(fn, m: int, k: int, n: int, calls: int = 300) -> float:
    for _ in range(20):
        fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return 2 * m * k * n * calls / (time.perf_counter() - start) / 1e9


def main() -> None:
    torch.set_num_threads(2)
    onednn = torch.ops.mkldnn._linear_pointwise
    print(f"{'M×K×N':>16} {'MKL GFLOP/s':>12} {'oneDNN GFLOP/s':>15}")
    for m, k, n in SHAPES:
        x, w = torch.randn(m, k), torch.randn(n, k)
        mkl = gflops(lambda x=x, w=w: torch.nn.functional.linear(x, w), m, k, n)
        dnn = gflops(lambda x=x, w=w: onednn(x, w, None, "none", [], ""), m, k, n)
        print(f"{m:>5}×{k:>4}×{n:>4} {mkl:>12.0f} {dnn:>15.0f}")


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    main()
