"""vaebalance: VAEs whose objective has stated units, a KL weight set by principle, and the
measurements that show the balance between reconstruction and latent structure."""

__version__ = "0.1.0"  # before the imports: run directories record it

from . import balancers, likelihoods  # noqa: E402
from .errors import UserError  # noqa: E402
from .evaluation import diagnose, evaluate_model  # noqa: E402
from .evaluation.run import evaluate_run as evaluate  # noqa: E402
from .objective import ELBOLoss, LossOutput, explain, kl_divergence, kl_normal_std  # noqa: E402
from .training import load_run, train  # noqa: E402

__all__ = [
    "ELBOLoss",
    "LossOutput",
    "UserError",
    "balancers",
    "diagnose",
    "evaluate",
    "evaluate_model",
    "explain",
    "kl_divergence",
    "kl_normal_std",
    "likelihoods",
    "load_run",
    "train",
]
