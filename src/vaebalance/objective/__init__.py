"""The objective with stated units: likelihoods, KL, the ELBO loss, units and ``explain``."""

from .elbo import ELBOLoss as ELBOLoss
from .elbo import LossOutput as LossOutput
from .explain import Explanation as Explanation
from .explain import explain as explain
from .kl import kl_divergence as kl_divergence
from .kl import kl_normal_std as kl_normal_std
from .loss_explain import LossExplanation as LossExplanation
from .loss_explain import explain_loss as explain_loss
from .loss_explain import load_loss_function as load_loss_function
from .presets import PresetExplanation as PresetExplanation
from .presets import explain_preset as explain_preset
