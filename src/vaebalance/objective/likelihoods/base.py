"""The likelihood interface: a decoder distribution with an exact per-example NLL in nats.

Every likelihood returns ``nll(x, output)`` as a tensor ``[B]`` in nats, **summed over all K
elements of each example** (the event dims), so that ``nll + KL`` is the negative ELBO of one
example. Means over pixels are never taken: they silently re-weight the KL by K (see
:mod:`vaebalance.objective.explain`).

The decoder output has the shape of ``x`` except along dim 1 (channels for images, features for
flat data), which is ``outputs_per_element`` times larger; a per-element scale, where there is
one, is the second half along that dim.

``distribution(output)`` gives the same model as a ``torch.distributions`` object (with
``Independent`` summing over the event dims), for users and for the tests; ``nll`` computes the
same number directly, because it runs in every training step.

Besides computing, a likelihood *describes itself*, so that no other code needs to know
likelihoods by name: whether it is a probability mass (``discrete``), whether it needs data in
[0, 1], how its scale is set (``scale_kind``, ``decoder_scale``), which hand-written
reconstruction loss it is a multiple of (:meth:`Likelihood.convention`, what ``explain``
needs), and how its scale should start on given data (:meth:`Likelihood.initial_params`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Distribution

from ...errors import check

LOG_SCALE_FLOOR = -6.0  # σ-VAE's soft clip: σ ≥ e^-6 keeps the NLL finite as the MSE → 0
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def softclip_below(t: Tensor, floor: float = LOG_SCALE_FLOOR) -> Tensor:
    """A smooth ``max(t, floor)``: ``floor + softplus(t - floor)`` (Rybkin et al. 2021)."""
    return floor + F.softplus(t - floor)


def sum_event(t: Tensor) -> Tensor:
    return t.flatten(1).sum(1)


@dataclass(frozen=True)
class Convention:
    """NLL = ``scale`` · S + (terms free of the decoder's output), with S the summed
    reconstruction loss ``recon`` people write by hand: ``"bce"`` (binary cross-entropy summed
    over elements) or ``"mse"`` (squared errors summed over elements)."""

    recon: str
    scale: float


class Likelihood(nn.Module):
    """Base class. Subclasses implement :meth:`_nll` and :meth:`mean` and declare what they are.

    Learnable scales are parameters of the module, so they live wherever the module lives
    (e.g. inside :class:`~vaebalance.objective.ELBOLoss`).
    """

    name: str = ""
    outputs_per_element: int = 1
    data_in_unit_interval: bool = False  # the Bernoulli family is defined on [0, 1] only
    discrete: bool = False  # a probability mass: no bin-width correction for 8-bit data
    scale_kind: str = "none"  # none | fixed | learned | batch-optimal | per-element
    params: tuple[str, ...] = ()

    def nll(self, x: Tensor, output: Tensor, validate: bool = True) -> Tensor:
        """−log p(x | output) summed over the event dims: ``[B]`` nats."""
        if validate:
            self.validate(x, output)
        return self._nll(x, output)

    def _nll(self, x: Tensor, output: Tensor) -> Tensor:
        raise NotImplementedError

    def mean(self, output: Tensor) -> Tensor:
        """E[x | output], shaped like x: what a reconstruction shows."""
        raise NotImplementedError

    def distribution(self, output: Tensor) -> Distribution:
        """The same model as a ``torch.distributions`` object with event dims = all but dim 0."""
        raise NotImplementedError

    @property
    def decoder_scale(self) -> float | None:
        """The one scale shared by every element (σ, or b for Laplace); None where there is
        none or it is not a single number."""
        return None

    def convention(self) -> Convention | None:
        """Which summed reconstruction loss this NLL is a fixed positive multiple of, or None
        (a learned or data-dependent scale has no fixed multiple)."""
        return None

    @classmethod
    def initial_params(cls, params: dict, x: Tensor) -> dict:
        """Parameters to start from on training data ``x`` (float, in the data's units) that
        the user did not set; none by default."""
        return {}

    def validate(self, x: Tensor, output: Tensor) -> None:
        """Raise :class:`UserError` on shape mismatches, non-finite or out-of-range targets."""
        expected = list(x.shape)
        check(
            x.dim() >= 2, f"x must have a batch dim and at least one data dim; got {tuple(x.shape)}"
        )
        expected[1] *= self.outputs_per_element
        check(
            list(output.shape) == expected,
            f"{self.name}: decoder output shape {tuple(output.shape)} does not match x "
            f"{tuple(x.shape)} (expected {tuple(expected)})",
        )
        check(bool(torch.isfinite(x).all()), "x contains NaN or inf")
        if self.data_in_unit_interval:
            lo, hi = float(x.min()), float(x.max())
            check(
                lo >= 0.0 and hi <= 1.0,
                f"{self.name} needs targets in [0, 1]; x spans [{lo:.4g}, {hi:.4g}]",
            )

    def extra_repr(self) -> str:
        return ", ".join(f"{p}={getattr(self, p)}" for p in self.params)
