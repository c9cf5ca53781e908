"""The controller GECO and ControlVAE share by default: an integral step on a log multiplier
driven by a relative error, that waits while the model closes the gap on its own, and the one
verdict "out of reach" both give.

Why these choices (the maths behind the defaults):

- **Relative error in log units.** ``e = clamp(log(x̂ / target), −1, 1)`` with x̂ the smoothed
  measurement (MSE per element for GECO, KL in nats for ControlVAE). It has no units, so one
  gain fits an MSE of 1e-3 and a KL of 100 nats alike; it is symmetric (twice too high and twice
  too low weigh the same, which GECO's ``mse/target − 1`` is not); near the target it is the
  relative error (log(1 + r) ≈ r). The clamp bounds the step far from the target, so a
  collapsed KL (log 0 = −∞) moves β at a finite speed.
- **Log multiplier.** Rate and distortion respond to β roughly as powers of β (β is the slope of
  the rate–distortion curve), so log x is near-linear in log β. A step in log β keeps β > 0 and
  moves it by the same factor at 1e-3 and at 1e3, so a wide range ([1e-4, 1e4]) costs only a
  few more steps, and GECO's multiplicative update (Algorithm 1) is this step.
- **Integral gain from the loop, not from the run.** ``u ← u + ki·e``: the integral removes any
  constant error, and a model that keeps learning moves the β it needs at some rate r, which an
  integral loop follows with an error r/ki — so ki is as large as stability allows. A VAE
  under Adam follows a new β with a lag of a few hundred steps and an elasticity |d log x /
  d log β| of ⅓ to 1; ki = 0.02 gives a loop time constant of 50–150 steps, kept from ringing
  by the wait below. Runs longer than 5000 steps drift more slowly per step, so ki shrinks
  there as 5000/T and the batch noise stays averaged out.
- **Faster towards larger β** (GENESIS's ``speedup``, Engelcke et al. 2020, here 4). A model
  that keeps learning needs an ever larger β for the same MSE or KL (a better model can
  afford more compression), so the lag error r/ki always lies on the side where β must rise;
  and a network gives up information faster than it learns it, so that side also answers
  faster. ki × 4 on that side cuts the lag error by 4.
- **Waiting while the model closes the gap itself.** Early in a run the error is large because
  the network is untrained, not because β is wrong; integrating it winds the multiplier down
  while lowering it cannot help (the MSE is learning-limited), and it must then climb back
  for the rest of the run. So the integral acts on the gap *left after a wait* at the present
  pace (:func:`outlook`): ``left = g + ė·w`` while the gap g closes, 0 once the model would
  close it within the wait w = ½·(0.9·T − t) (the last tenth of the run is kept for the
  controller to settle; 500 steps stand for the wait when T is unknown). ``left`` is
  continuous: a projection that falls short by 1% of the gap moves β 1% as much as the gap, where an
  on/off wait integrated the whole clamped gap whenever the slope's noise flipped it. The
  slope ė = d log x̂/dt comes from a 20- and a 100-step moving average of log x, whose
  difference is ė·80 on a linear trend. This is the conditional integration of process
  control: a derivative action that acts only when it helps.
- **Anticipating the model's drift.** Where β must rise and the gap still widens (GECO: MSE
  below target and falling; ControlVAE: KL above target and growing), the widening is the
  model's own learning, which goes on: the integral acts on the gap one slope window (5h =
  100 steps) ahead, ``g + ė·5h``, so β climbs back from an undershoot at the pace the model
  drifts. On the other side a widening gap is the lagged answer to the controller's own rise
  of β, which stops by itself, and counts as it is.

Out of reach ("infeasible") needs both, for :meth:`Balancer.patience` consecutive steps (a
tenth of the run, ≥ 20): the multiplier pinned at a bound, and the error not shrinking — not
closing on its own by the rule above (an error that shrinks too slowly to close within the
wait has, for this run, stopped shrinking). The first transient (a multiplier
that reached a bound on its way, an error still falling) never counts.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

E_MAX = 1.0  # the clamp on the log relative error
KI = 0.02  # integral gain per step on log β per unit of log error (runs up to LONG_RUN steps)
SPEEDUP = 4.0  # the factor on ki in the direction that raises β
LONG_RUN = 5000  # steps beyond which ki shrinks as 1/T
FAST = 20  # default horizon (steps) of the measurement's moving average, α = 1 − 1/20
SLOW_OVER_FAST = 5  # the second average, for the slope, is five times slower
WAIT = 0.5  # the fraction of the remaining run the model may take to close the gap itself
WAIT_UNKNOWN = 500  # the wait in steps when the run's length is unknown
SETTLE = 0.1  # the last fraction of the run, kept for the controller to settle


def default_ki(total_steps: int | None) -> float:
    """The integral gain for a run of ``total_steps`` (unknown: as for a short run)."""
    return KI * min(1.0, LONG_RUN / total_steps) if total_steps else KI


def log_of(x: Tensor) -> Tensor:
    """log x with 0, ∞ and NaN made finite (NaN → 0, which only the caller's average sees)."""
    return torch.nan_to_num(torch.log(x.clamp(1e-30, 1e30)), nan=0.0)


def horizon(alpha: float | None) -> float:
    """The moving average's horizon 1/(1 − α) in steps (α None: the default, 20 steps)."""
    return FAST if alpha is None else 1.0 / (1.0 - alpha)


def average(fast: Tensor, slow: Tensor, log_x: Tensor, first: Tensor, h: float) -> None:
    """Update the h- and 5h-step moving averages of log x in place (the first step sets)."""
    for buf, n in ((fast, h), (slow, SLOW_OVER_FAST * h)):
        a = 1.0 - 1.0 / n
        buf.copy_(torch.where(first, log_x, a * buf + (1 - a) * log_x))


def slope_of(fast: Tensor, slow: Tensor, h: float) -> Tensor:
    """ė = d log x/dt per step, from the h- and 5h-step averages of log x, whose difference is
    ė·4h on a linear trend."""
    return (fast - slow) / ((SLOW_OVER_FAST - 1) * h)


def outlook(fast, slow, h, log_target, step_index, total_steps, rise_above: bool):
    """(left, coming): the error the integral acts on, and whether the gap closes on its own.

    With gap g = log x̂ − log target, slope ė (:func:`slope_of`) and the wait
    w = :data:`WAIT`·((1 − :data:`SETTLE`)·T − t), ≥ 0 (:data:`WAIT_UNKNOWN` steps when T is
    unknown):

    - the gap closes (g·ė < 0): ``left = g + ė·w``, what would remain after the wait at the
      present pace, or 0 once that reaches the target (``coming``: |g| < w·|ė|);
    - the gap widens on the side where β must rise (g > 0 when ``rise_above``, ControlVAE;
      g < 0 otherwise, GECO): ``left = g + ė·5h``, the gap one slope window ahead. There the
      widening is the model's own learning, which goes on;
    - it widens on the other side: ``left = g``. There it is the lagged answer to the
      controller's own last rise of β, which stops by itself.

    ``left`` has the sign of g, is continuous in g and ė while the gap closes, and is g there
    in the last tenth of the run."""
    gap = fast - log_target
    slope = slope_of(fast, slow, h)
    if total_steps:
        wait = (WAIT * ((1 - SETTLE) * total_steps - step_index).clamp(min=0)).to(gap)
    else:
        wait = torch.full_like(gap, float(WAIT_UNKNOWN))
    towards = gap * slope < 0
    coming = towards & (gap.abs() < wait * slope.abs())
    rising = gap > 0 if rise_above else gap < 0
    window = torch.where(rising, SLOW_OVER_FAST * h, 0.0).to(gap)
    ahead = gap + slope * torch.where(towards, wait, window)
    left = torch.where(coming, torch.zeros_like(gap), ahead)
    return left, coming


def step(u, fast, log_target, ki, left, lo, hi, kp=0.0, e_prev=None):
    """One step of the multiplier ``u`` (log λ for GECO, log β for ControlVAE), in place:
    ``u ← clamp(u + ki·clamp(left, ±1) + kp·(e − e_prev), lo, hi)`` with ``left`` the error
    of :func:`outlook` and e = clamp(log x̂ − log target, ±1). Returns (e, pinned): pinned when
    the unclamped value leaves [lo, hi] or sits on a bound."""
    e = (fast - log_target).clamp(-E_MAX, E_MAX)
    raw = u + ki * left.clamp(-E_MAX, E_MAX)
    if kp and e_prev is not None:
        raw = raw + kp * (e - e_prev)
    u.copy_(raw.clamp(lo, hi))
    return e, (raw <= lo) | (raw >= hi)


def count_stall(stalled: Tensor, pinned: Tensor, coming: Tensor) -> None:
    """In place: consecutive steps with the multiplier pinned and the gap not closing on its
    own; the target is out of reach once this reaches the balancer's patience."""
    stalled.copy_(torch.where(pinned & ~coming, stalled + 1, torch.zeros_like(stalled)))


def bounds(lo: float, hi: float) -> tuple[float, float]:
    return math.log(lo), math.log(hi)
