"""The check of ``diagnose`` on a balancer's target: infeasible, as the balancer itself judged.

Whether a target is out of reach is decided in one place, the balancer's
:meth:`~vaebalance.objective.balancer.Balancer.status` (its multiplier pinned at a bound while
the error stops shrinking); runs record it in ``metrics.json`` as ``target_status`` and this
check reads it.
"""

from __future__ import annotations

import math

from ...schema import evidence
from .facts import Facts, lookup, number
from .fixes import fix_args
from .verdict import Verdict

# The parameters that state a controller's target: GECO's MSE and ControlVAE's KL.
TARGETS = ("target_mse", "target_kl")


def infeasible_target(f: Facts) -> Verdict | None:
    status = f.status or {}
    said_unmet = f.metrics.target_met is False
    if status.get("target") and not status.get("infeasible"):
        return None  # judged by the balancer: reached, or still on its way (target_not_reached)
    if not (status.get("infeasible") or said_unmet):
        return None
    target, value = _target(f, status)
    reasons = []
    if status.get("infeasible"):
        reasons.append(
            f"its {status.get('multiplier', 'weight')} sat at a bound "
            f"({number(status.get('multiplier_value')):.4g}, pinned) while the error stopped "
            "shrinking"
        )
    if said_unmet:
        reasons.append("the balancer reports its target was not met")
    named = f" (target: {target} = {value:.4g})" if target and value is not None else ""
    message = (
        "The balancer's target looks infeasible for this model and data: "
        + " and ".join(reasons)
        + named
        + ". A controller cannot reach a target the model cannot; it drives the weight to its "
        "bound instead."
    )
    numbers = evidence(target_met=f.metrics.target_met, rate_nats=f.rate,
                       mse_per_element=f.mse, target_status=status or None)  # fmt: skip
    fix = fix_args(f, _feasible(f, target, status))
    option = " ".join(fix) or _feasible_target_option(f, target)
    return Verdict("infeasible-target", "problem", "infeasible balancer target", message,
                   option, numbers, fix)  # fmt: skip


def target_not_reached(f: Facts) -> Verdict | None:
    """A controller that has not met its target but is not stuck either: it needs more steps."""
    status = f.status or {}
    if not status.get("target") or status.get("infeasible") or status.get("met") is not False:
        return None
    epochs = f.epochs
    message = (
        f"The balancer has not reached its target yet ({status['target']} = "
        f"{number(status.get('value')):.4g}, reached {_fmt(status.get('reached'))}), and its "
        f"{status.get('multiplier', 'weight')} is still moving: the run ended while the "
        "controller was converging. More steps will reach it."
    )
    fix = fix_args(f, {"train.epochs": 2 * epochs}) if epochs else ()
    numbers = evidence(target_status=status, epochs=epochs)
    return Verdict("target-not-reached", "warning", "target not reached yet", message,
                   " ".join(fix) or "train longer", numbers, fix)  # fmt: skip


def _feasible(f: Facts, target: str | None, status: dict) -> dict[str, object]:
    """A reachable goal: a wider β range when ControlVAE's β sits at its ceiling short of a
    rate target (more weight would get there), else a target the run did reach."""
    beta_max = number(lookup(f.config, "balancer.beta_max"))
    at_ceiling = beta_max is not None and number(status.get("multiplier_value")) == beta_max
    if target == "target_kl" and at_ceiling and f.rate is not None and f.rate > status["value"]:
        return {"balancer.beta_max": 10 * beta_max}
    if target == "target_kl" and f.rate is not None:
        return {"balancer.target_kl": f.rate}
    reached = number(status.get("reached")) or f.step_mse or f.mse
    if target == "target_mse" and reached is not None:
        return {"balancer.target_mse": 1.2 * reached}
    return {}


def _fmt(value) -> str:
    v = number(value)
    return "?" if v is None else f"{v:.4g}"


def _target(f: Facts, status: dict) -> tuple[str | None, float | None]:
    """The target's name and value: from the status, else from the config or hand-made metrics."""
    if status.get("target"):
        return status["target"], number(status.get("value"))
    config = f.config.get("balancer") if isinstance(f.config.get("balancer"), dict) else {}
    for source in (f.metrics.extra, config, f.config):
        for key, value in source.items():
            name = key.rsplit(".", 1)[-1]
            if name in TARGETS and number(value) is not None:
                return name, number(value)
    return None, None


def _feasible_target_option(f: Facts, target: str | None) -> str:
    if target == "target_kl" and f.rate is not None:
        return f"--set balancer.target_kl={f.rate:.3g} (the rate this run reached)"
    if target == "target_mse" and f.mse is not None:
        return f"--set balancer.target_mse={1.2 * f.mse:.3g} (20% above the MSE this run reached)"
    return "set a balancer target the model reaches (the achieved rate or MSE is a safe start)"


def schedule_unfinished(f: Facts) -> Verdict | None:
    """A warm-up, cyclical schedule, rising capacity or target that the run ended before
    completing: β (or C, or the target) never reached the value the run was configured for."""
    completed = number(f.metrics.schedule_completed)
    steps = number(f.metrics.schedule_steps)
    if completed is None or completed >= 1 or not steps:
        return None
    message = (
        f"The balancer's schedule ({f.balancer}) takes {int(steps)} steps, and the run ended "
        f"{100 * completed:.0f}% of the way through it: its final β (or capacity, or target) "
        "was never reached, so the run trained a different objective than configured."
    )
    fix = ()
    if f.epochs:
        fix = fix_args(f, {"train.epochs": math.ceil(f.epochs / max(completed, 1e-9))})
    numbers = evidence(schedule_steps=int(steps), schedule_completed=completed, epochs=f.epochs)
    return Verdict("schedule-unfinished", "warning", "schedule unfinished", message,
                   " ".join(fix) or "train longer or shorten the schedule", numbers, fix)  # fmt: skip
