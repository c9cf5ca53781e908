"""The search of ``vaebalance tune``: which β to try next, given the runs so far.

Pure functions of the history of (β, measured value) pairs — no training, no files — so the
search can be tested against synthetic trade-offs and replays exactly when a tune resumes.

**The knob.** β of the constant balancer, ``loss = D + β·R``. Under a Gaussian decoder with a
fixed σ, D = SSE/(2σ²) + const, so ``loss ∝ SSE/2 + β·σ²·R``: the weight on the KL against
half the summed squared error is β·σ². The σ-VAE (Rybkin, Daniilidis & Levine, ICML 2021)
learns σ at β = 1 and finds its optimum where σ² equals the MSE the decoder reaches. Read
backwards, a fixed weight β·σ² = m is the balance a model reaching MSE m would choose for
itself, so **the first β for an MSE target m is m / σ²** (m with unit σ). That is theory, not
a guess, but it assumes the model can reach m at that balance; the search corrects it.

**The steps.** In x = log β the measured quantity y moves monotonically in expectation: y =
log MSE rises with β (more weight on the KL buys less reconstruction); y = R, the rate, falls,
about linearly in log β (the Gaussian rate–distortion curve read as rate against β is
R = (K/2) log(v/β), K components of variance v) down to 0 where the posterior collapses.
Every step is a secant step in (x, y):

- one run: a step along the prior slope (d log MSE / d log β = 1 by the argument above;
  dR / d log β = −R/2, i.e. d log R / d log β = −1/2, that curve at β ≈ v/7);
- no bracket yet: a secant step from the run furthest towards the target, with the slope
  through it and its neighbour kept between a tenth and five times the prior (the prior
  where the secant has the wrong sign); at most a factor of :data:`MAX_FACTOR` in β per step;
- a bracket (runs on both sides of the target, in the right order): the secant through the
  two runs nearest the target where it falls inside the tightest bracket, else regula falsi
  between the bracket's ends, either kept :data:`INTERIOR` of the bracket's width from its
  ends so the bracket keeps shrinking (Dekker's safeguard against the slow one-sided
  convergence of plain regula falsi);
- a broken bracket (training noise made y non-monotone: a run below the target at a larger β
  than one above it): the target lies within the noise there; try the middle.

β is rounded to :data:`DIGITS` significant digits, so run names are short and a resumed
search proposes exactly the β it proposed before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import check
from ..schema import TuneRow

DIGITS = 3
MAX_FACTOR = 30.0  # the largest change of β in one extrapolating step
INTERIOR = 0.1  # regula falsi stays this fraction of the bracket inside it
# A measured slope is kept within [prior/10, prior·5]: flatter is a plateau (step hard, up to
# MAX_FACTOR), steeper is noise between close runs.
SLOPE_RANGE_LOW, SLOPE_RANGE_HIGH = 10.0, 5.0
MIN_BASELINE = 0.1  # runs closer than this in log β give a slope too noisy to use
FLAT_SPAN = 1.3  # runs this far apart in β whose metric moved the wrong way: a flat curve
RATE_FLOOR = 0.1  # nats: a rate this low is a collapsed posterior
BETA_RANGE = (1e-8, 1e8)
PLATEAU_SPAN = 3.0  # runs this far apart in β that move the metric by
PLATEAU_SLOPE = 0.02  # less than this fraction of the prior slope: a plateau

MSE, PSNR, RATE = (TuneRow.key.mse_per_element, TuneRow.key.psnr_db, TuneRow.key.rate_nats)
PRIOR_SLOPE = {MSE: 1.0, PSNR: 1.0, RATE: -0.5}


@dataclass(frozen=True)
class Target:
    """A goal of ``tune``: a metric (a :class:`~vaebalance.schema.TuneRow` field) and a value."""

    key: str
    value: float

    def __post_init__(self):
        check(self.key in PRIOR_SLOPE, f"tune cannot aim at {self.key!r}")
        label = TuneRow.GOALS[self.key]
        check(math.isfinite(self.value), f"the target {label} must be a finite number")
        if self.key != PSNR:
            check(self.value > 0, f"the target {label} must be > 0, got {self.value:g}")

    @property
    def label(self) -> str:
        return TuneRow.GOALS[self.key]

    def search_value(self, measured: float) -> float:
        """y, the quantity the search moves: log MSE (PSNR = −10 log10 MSE), or the rate."""
        if self.key == PSNR:
            return -measured * math.log(10) / 10
        if self.key == RATE:
            return max(measured, 0.0)
        return math.log(max(measured, 1e-30))

    @property
    def direction(self) -> float:
        """+1 where the searched quantity rises with β (MSE), −1 where it falls (rate)."""
        return math.copysign(1.0, PRIOR_SLOPE[self.key])

    def prior_slope(self, y: float) -> float:
        """dy/d log β expected near a run that measured y (see the module docstring)."""
        if self.key == RATE:  # d log R / d log β = −1/2, as dR / d log β at R (≥ the target)
            return PRIOR_SLOPE[RATE] * max(y, self.value)
        return PRIOR_SLOPE[self.key]

    def saturated(self, measured: float) -> bool:
        """A collapsed run (rate at the floor): it bounds the search but shows no slope."""
        return self.key == RATE and measured <= RATE_FLOOR

    def relative_error(self, measured: float) -> float:
        """(measured − target) / |target|, in the metric's own units."""
        return (measured - self.value) / abs(self.value)

    def within(self, measured: float | None, tolerance: float) -> bool:
        if measured is None or not math.isfinite(measured):
            return False
        return abs(self.relative_error(measured)) <= tolerance


