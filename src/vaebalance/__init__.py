"""vaebalance: VAEs whose objective has stated units, a KL weight set by principle, and the
measurements that show the balance between reconstruction and latent structure."""

from . import balancers, likelihoods
from ._version import __version__ as __version__
from .errors import UserError
from .evaluation import diagnose, diagnose_model, evaluate_model
from .objective import (
    ELBOLoss,
    LossOutput,
    explain,
    explain_loss,
    explain_preset,
    kl_divergence,
    kl_normal_std,
)
from .runs import evaluate_run as evaluate
from .runs import load_run, train

__all__ = [
    "ELBOLoss",
    "LossOutput",
    "UserError",
    "balancers",
    "diagnose",
    "diagnose_model",
    "evaluate",
    "evaluate_model",
    "explain",
    "explain_loss",
    "explain_preset",
    "kl_divergence",
    "kl_normal_std",
    "likelihoods",
    "load_run",
    "train",
]
