"""Training: the fast loop, checkpoints, trackers, and the run lifecycle."""

from .run import Run as Run
from .run import load_run as load_run
from .run import resume as resume
from .run import train as train
from .trainer import Hooks as Hooks
from .trainer import Trainer as Trainer
