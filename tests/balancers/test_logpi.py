"""The shared controller's error (logpi.outlook) against hand calculations."""

import math

import pytest
import torch

from vaebalance.balancers import logpi

H = 20.0  # the fast average's horizon; the slope is (fast − slow) / (4·H) = (fast − slow) / 80


def outlook(gap, slope, step=600, total=1000, rise_above=False):
    """outlook() for a gap and a slope given directly (log target 0, slow = fast − 80·slope)."""
    fast = torch.tensor(float(gap))
    slow = fast - 4 * H * slope
    left, coming = logpi.outlook(fast, slow, H, 0.0, torch.tensor(step), total, rise_above)
    return float(left), bool(coming)


def test_a_gap_closing_too_slowly_integrates_only_what_the_wait_leaves():
    # wait = ½·(0.9·1000 − 600) = 150 steps (the last tenth is kept for settling); at −0.002
    # per step 0.3 of the gap 0.5 closes
    assert outlook(0.5, -0.002) == (pytest.approx(0.5 - 0.002 * 150), False)
    # unknown run length: the wait is 500 steps
    fast = torch.tensor(0.5)
    left, _ = logpi.outlook(fast, fast + 80 * 0.0005, H, 0.0, torch.tensor(0), None, False)
    assert float(left) == pytest.approx(0.5 - 0.0005 * 500)


def test_a_gap_closing_within_the_wait_is_left_alone():
    assert outlook(0.25, -0.002) == (0.0, True)  # 0.25 < 150·0.002
    assert outlook(-0.25, 0.002) == (0.0, True)


def test_the_error_is_continuous_where_the_wait_starts_to_suffice():
    # the old rule jumped from the whole gap to 0 here; now both sides are near 0
    for gap in (0.3 - 1e-6, 0.3 + 1e-6):
        left, _ = outlook(gap, -0.002)
        assert abs(left) < 1e-5


def test_a_gap_widening_where_beta_must_rise_is_taken_one_slope_window_ahead():
    # GECO: MSE below target (β must rise) and still falling: g + ė·5H = −0.1 − 0.001·100
    assert outlook(-0.1, -0.001) == (pytest.approx(-0.2), False)
    # ControlVAE: KL above target and still growing
    assert outlook(0.1, 0.001, rise_above=True) == (pytest.approx(0.2), False)


def test_a_gap_widening_on_the_other_side_is_taken_as_it_is():
    assert outlook(0.1, 0.001) == (pytest.approx(0.1), False)  # GECO: MSE above, rising
    assert outlook(-0.1, -0.001, rise_above=True) == (pytest.approx(-0.1), False)


def test_in_the_last_tenth_of_the_run_the_whole_gap_counts():
    for step in (900, 1000):
        assert outlook(0.5, -0.002, step=step) == (pytest.approx(0.5), False)


def test_the_step_integrates_the_clamped_error():
    u = torch.tensor(0.0)
    e, pinned = logpi.step(u, torch.tensor(math.log(3.0)), 0.0, 0.1, torch.tensor(2.5), -5, 5)
    assert float(u) == pytest.approx(0.1)  # left clamped to 1
    assert float(e) == pytest.approx(1.0) and not bool(pinned)
    logpi.step(u, torch.tensor(0.2), 0.0, 0.1, torch.tensor(-0.3), -5, 5)
    assert float(u) == pytest.approx(0.1 - 0.03)
