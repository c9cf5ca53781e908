"""The life of a run directory: start, resume, finish, load and re-evaluate.

The only layer that creates or changes run directories; it drives :mod:`vaebalance.training`
(the loop, checkpoints) and :mod:`vaebalance.evaluation` (the measurements), which know nothing
of run directories.
"""

from .evaluate import evaluate_other as evaluate_other
from .evaluate import evaluate_run as evaluate_run
from .layout import CHECKPOINT_DIR as CHECKPOINT_DIR
from .layout import CONFIG as CONFIG
from .layout import HISTORY as HISTORY
from .layout import METRICS as METRICS
from .layout import MODEL as MODEL
from .layout import REPORT as REPORT
from .layout import RUN as RUN
from .layout import RunDir as RunDir
from .load import Run as Run
from .load import load_run as load_run
from .start import RunInterrupted as RunInterrupted
from .start import resume as resume
from .start import train as train
