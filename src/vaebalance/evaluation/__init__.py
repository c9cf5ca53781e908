"""Evaluation: the numbers of a trained VAE with units in their names, and what they mean.

- :func:`evaluate_model`: ELBO terms, the IWAE NLL, active units, I(x; z), TC, aggregate KL,
  reconstruction MSE and PSNR on a set of examples.
- :func:`diagnose` / :func:`format_verdicts`: posterior collapse, KL domination, unused latent
  dims, an infeasible balancer target, or a healthy balance, in plain words.
"""

from .diagnose import Verdict as Verdict
from .diagnose import diagnose as diagnose
from .diagnose import format_verdicts as format_verdicts
from .diagnose_model import diagnose_model as diagnose_model
from .disentangle import betavae_score as betavae_score
from .disentangle import disentanglement as disentanglement
from .disentangle import factor_metrics as factor_metrics
from .disentangle import factorvae_score as factorvae_score
from .evaluate import evaluate_model as evaluate_model
from .latent import ACTIVE_UNITS_THRESHOLD as ACTIVE_UNITS_THRESHOLD
from .latent import active_units as active_units
from .latent import aggregate_posterior_metrics as aggregate_posterior_metrics
from .latent import kl_per_dim as kl_per_dim
from .likelihood import IWAEResult as IWAEResult
from .likelihood import importance_weighted_nll as importance_weighted_nll
from .likelihood import plan_chunks as plan_chunks
from .reconstruction import reconstruction_error as reconstruction_error
