"""``Linear``: ``nn.Linear`` whose fp32 matrix products on the CPU run through oneDNN.

PyTorch sends fp32 ``nn.Linear`` on the CPU to MKL's sgemm. On this project's machines (AMD
Zen 5, two cores) sgemm reaches 150–230 GFLOP/s for the model's shapes while oneDNN, which
PyTorch also ships, reaches 230–440 (``bench/matmul.py``): MKL does not use the full AVX-512
width there. The forward pass and both products of the backward pass (∂x = g·W, ∂W = gᵀ·x)
therefore call oneDNN's linear primitive directly; transposes are views, not copies.

Small products take the usual path too (fewer than ``MIN_MACS`` multiply-adds, batch × in × out):
the autograd Function costs tens of microseconds of Python per call and its backward, more than
oneDNN saves on a small product; for a tiny model (a linear 12 → 2J VAE) that overhead was most
of a step. Every layer of the reference MLP (the smallest: 128 × 16 × 256) stays on oneDNN.

Everything else — bf16 autocast, CUDA, other dtypes, inputs that are not 2-D — takes the usual
``nn.Linear`` path, so the layer is a drop-in replacement with the same parameters and state
dict. Set ``VAEBALANCE_ONEDNN=0`` to use the usual path everywhere.
"""

from __future__ import annotations

import os

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

_linear = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
ENABLED = (
    _linear is not None
    and torch.backends.mkldnn.is_available()
    and os.environ.get("VAEBALANCE_ONEDNN", "1") != "0"
)

MIN_MACS = 1 << 18  # batch × in_features × out_features below which nn.Linear's path is faster


def _mm(a: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """a · weightᵀ (+ bias) with oneDNN; ``a`` is [M, K], ``weight`` is [N, K]."""
    return _linear(a, weight, bias, "none", [], "")


class _OneDNNLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _mm(x, weight, bias)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()  # an expanded gradient (e.g. of a sum) has zero strides
        gx = _mm(grad, weight.t()) if ctx.needs_input_grad[0] else None
        gw = _mm(grad.t(), x.t()) if ctx.needs_input_grad[1] else None
        gb = grad.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return gx, gw, gb


class Linear(nn.Linear):
    """A drop-in ``nn.Linear`` (see the module docstring for when oneDNN is used)."""

    def forward(self, x: Tensor) -> Tensor:
        if (
            ENABLED
            and x.dim() == 2
            and x.shape[0] * self.in_features * self.out_features >= MIN_MACS
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and self.weight.dtype == torch.float32
            and not torch.is_autocast_enabled("cpu")
        ):
            return _OneDNNLinear.apply(x.contiguous(), self.weight, self.bias)
        return super().forward(x)
