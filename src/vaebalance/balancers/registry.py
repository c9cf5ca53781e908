"""Balancers by name, for the CLI and config files: ``get("geco", target_mse=0.01)`` or
``get("warmup+geco", ...)`` (see :func:`vaebalance.objective.balancer.get`)."""

from ..objective.balancer import chain as chain
from ..objective.balancer import get as get
from ..objective.balancer import names as names
from ..objective.balancer import parameters as parameters
from ..objective.balancer import register as register
