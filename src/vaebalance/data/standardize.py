"""Per-element standardization y = (x − m) / s, and what it does to likelihoods.

With ``data.standardize`` on, the model sees y, where m_d and s_d are the mean and standard
deviation of element d over the *training* split (population std; an element that is constant
there gets s_d = 1, so it is only shifted). The same numbers are applied to the test split and
to any other data the run is evaluated on, and stored with the run
(``standardization.safetensors``) so that they never change after training.

Units. A density of y is not a density of x. For the invertible affine map y = (x − m) / s the
change of variables gives p_x(x) = p_y(y) · Π_d |dy_d / dx_d| = p_y(y) / Π_d s_d, so

    −log p_x(x) = −log p_y(y) + Σ_d log s_d.

The same constant Σ_d log s_d (:attr:`Standardization.log_det_nats`) is added to the
distortion −log p(x|z), to −ELBO and to the IWAE NLL; the rate KL(q(z|x) ‖ p(z)) does not
depend on the units of x and is unchanged. Reported numbers are therefore always in the units
of the data as given, and a run with standardization compares with one without.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import UserError

MEAN, STD = "mean", "std"


@dataclass(frozen=True)
class Standardization:
    """Per-element mean ``mean`` and standard deviation ``std``, each shaped like one example."""

    mean: Tensor
    std: Tensor

    @classmethod
    def fit(cls, train: Tensor, convert=None, chunk: int = 4096) -> Standardization:
        """The mean and (population) std of each element over the training examples ``train``;
        constant elements get std 1.

        ``convert`` maps a block of rows to float in the data's units (e.g. ``uint8`` / 255);
        blocks of ``chunk`` rows keep memory small, and the two passes (mean, then squared
        deviations) are summed in float64.
        """
        convert = convert or (lambda block: block)
        n = len(train)
        total = sum(convert(train[i : i + chunk]).double().sum(0) for i in range(0, n, chunk))
        mean = total / n
        squares = sum(
            (convert(train[i : i + chunk]).double() - mean).pow(2).sum(0)
            for i in range(0, n, chunk)
        )
        std = (squares / n).sqrt()
        std = torch.where(std > 0, std, torch.ones_like(std))
        return cls(mean.float(), std.float())

    @property
    def log_det_nats(self) -> float:
        """Σ_d log s_d: nats to add to a negative log-likelihood of the standardized data to
        get that of the data as given (see the module docstring)."""
        return float(self.std.double().log().sum())

    def apply(self, x: Tensor) -> Tensor:
        """y = (x − m) / s for a batch ``[B, *shape]`` of float examples."""
        return (x - self.mean.to(x.device)) / self.std.to(x.device)

    def invert(self, y: Tensor) -> Tensor:
        """x = m + s · y: model outputs (reconstructions, samples) back in the data's units."""
        return y * self.std.to(y.device) + self.mean.to(y.device)

    def to(self, device) -> Standardization:
        """A copy on ``device``, so that a training loop never copies the statistics per batch."""
        return Standardization(self.mean.to(device), self.std.to(device))

    def to_tensors(self) -> dict[str, Tensor]:
        return {MEAN: self.mean.cpu().contiguous(), STD: self.std.cpu().contiguous()}

    @classmethod
    def from_tensors(cls, tensors: dict, shape: tuple[int, ...], where) -> Standardization:
        """Read back :meth:`to_tensors`, checked against the example ``shape``."""
        mean, std = tensors.get(MEAN), tensors.get(STD)
        ok = (
            mean is not None
            and std is not None
            and tuple(mean.shape) == tuple(shape) == tuple(std.shape)
            and bool(torch.isfinite(mean).all())
            and bool((std > 0).all() & torch.isfinite(std).all())
        )
        if not ok:
            raise UserError(
                f"{where} does not hold a finite mean and a positive std of shape "
                f"{tuple(shape)}; the run directory is damaged"
            )
        return cls(mean.float(), std.float())

    def describe(self) -> str:
        """One line for reports: what was done and the constant it adds."""
        return (
            "standardized per element with the training split's mean and std; "
            f"Σ log s_d = {self.log_det_nats:.6g} nats added to NLL, distortion and −ELBO"
        )
