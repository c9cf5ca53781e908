"""Decoder likelihoods p(x | z): the reconstruction term as a true negative log-likelihood,
summed over the K input elements (see :mod:`.base` for the interface)."""

from __future__ import annotations

from ...errors import check
from ..components import LIKELIHOODS
from .base import LOG_SCALE_FLOOR as LOG_SCALE_FLOOR
from .base import Convention as Convention
from .base import Likelihood as Likelihood
from .base import softclip_below as softclip_below
from .bernoulli import BernoulliLikelihood as BernoulliLikelihood
from .bernoulli import ContinuousBernoulliLikelihood as ContinuousBernoulliLikelihood
from .bernoulli import continuous_bernoulli_mean as continuous_bernoulli_mean
from .scale import GaussianLearnedLikelihood as GaussianLearnedLikelihood
from .scale import GaussianLikelihood as GaussianLikelihood
from .scale import GaussianOptimalLikelihood as GaussianOptimalLikelihood
from .scale import GaussianPerPixelLikelihood as GaussianPerPixelLikelihood
from .scale import LaplaceLikelihood as LaplaceLikelihood

REGISTRY = LIKELIHOODS
for _cls in (
    BernoulliLikelihood,
    ContinuousBernoulliLikelihood,
    GaussianLikelihood,
    GaussianLearnedLikelihood,
    GaussianOptimalLikelihood,
    GaussianPerPixelLikelihood,
    LaplaceLikelihood,
):
    REGISTRY.register(_cls)
names = REGISTRY.names
parameters = REGISTRY.parameters


def get(name: str | Likelihood, **params) -> Likelihood:
    """A likelihood by name, e.g. ``get("gaussian", sigma=0.1)``; an instance passes through."""
    if isinstance(name, Likelihood):
        check(not params, "parameters cannot be given with a likelihood instance")
        return name
    return REGISTRY.create(name, **params)