def round_beta(beta: float) -> float:
    """β to :data:`DIGITS` significant digits, inside :data:`BETA_RANGE`."""
    beta = min(max(beta, BETA_RANGE[0]), BETA_RANGE[1])
    return float(f"{beta:.{DIGITS - 1}e}")


def first_beta(target: Target, sigma: float | None) -> float:
    """The σ-VAE's balance for the target: β·σ² = the target MSE (see the module docstring).

    ``sigma`` is the fixed σ of a Gaussian decoder, or None for any other likelihood, where
    no such reading exists and the search starts from the ELBO, β = 1. A rate target has no
    MSE to read; it starts where the MSE would be 0.01 (20 dB on data in [0, 1]).
    """
    if sigma is None:
        return 1.0
    mse = {MSE: target.value, PSNR: 10 ** (-target.value / 10)}.get(target.key, 0.01)
    return round_beta(mse / sigma**2)


def propose(history: Sequence[tuple[float, float]], target: Target, first: float) -> float:
    """The next β, given the runs so far as (β, measured value of ``target.key``) pairs."""
    if not history:
        return round_beta(first)
    y_star = target.search_value(target.value)
    points = [(math.log(b), target.search_value(v), target.saturated(v)) for b, v in history]
    sign = target.direction
    short = [p for p in points if sign * (p[1] - y_star) < 0]  # β too small: go up
    beyond = [p for p in points if sign * (p[1] - y_star) > 0]  # β too large: go down
    if short and beyond:
        x = _within_bracket(points, short, beyond, y_star, sign)
    else:
        x = _extrapolate(points, y_star, target)
    return round_beta(math.exp(x))


def _within_bracket(points, short, beyond, y_star: float, prior: float) -> float:
    """A secant step kept inside the tightest bracket (Dekker's safeguard); regula falsi
    between the bracket's ends where the secant leaves it; the middle where noise broke
    monotonicity.

    The secant through the two runs nearest the target follows the curve where it bends
    (a collapsed run, its rate at the floor, at one end of a bracket would drag plain
    regula falsi to the other end for many steps); the bracket keeps it honest.
    """
    lo = max(short, key=lambda p: p[0])  # the largest β still too small
    hi = min(beyond, key=lambda p: p[0])  # the smallest β already too large
    if hi[0] <= lo[0]:  # non-monotone: the target is within the noise here
        return (lo[0] + hi[0]) / 2
    margin = INTERIOR * (hi[0] - lo[0])
    a, b = lo[0] + margin, hi[0] - margin
    near = sorted((p for p in points if not p[2]), key=lambda p: abs(p[1] - y_star))[:2]
    if len(near) == 2 and near[0][0] != near[1][0]:
        slope = (near[0][1] - near[1][1]) / (near[0][0] - near[1][0])
        if slope * prior > 0:
            x = near[0][0] + (y_star - near[0][1]) / slope
            if a <= x <= b:
                return x
    if lo[2] or hi[2]:  # a collapsed end has no slope to interpolate: bisect
        return (lo[0] + hi[0]) / 2
    x = lo[0] + (y_star - lo[1]) * (hi[0] - lo[0]) / (hi[1] - lo[1])
    return min(max(x, a), b)


