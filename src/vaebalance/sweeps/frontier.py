"""The empirical rate–distortion frontier of a set of runs, and its knee.

Each run is a point (R, D): rate R = KL(q(z|x) ‖ p(z)) and distortion D = E_q[−log p(x|z)],
both in nats per example, so −ELBO = R + D and the lines of constant ELBO have slope −1.
No model can beat the true rate–distortion curve; the runs trace an empirical upper bound of
it. Ties everywhere are broken by the points' order (a sweep's grid order), so every answer
here is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]  # (rate, distortion)
# Gains this close are a tie (rounding differs with the order of operations), settled by order.
TIE = 1e-9


def pareto_front(points: Sequence[Point]) -> list[int]:
    """Indices of the non-dominated points, in order of increasing rate.

    Point i is on the front unless some j has R_j ≤ R_i and D_j ≤ D_i with at least one
    inequality strict: then j reconstructs at least as well for at most the same rate. Of two
    identical points only the first is kept.
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1], i))
    front: list[int] = []
    best = float("inf")
    for i in order:
        if points[i][1] < best:
            front.append(i)
            best = points[i][1]
    return front


def knee(points: Sequence[Point]) -> int | None:
    """The index of the frontier's knee, or None when the front has fewer than three points.

    Kneedle's definition (Satopää et al. 2011): scale the Pareto front to the unit square —
    R̂ = (R − R_min)/(R_max − R_min), D̂ likewise, since nats of rate and of distortion
    differ in scale — so its ends sit at (0, 1) and (1, 0). The knee is the point farthest
    below the chord R̂ + D̂ = 1 between the ends, i.e. the one maximising 1 − R̂ − D̂: the
    point where a line of the chord's slope first touches the frontier, past which extra rate
    buys little distortion. A front that bulges nowhere below its chord has no knee (None).
    """
    front = pareto_front(points)
    if len(front) < 3:
        return None
    rates = [points[i][0] for i in front]
    dists = [points[i][1] for i in front]
    r0, r1, d0, d1 = min(rates), max(rates), min(dists), max(dists)
    gains = [1 - (r - r0) / (r1 - r0) - (d - d0) / (d1 - d0) for r, d in zip(rates, dists)]
    best = max(gains)
    if best <= TIE:
        return None
    return min(i for i, g in zip(front, gains) if g >= best - TIE)
