"""The Bernoulli family on logits: the Bernoulli (binary data) and the continuous Bernoulli."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.distributions import Bernoulli, ContinuousBernoulli, Independent

from .base import Convention, Likelihood, sum_event


class BernoulliLikelihood(Likelihood):
    """Bernoulli on logits: ``nll = Σ_k BCE(logit_k, x_k)``, computed without a sigmoid.

    For x in (0, 1) this is the cross-entropy, not a normalized density: see
    :class:`ContinuousBernoulliLikelihood` (Loaiza-Ganem & Cunningham 2019).
    """

    name = "bernoulli"
    data_in_unit_interval = True
    discrete = True

    def _nll(self, x, output):
        return sum_event(F.binary_cross_entropy_with_logits(output, x, reduction="none"))

    def mean(self, output):
        return torch.sigmoid(output)

    def distribution(self, output):
        return Independent(Bernoulli(logits=output, validate_args=False), output.dim() - 1)

    def convention(self):
        return Convention("bce", 1.0)


def _cb_log_norm(eta: Tensor) -> Tensor:
    """log C(λ) of the continuous Bernoulli, written in the logit η = log(λ / (1 − λ)).

    C(λ) = 2 atanh(1 − 2λ) / (1 − 2λ) = η / tanh(η / 2) because 1 − 2λ = −tanh(η / 2).
    Away from 0: log|η| − log(1 − e^{−|η|}) + log(1 + e^{−|η|}), stable for any |η|.
    Near 0 (λ ≈ ½), Taylor in u = η/2: log 2 + u²/3 − 7u⁴/90 (next term O(u⁶) < 1e-14).
    The ``where`` feeds each branch only inputs it is safe for, so gradients stay finite.
    """
    a = eta.abs()
    near = a < 1e-2
    a_far = torch.where(near, torch.ones_like(a), a)
    far = torch.log(a_far) - torch.log(-torch.expm1(-a_far)) + torch.log1p(torch.exp(-a_far))
    u2 = (torch.where(near, eta, torch.zeros_like(eta)) / 2) ** 2
    taylor = math.log(2.0) + u2 / 3 - 7 * u2 * u2 / 90
    return torch.where(near, taylor, far)


def continuous_bernoulli_mean(eta: Tensor) -> Tensor:
    """E[x] = λ / (2λ − 1) + 1 / (2 atanh(1 − 2λ)) = σ(η) / tanh(η/2) − 1/η; ½ + η/12 near 0."""
    near = eta.abs() < 1e-2
    eta_far = torch.where(near, torch.ones_like(eta), eta)
    far = torch.sigmoid(eta_far) / torch.tanh(eta_far / 2) - 1 / eta_far
    return torch.where(near, 0.5 + eta / 12, far)


class ContinuousBernoulliLikelihood(BernoulliLikelihood):
    """Continuous Bernoulli (Loaiza-Ganem & Cunningham, NeurIPS 2019), a density on [0, 1].

    ``nll = Σ_k [BCE(η_k, x_k) − log C(λ_k)]``; reconstructions use the CB mean, not λ. A
    weight written against the summed BCE keeps its meaning against this NLL (the normalizer
    is what BCE on grey values leaves out), so its convention is still BCE's.
    """

    name = "continuous-bernoulli"
    discrete = False

    def _nll(self, x, output):
        bce = F.binary_cross_entropy_with_logits(output, x, reduction="none")
        return sum_event(bce - _cb_log_norm(output))

    def mean(self, output):
        return continuous_bernoulli_mean(output)

    def distribution(self, output):
        cb = ContinuousBernoulli(logits=output, validate_args=False)
        return Independent(cb, output.dim() - 1)
