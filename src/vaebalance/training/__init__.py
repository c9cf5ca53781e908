"""Training: the fast loop, its checkpoints and trackers, and building a run's components.

Starting, resuming and finishing a run directory is :mod:`vaebalance.runs`.
"""

from .build import build as build
from .build import make_optimizer as make_optimizer
from .trainer import Hooks as Hooks
from .trainer import NonFiniteError as NonFiniteError
from .trainer import Trainer as Trainer
from .trainer import evaluate_split as evaluate_split
