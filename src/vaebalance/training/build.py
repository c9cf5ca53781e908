"""A run's components from its resolved config: the model, the loss and the optimizer."""

from __future__ import annotations

import torch
from torch import nn

from .. import balancers, likelihoods
from ..config import RunConfig
from ..data import Dataset
from ..errors import UserError
from ..models import VAE, build_model
from ..models.codes import affine_ends
from ..objective.elbo import ELBOLoss
from .memory import check_fits


def steps_per_epoch(cfg: RunConfig, train_examples: int) -> int:
    """Optimizer steps in one pass over the training split (the last partial batch dropped)."""
    return max(1, train_examples // cfg.train.batch_size)


def total_steps(cfg: RunConfig, train_examples: int) -> int:
    """The run's length in optimizer steps: ``train.steps``, else epochs × steps per epoch."""
    return cfg.train.steps or cfg.train.epochs * steps_per_epoch(cfg, train_examples)


def build(cfg: RunConfig, data: Dataset) -> tuple[VAE, ELBOLoss]:
    """The model and loss for a resolved ``cfg`` (:func:`vaebalance.config.resolve`); every
    component error surfaces here, before any file is written."""
    if cfg.likelihood.name == "auto":
        raise ValueError("build() takes a resolved config: call vaebalance.config.resolve first")
    likelihood = likelihoods.get(cfg.likelihood.name, **cfg.likelihood.params)
    check_fits(cfg.model, data.shape, likelihood.outputs_per_element)
    model = build_model(cfg.model, data.shape, likelihood.outputs_per_element)
    if cfg.train.standardize_codes and affine_ends(model) is None:
        raise UserError(
            f"train.standardize_codes needs a model whose encoder ends and decoder begins with "
            f"an affine layer on the code; the {cfg.model.arch!r} model does not"
        )
    balancer = balancers.get(cfg.balancer.name, **cfg.balancer.params)
    loss_fn = ELBOLoss(likelihood, balancer, validate=False)
    loss_fn.bind(data.input_dim, cfg.model.latent_dim, total_steps(cfg, len(data.train)))
    return model, loss_fn


def make_optimizer(cfg: RunConfig, model: nn.Module, loss_fn: nn.Module) -> torch.optim.Adam:
    t = cfg.train
    params = [*model.parameters(), *loss_fn.parameters()]
    return torch.optim.Adam(
        params, lr=t.lr, betas=tuple(t.betas), weight_decay=t.weight_decay, fused=True
    )
