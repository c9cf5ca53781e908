"""The search of ``tune`` against synthetic trade-offs: brute force over many curves and targets.

Each synthetic trade-off is a monotone curve with multiplicative noise drawn once per β (as a
seeded training run would give the same number for the same β), so the search meets the
non-monotone wiggles a real one meets.
"""

import math
import random

import pytest

from vaebalance.errors import UserError
from vaebalance.schema import TuneRow
from vaebalance.sweeps.tune import (
    RATE_FLOOR,
    Target,
    closest,
    first_beta,
    plateau,
    propose,
    round_beta,
)

MSE, PSNR, RATE = "mse_per_element", "psnr_db", "rate_nats"


def search(target, curve, tolerance=0.05, max_runs=6, sigma=1.0):
    """The runs the search makes until one is within tolerance: (evaluations, history)."""
    first, history = first_beta(target, sigma), []
    for n in range(1, max_runs + 1):
        beta = propose(history, target, first)
        history.append((beta, curve(beta)))
        if target.within(history[-1][1], tolerance):
            return n, history
    return None, history


def noisy(curve, sd, seed):
    draws, rng = {}, random.Random(seed)

    def measured(beta):
        if beta not in draws:
            draws[beta] = math.exp(rng.gauss(0, sd))
        return curve(beta) * draws[beta]

    return measured


def power_law(target, slope, offset, floor):
    """MSE(β) = floor·m + k·β^slope, with MSE(β = m) = (offset + floor)·m at the target m."""
    k = offset * target / target**slope
    return lambda beta: floor * target + k * beta**slope


@pytest.mark.parametrize("sd", [0.0, 0.01, 0.02])
def test_mse_targets_are_reached_within_5_percent_in_at_most_six_runs(sd):
    # Slopes d log MSE / d log β from 0.3 to 1.5, the σ-VAE guess off by up to 3× either way,
    # with and without an MSE floor the model cannot go below: 750 curves per noise level.
    failures = []
    for slope in (0.3, 0.5, 0.7, 1.0, 1.5):
        for offset in (1 / 3, 0.5, 1, 2, 3):
            for m in (0.002, 0.005, 0.01, 0.02, 0.05):
                for floor in (0, 0.3):
                    for seed in range(3):
                        curve = noisy(power_law(m, slope, offset, floor), sd, seed)
                        n, history = search(Target(MSE, m), curve)
                        if n is None:
                            failures.append((slope, offset, m, floor, seed, history))
    assert failures == []


def test_the_first_run_is_the_sigma_vae_balance():
    # β·σ² = the target MSE: unit σ gives β = m; σ = 0.1 gives β = m / 0.01.
    assert propose([], Target(MSE, 0.013), first_beta(Target(MSE, 0.013), 1.0)) == 0.013
    assert first_beta(Target(MSE, 0.013), 0.1) == pytest.approx(1.3)
    assert first_beta(Target(PSNR, 20.0), 1.0) == pytest.approx(0.01)  # 20 dB is MSE 0.01
    assert first_beta(Target(MSE, 0.013), None) == 1.0  # no Gaussian σ: start at the ELBO


def test_an_exact_curve_mse_equal_to_beta_is_hit_by_the_first_run():
    n, history = search(Target(MSE, 0.02), lambda beta: beta)
    assert n == 1 and history == [(0.02, 0.02)]


def test_psnr_targets_search_the_same_curve_in_decibels():
    failures = []
    for db in (14.0, 18.0, 22.0, 26.0):
        m = 10 ** (-db / 10)
        for slope in (0.4, 0.8, 1.2):
            for offset in (0.5, 2.0):
                mse = noisy(power_law(m, slope, offset, 0), 0.01, 0)
                n, history = search(Target(PSNR, db), lambda b, f=mse: -10 * math.log10(f(b)), 0.01)
                if n is None:
                    failures.append((db, slope, offset, history))
    assert failures == []


def rate_curve(k_eff, spread):
    """The Gaussian rate–distortion curve read as rate against β: R = (K/2) log(v/β), ≥ 0."""
    return lambda beta: max(k_eff / 2 * math.log(spread / beta), 0.0)


def test_rate_targets_are_reached_including_past_a_collapse():
    failures = []
    for k_eff in (10, 20, 40):
        for spread in (0.03, 0.07, 0.1):
            for rate in (10, 20, 40):
                for seed in range(3):
                    curve = noisy(rate_curve(k_eff, spread), 0.02, seed)
                    n, history = search(Target(RATE, rate), curve)
                    if n is None:
                        failures.append((k_eff, spread, rate, history))
    assert failures == []


