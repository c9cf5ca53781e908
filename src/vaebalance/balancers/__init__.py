"""Ways to set the KL weight, as small composable modules (see :mod:`.base`)."""

from .base import Balancer as Balancer
from .base import Chain as Chain
from .base import Context as Context
from .base import Stats as Stats
from .base import Weights as Weights
from .constant import Constant as Constant
from .registry import get as get
from .registry import names as names
from .registry import parameters as parameters
