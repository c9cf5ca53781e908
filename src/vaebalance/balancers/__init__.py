"""Ways to set the KL weight, as small composable modules implementing the objective's
:class:`~vaebalance.objective.balancer.Balancer` interface (each file: formula, paper, defaults).
"""

from .base import Balancer as Balancer
from .base import Chain as Chain
from .base import Context as Context
from .base import RateTerm as RateTerm
from .base import Stats as Stats
from .base import TargetStatus as TargetStatus
from .base import Weights as Weights
from .capacity import Capacity as Capacity
from .constant import Constant as Constant
from .control import ControlVAE as ControlVAE
from .cyclical import Cyclical as Cyclical
from .dynamic import Dynamic as Dynamic
from .free_bits import FreeBits as FreeBits
from .geco import GECO as GECO
from .registry import chain as chain
from .registry import get as get
from .registry import names as names
from .registry import parameters as parameters
from .warmup import Warmup as Warmup
