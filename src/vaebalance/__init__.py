"""vaebalance: VAEs whose objective has stated units, a KL weight set by principle, and the
measurements that show the balance between reconstruction and latent structure."""

from . import balancers as balancers
from . import likelihoods as likelihoods
from .errors import UserError as UserError
from .objective import ELBOLoss as ELBOLoss
from .objective import LossOutput as LossOutput
from .objective import explain as explain
from .objective import kl_divergence as kl_divergence
from .objective import kl_normal_std as kl_normal_std

__version__ = "0.1.0"
