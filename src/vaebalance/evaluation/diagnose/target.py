"""The check of ``diagnose`` on a balancer's target: infeasible, as the balancer itself judged.

Whether a target is out of reach is decided in one place, the balancer's
:meth:`~vaebalance.objective.balancer.Balancer.status` (its multiplier pinned at a bound while
the error stops shrinking); runs record it in ``metrics.json`` as ``target_status`` and this
check reads it.
"""

from __future__ import annotations

from ...schema import evidence
from .facts import Facts, number
from .verdict import Verdict

# The parameters that state a controller's target: GECO's MSE and ControlVAE's KL.
TARGETS = ("target_mse", "target_kl")


def infeasible_target(f: Facts) -> Verdict | None:
    status = f.status or {}
    said_unmet = f.metrics.target_met is False
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
    return Verdict(
        "infeasible-target", "problem", "infeasible balancer target", message,
        _feasible_target_option(f, target), numbers,
    )  # fmt: skip


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
