"""PyTorch Lightning: train any encoder/decoder with :class:`~vaebalance.ELBOLoss` and a balancer.

``VAEModule(encoder, decoder, loss_fn)`` is a ``LightningModule``:

- the encoder returns (μ, log σ²) or one ``[B, 2J]`` tensor (split in half), the decoder maps
  z to the likelihood's decoder output; z = μ + σ·ε (the reparameterisation);
- ``loss_fn`` is a submodule, so the balancer's state (GECO's λ and moving average, a
  controller's integral, the step of a schedule) and a learned decoder σ are in
  ``state_dict()``: Lightning's own checkpoints save and restore them, and its optimizer
  (``configure_optimizers``) includes σ;
- each training and validation step logs the objective's terms through ``self.log`` under
  ``train/`` and ``val/`` with their unit in the name (``rate_nats``, ``distortion_nats``,
  ``elbo_nats``, ``mse_per_element``; ``beta`` has none), the keys of
  :class:`~vaebalance.schema.EpochRecord`; each epoch logs the balancer's summary under
  ``balancer/`` (``lambda``, ``beta``, ...);
- the balancer is told the run's length (``trainer.estimated_stepping_batches``) so that
  schedules and target verdicts know it.

:class:`ActiveUnits` is a callback that counts active units (Burda et al. 2016: Var_x μ_j >
0.01) on examples you give it and logs ``active_units`` (dims) at the end of each epoch.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..evaluation.latent import ACTIVE_UNITS_THRESHOLD, active_units
from ..objective import ELBOLoss
from ..schema import EpochRecord, Evaluation

try:
    import lightning.pytorch as pl
except ImportError:  # pragma: no cover - the older package name
    try:
        import pytorch_lightning as pl
    except ImportError as e:
        raise ImportError(
            "vaebalance.integrations.lightning needs PyTorch Lightning: "
            "pip install 'vaebalance[lightning]'"
        ) from e


def split_posterior(encoded) -> tuple[Tensor, Tensor]:
    """(μ, log σ²) from an encoder's output: a pair, or a ``[B, 2J]`` tensor split in half."""
    if isinstance(encoded, (tuple, list)) and len(encoded) == 2:
        return encoded[0], encoded[1]
    if isinstance(encoded, Tensor) and encoded.dim() == 2 and encoded.shape[1] % 2 == 0:
        return encoded.chunk(2, dim=1)
    shape = tuple(encoded.shape) if isinstance(encoded, Tensor) else type(encoded).__name__
    raise ValueError(f"the encoder must return (mu, logvar) or a [B, 2J] tensor; got {shape}")


def _examples(batch) -> Tensor:
    """x from a batch: the tensor itself, or the first element of (x, y, ...)."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


class VAEModule(pl.LightningModule):
    """A VAE as a ``LightningModule``: your encoder and decoder, vaebalance's objective.

    Args:
        encoder: x → (μ, log σ²) or a ``[B, 2J]`` tensor.
        decoder: z → the decoder output ``loss_fn``'s likelihood takes (logits for
            ``bernoulli``, the mean for ``gaussian``, ...).
        loss_fn: an :class:`~vaebalance.ELBOLoss`, e.g.
            ``ELBOLoss("bernoulli", balancer=GECO(target_mse=0.02))``; default the σ-VAE
            ``ELBOLoss("gaussian-learned")``.
        lr: Adam's learning rate.
    """

    def __init__(
        self, encoder: nn.Module, decoder: nn.Module, loss_fn: ELBOLoss | None = None, lr=1e-3
    ):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.loss_fn = loss_fn if loss_fn is not None else ELBOLoss("gaussian-learned")
        self.lr = lr
        self._told_length = False

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return split_posterior(self.encoder(x))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(decoder output, μ, log σ²) for a batch, with z = μ + σ·ε."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar

    def training_step(self, batch, batch_idx):
        x = _examples(batch)
        output, mu, logvar = self(x)
        if not self._told_length:
            self._bind_run_length(x, mu)
        out = self.loss_fn(x, output, mu, logvar)
        self._log_terms("train", out, x.shape[0])
        return out.loss

    def validation_step(self, batch, batch_idx):
        x = _examples(batch)
        out = self.loss_fn(x, *self(x))  # eval mode: the balancer does not update
        self._log_terms("val", out, x.shape[0])

    def on_train_epoch_end(self):
        report = self.loss_fn.balancer.report()
        values = {f"balancer/{k}": float(v) for k, v in report.items() if _scalar(v)}
        if values:
            self.log_dict(values)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)  # includes a learned σ

    def _bind_run_length(self, x: Tensor, mu: Tensor) -> None:
        total = self.trainer.estimated_stepping_batches  # inf when the length is unknown
        total = int(total) if math.isfinite(total) else None
        self.loss_fn.bind(x[0].numel(), mu.shape[1], total_steps=total)
        self._told_length = True

    def _log_terms(self, split: str, out, batch_size: int) -> None:
        record = EpochRecord(
            loss=out.loss.detach(),
            elbo_nats=out.elbo.detach(),
            rate_nats=out.rate.detach(),
            distortion_nats=out.distortion.detach(),
            mse_per_element=out.mse_per_element,
            beta=out.beta.detach().to(out.loss.dtype),
        )
        values = {f"{split}/{k}": v for k, v in record.to_json().items()}
        on_step = split == "train"
        self.log_dict(values, on_step=on_step, on_epoch=True, batch_size=batch_size)


def _scalar(v) -> bool:
    return isinstance(v, bool) or (isinstance(v, (int, float)) and math.isfinite(v))


class ActiveUnits(pl.Callback):
    """Log the number of active units on ``examples`` at the end of every training epoch.

    A unit j is active if Var_x μ_j(x) > ``threshold`` (Burda, Grosse & Salakhutdinov 2016;
    0.01), computed by :func:`vaebalance.evaluation.active_units` on the encoder's μ.
    """

    def __init__(self, examples: Tensor, threshold: float = ACTIVE_UNITS_THRESHOLD):
        super().__init__()
        self.examples, self.threshold = examples, threshold
        self.history: list[int] = []

    def on_train_epoch_end(self, trainer, pl_module: VAEModule):
        was_training = pl_module.training
        pl_module.eval()
        with torch.no_grad():
            mu, _ = pl_module.encode(self.examples.to(pl_module.device))
        pl_module.train(was_training)
        count, _ = active_units(mu, self.threshold)
        self.history.append(count)
        key = next(iter(Evaluation(active_units=count).to_json()))
        pl_module.log(key, float(count))
