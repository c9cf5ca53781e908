"""The oneDNN-backed Linear is a drop-in nn.Linear: same outputs and gradients, same fallbacks."""

import pytest
import torch
from torch import nn

from vaebalance.models import linear
from vaebalance.models.linear import Linear

pytestmark = pytest.mark.skipif(not linear.ENABLED, reason="oneDNN not available in this build")


@pytest.fixture(autouse=True)
def onednn_for_any_size(monkeypatch):
    """The small shapes below would take nn.Linear's path by size; these tests check oneDNN."""
    monkeypatch.setattr(linear, "MIN_MACS", 0)


def pair(n_in=37, n_out=23, bias=True):
    torch.manual_seed(0)
    fast, ref = Linear(n_in, n_out, bias=bias), nn.Linear(n_in, n_out, bias=bias)
    ref.load_state_dict(fast.state_dict())
    return fast, ref


@pytest.mark.parametrize("bias", [True, False])
def test_forward_and_backward_match_nn_linear(bias):
    fast, ref = pair(bias=bias)
    x = torch.randn(19, 37)
    upstream = torch.randn(19, 23)
    results = []
    for layer in (fast, ref):
        xi = x.clone().requires_grad_(True)
        y = layer(xi)
        (y * upstream).sum().backward()
        grads = [xi.grad, layer.weight.grad] + ([layer.bias.grad] if bias else [])
        results.append((y.detach(), grads))
    (y_fast, g_fast), (y_ref, g_ref) = results
    torch.testing.assert_close(y_fast, y_ref, rtol=1e-5, atol=1e-5)
    for a, b in zip(g_fast, g_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_uses_onednn_for_2d_fp32_and_falls_back_otherwise(monkeypatch):
    calls = []
    real = linear._mm
    monkeypatch.setattr(linear, "_mm", lambda *a: calls.append(1) or real(*a))
    fast, ref = pair()
    fast(torch.randn(4, 37))
    assert calls, "2-D fp32 input should go through oneDNN"
    calls.clear()
    x3 = torch.randn(2, 4, 37)
    torch.testing.assert_close(fast(x3), ref(x3))  # 3-D input: the usual path
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = fast(torch.randn(4, 37))
    assert out.dtype == torch.bfloat16  # autocast keeps its bf16 path
    assert not calls


def test_expanded_gradients_and_no_grad_inputs():
    fast, ref = pair()
    x = torch.randn(6, 37)  # no grad wanted for the input, as for a data batch
    fast(x).sum().backward()  # the gradient of a sum is an expanded tensor
    ref(x).sum().backward()
    torch.testing.assert_close(fast.weight.grad, ref.weight.grad, rtol=1e-5, atol=1e-5)
    with torch.inference_mode():
        torch.testing.assert_close(fast(x), ref(x), rtol=1e-5, atol=1e-5)


def test_small_products_take_the_usual_path(monkeypatch):
    calls = []
    real = linear._mm
    monkeypatch.setattr(linear, "_mm", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(linear, "MIN_MACS", 4 * 37 * 23 + 1)
    fast, ref = pair()
    x = torch.randn(4, 37)
    torch.testing.assert_close(fast(x), ref(x))
    assert not calls
    fast(torch.randn(5, 37))  # one more row: at the threshold, oneDNN
    assert calls
