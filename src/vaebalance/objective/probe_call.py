"""Calling a user's loss function: torch tensors first, NumPy arrays if it wants those, one
number back, and how exact that number can be (the dtype it was computed in)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..errors import UserError

_EPS_SLACK = 64  # round-off of a sum of many terms: a generous multiple of the unit round-off


class Caller:
    """``caller(x, recon, mu, logvar)`` → (value, round-off bound); inputs are float64 tensors,
    copied for each call so that an in-place operation in ``fn`` cannot change the probes."""

    def __init__(self, fn, name: str | None = None):
        if not callable(fn):
            raise UserError(f"the loss must be a function fn(x, recon, mu, logvar); got {fn!r}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "fn")
        self.numpy: bool | None = None  # decided by the first call
        self.calls = 0

    def __call__(self, x: Tensor, recon: Tensor, mu: Tensor, lv: Tensor) -> tuple[float, float]:
        args = (x, recon, mu, lv)
        if self.numpy is None:
            try:
                out = self._run(args, numpy=False)
                self.numpy = False
            except Exception as torch_error:  # noqa: BLE001  (the user's code may raise anything)
                try:
                    out = self._run(args, numpy=True)
                except Exception as numpy_error:  # noqa: BLE001
                    raise UserError(
                        f"calling {self.name}(x, recon, mu, logvar) failed with torch tensors "
                        f"({_short(torch_error)}) and with NumPy arrays ({_short(numpy_error)})"
                    ) from None
                self.numpy = True
        else:
            try:
                out = self._run(args, numpy=self.numpy)
            except Exception as error:  # noqa: BLE001
                raise UserError(f"calling {self.name} failed: {_short(error)}") from None
        self.calls += 1
        return self._scalar(out)

    def _run(self, args, numpy: bool):
        with torch.no_grad():
            if numpy:
                return self.fn(*(a.numpy().copy() for a in args))
            return self.fn(*(a.clone() for a in args))

    def _scalar(self, out) -> tuple[float, float]:
        # Losses often return (loss, recon, kl) or {"loss": ..., ...}: the loss is the first.
        if isinstance(out, dict) and "loss" in out:
            out = out["loss"]
        elif isinstance(out, (tuple, list)) and len(out) > 0:
            out = out[0]
        if isinstance(out, Tensor):
            ok, eps = out.numel() == 1, _eps(out.dtype)
            value = float(out.reshape(())) if ok else math.nan
        elif isinstance(out, (np.ndarray, np.generic)):
            ok = np.size(out) == 1 and np.issubdtype(np.asarray(out).dtype, np.floating)
            eps = float(np.finfo(np.asarray(out).dtype).eps) if ok else 0.0
            value = float(np.asarray(out).reshape(())) if ok else math.nan
        elif isinstance(out, (int, float)) and not isinstance(out, bool):
            ok, eps, value = True, float(np.finfo(np.float64).eps), float(out)
        else:
            ok, eps, value = False, 0.0, math.nan
        if not ok:
            raise UserError(
                f"{self.name} must return one number (a scalar tensor, array or float); "
                f"got {_describe(out)}"
            )
        if not math.isfinite(value):
            raise UserError(f"{self.name} returned {value} on finite inputs in its domain")
        return value, _EPS_SLACK * eps * max(abs(value), 1e-300)


def _eps(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps if dtype.is_floating_point else 0.0


def _describe(out) -> str:
    shape = getattr(out, "shape", None)
    return f"{type(out).__name__} of shape {tuple(shape)}" if shape is not None else repr(out)


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
