"""Public name for the decoder likelihoods: ``vaebalance.likelihoods.get(name, **params)``."""

from .objective.likelihoods import Likelihood as Likelihood
from .objective.likelihoods import get as get
from .objective.likelihoods import names as names
from .objective.likelihoods import parameters as parameters