def test_a_bracket_keeps_the_next_beta_strictly_inside_it():
    target = Target(MSE, 0.01)
    # Too sharp at β = 0.01, too blurry at 0.1: the next β lies between, away from both ends.
    for low, high in ((0.006, 0.03), (0.009, 0.011), (0.002, 0.5)):
        beta = propose([(0.01, low), (0.1, high)], target, 0.01)
        assert 0.01 * (10**0.1) <= beta * 1.001 and beta <= 0.1 / (10**0.1) * 1.001


def test_a_bracket_broken_by_noise_tries_the_middle():
    # A run below the target at a larger β than one above it: MSE is not monotone here.
    beta = propose([(0.04, 0.0105), (0.05, 0.0095)], Target(MSE, 0.01), 0.04)
    assert beta == round_beta(math.sqrt(0.04 * 0.05))


def test_steps_are_bounded_and_go_the_right_way():
    target = Target(MSE, 0.01)
    far = propose([(0.01, 10.0)], target, 0.01)  # MSE 1000× too high: β must fall, ≤ 30×
    assert far == pytest.approx(0.01 / 30, rel=1e-2)
    assert propose([(0.01, 0.005)], target, 0.01) > 0.01  # too sharp: raise β
    rate = Target(RATE, 20.0)
    assert propose([(0.01, 10.0)], rate, 0.01) < 0.01  # too little rate: lower β
    assert propose([(0.01, 40.0)], rate, 0.01) > 0.01


def test_a_plateau_is_recognised_and_a_moving_curve_is_not():
    target = Target(MSE, 0.01)
    assert plateau([(0.01, 0.05), (0.001, 0.0499)], target)  # 10× less β, MSE stuck at 5×
    assert not plateau([(0.01, 0.05), (0.001, 0.03)], target)
    assert not plateau([(0.01, 0.05), (0.008, 0.0499)], target)  # too close to tell
    assert not plateau([(0.01, 0.005), (0.001, 0.05)], target)  # a bracket
    collapsed = Target(RATE, 20.0)  # collapsed runs may come back at a smaller β
    assert not plateau([(1.0, RATE_FLOOR / 2), (0.1, RATE_FLOOR / 3)], collapsed)


def test_rounding_makes_resumed_proposals_identical():
    history = [(0.013, 0.021), (0.0061, 0.0113)]
    target = Target(MSE, 0.01)
    assert propose(history, target, 0.013) == propose(list(history), target, 0.013)
    assert round_beta(0.0123456) == 0.0123 and round_beta(1e-12) == 1e-8


def test_closest_and_within():
    target = Target(MSE, 0.01)
    rows = [
        TuneRow(run="a", beta=1.0, status="finished", mse_per_element=0.0112),
        TuneRow(run="b", beta=2.0, status="failed"),
        TuneRow(run="c", beta=3.0, status="finished", mse_per_element=0.0093),
    ]
    assert closest(rows, target).run == "c"
    assert target.within(0.0104, 0.05) and not target.within(0.0106, 0.05)
    assert not target.within(None, 0.05) and not target.within(math.nan, 0.05)


@pytest.mark.parametrize(
    "key, value", [(MSE, 0.0), (MSE, -1.0), (RATE, 0.0), (PSNR, math.inf), (MSE, math.nan)]
)
def test_impossible_targets_are_user_errors(key, value):
    with pytest.raises(UserError):
        Target(key, value)


def test_the_chosen_run_is_the_first_within_tolerance_and_the_constraint_is_reported():
    from pathlib import Path

    from vaebalance.sweeps.tuning import TuneResult, choose

    rows = [
        TuneRow(run="a", beta=0.01, status="finished", mse_per_element=0.013, active_units=12),
        TuneRow(run="b", beta=0.02, status="finished", mse_per_element=0.0102, active_units=5,
                within_tolerance=True),
        TuneRow(run="c", beta=0.03, status="finished", mse_per_element=0.0100, active_units=4,
                within_tolerance=True),
    ]  # fmt: skip
    result = TuneResult(Path("t"), Target(MSE, 0.01), 0.05, rows, "reached", 0.01)
    choose(result, min_active_units=8)
    assert result.chosen.run == "b"
    assert len(result.notes) == 1 and "5 active units, fewer than the 8" in result.notes[0]
    choose(result, min_active_units=5)
    assert result.notes == []
    result.rows = rows[:1]  # none within tolerance: the closest
    choose(result, None)
    assert result.chosen.run == "a"
