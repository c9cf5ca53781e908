"""Standardized data: every reported NLL is in the units of the data as given.

The reference is a second model that works on the raw data and is *the same model* written in
raw units: its encoder standardizes its input itself, and its decoder maps the standardized
model's location and log-scale to raw units (loc' = m + s · loc, log σ' = log σ + log s). Both
see the same noise, so the raw model's numbers, computed without any standardization, are what
the standardized evaluation must report: −log p(x) = −log p(y) + Σ_d log s_d.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vaebalance.data import Standardization
from vaebalance.evaluation import evaluate_model
from vaebalance.models import VAE
from vaebalance.objective import likelihoods

D, J, N, FLOOR = 6, 2, 40, likelihoods.LOG_SCALE_FLOOR


class Standardize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x):
        return (x - self.mean) / self.std


class ToRawUnits(nn.Module):
    """[loc, raw log σ] of the standardized model → the same distribution in raw units, for
    the per-element Gaussian whose log σ is softclip(raw) = FLOOR + softplus(raw − FLOOR)."""

    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, out):
        loc, raw = out.chunk(2, dim=1)
        log_sigma = FLOOR + F.softplus(raw - FLOOR) + self.std.log()
        raw_units = FLOOR + torch.log(torch.expm1(log_sigma - FLOOR))  # softclip's inverse
        return torch.cat([self.mean + self.std * loc, raw_units], dim=1)


def models():
    torch.manual_seed(0)
    mean = torch.randn(D) * 5
    std = torch.rand(D) * 20 + 0.05  # log s from about −3 to +3: the sum matters
    encoder, decoder = nn.Linear(D, 2 * J), nn.Linear(J, 2 * D)
    standardized = VAE(encoder, decoder, J)
    raw = VAE(nn.Sequential(Standardize(mean, std), encoder),
              nn.Sequential(decoder, ToRawUnits(mean, std)), J)  # fmt: skip
    return Standardization(mean, std), standardized, raw


@pytest.mark.parametrize("iw_samples", [0, 16])
def test_numbers_are_those_of_the_same_model_on_raw_data(iw_samples):
    st, standardized, raw = models()
    x = st.invert(torch.randn(N, D) * 1.5)  # raw data, far outside [0, 1]
    lik = likelihoods.get("gaussian-perpixel")
    ours = evaluate_model(standardized, lik, st.apply(x), iw_samples=iw_samples, seed=3,
                          standardization=st)  # fmt: skip
    ref = evaluate_model(raw, lik, x, iw_samples=iw_samples, seed=3)
    keys = ["distortion_nats", "neg_elbo_nats", "elbo_nats", "rate_nats", "bits_per_dim",
            "distortion_bits_per_dim", "mse_per_element"]  # fmt: skip
    if iw_samples:
        keys += ["nll_iw_nats", "nll_iw_bits_per_dim"]
    for key in keys:
        assert ours[key] == pytest.approx(ref[key], rel=1e-5, abs=1e-4), key
    assert ours.log_det_nats == pytest.approx(float(st.std.double().log().sum()))
    assert ref.log_det_nats == 0.0
    # The constant is not negligible here, so a missing or halved correction would fail.
    assert abs(ours.log_det_nats) > 1 and math.isfinite(ours.distortion_nats)