def _extrapolate(points, y_star: float, target: Target) -> float:
    """A secant step from the run furthest towards the target, all runs being on one side.

    Under noise the run furthest along in β is the safe base: stepping from any other could
    propose a β already tried. The slope is the secant through the two furthest runs (or the
    widest pair where those two are too close to tell a slope from noise), kept between a
    tenth and five times the prior; a tenth of it where the secant has the wrong sign over
    a factor :data:`FLAT_SPAN` in β (the change is below the noise: the curve is flat there),
    the prior over a narrower one.
    """
    up = (y_star - points[0][1]) * target.direction > 0  # the direction of travel in x
    ordered = sorted(points, key=lambda p: p[0], reverse=up)
    base = ordered[0]
    prior = target.prior_slope(base[1])
    ordered = [base] + [p for p in ordered[1:] if not p[2]]  # a collapsed run tells no slope
    slope = prior
    if len(ordered) >= 2 and not base[2]:
        other = ordered[1] if abs(ordered[1][0] - base[0]) >= MIN_BASELINE else ordered[-1]
        if abs(other[0] - base[0]) >= MIN_BASELINE:
            measured = (base[1] - other[1]) / (base[0] - other[0])
            # The wrong sign over a wide baseline: noise larger than the change, i.e. flat.
            low, high = sorted((prior / SLOPE_RANGE_LOW, prior * SLOPE_RANGE_HIGH))
            if measured * prior > 0:
                slope = min(max(measured, low), high)
            elif abs(other[0] - base[0]) >= math.log(FLAT_SPAN):
                slope = low
    step = (y_star - base[1]) / slope
    limit = math.log(MAX_FACTOR)
    return base[0] + min(max(step, -limit), limit)


def plateau(history: Sequence[tuple[float, float]], target: Target) -> bool:
    """Whether the target lies beyond a plateau: all runs on one side of it, and the two
    furthest towards it, at least a factor :data:`PLATEAU_SPAN` apart in β, differ by less
    than :data:`PLATEAU_SLOPE` of the prior slope — the metric no longer follows β there
    (a model at its capacity, or a posterior that cannot carry more), so more runs along
    this direction would be wasted."""
    if len(history) < 2:
        return False
    y_star = target.search_value(target.value)
    points = [(math.log(b), target.search_value(v)) for b, v in history]
    sides = {math.copysign(1.0, target.direction * (p[1] - y_star)) for p in points}
    if len(sides) > 1:
        return False
    up = (y_star - points[0][1]) * target.direction > 0
    base, other = sorted(points, key=lambda p: p[0], reverse=up)[:2]
    if target.saturated(history[points.index(base)][1]):
        return False  # a collapsed run may come back at a smaller β
    if abs(base[0] - other[0]) < math.log(PLATEAU_SPAN):
        return False
    slope = (base[1] - other[1]) / (base[0] - other[0])
    return slope / target.prior_slope(base[1]) < PLATEAU_SLOPE


def closest(rows: Sequence[TuneRow], target: Target) -> TuneRow | None:
    """The finished run nearest the target (the earlier of a tie), or None."""
    measured = [r for r in rows if r.finished and _finite(r[target.key])]
    if not measured:
        return None
    return min(measured, key=lambda r: abs(target.relative_error(r[target.key])))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
