"""The names balancers are built from, as the objective defines them (:mod:`vaebalance.objective.
balancer` and :mod:`vaebalance.objective.terms`): re-exported here for balancer authors."""

from ..objective.balancer import Balancer as Balancer
from ..objective.balancer import Chain as Chain
from ..objective.balancer import Context as Context
from ..objective.balancer import TargetStatus as TargetStatus
from ..objective.terms import RateTerm as RateTerm
from ..objective.terms import Stats as Stats
from ..objective.terms import Weights as Weights
from ..objective.terms import rate_term as rate_term
