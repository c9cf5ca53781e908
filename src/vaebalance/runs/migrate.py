"""Run directories written by earlier versions, brought up to this version's schema on read.

Before 0.3 there was no validation split: a ``config.json`` without ``data.val_fraction``
trained on the whole training split, so it reads as ``val_fraction = 0``.

0.1 wrote ``metrics.json`` without ``target_status`` (the balancer's verdict on its target)
and without ``decoder_scale_kind``; both are derived from what it did write, so old runs
load, evaluate, diagnose and report like new ones. Nothing is rewritten on disk until the run
is evaluated again.
"""

from __future__ import annotations

from ..objective.components import LIKELIHOODS
from ..schema import RunMetrics

# The target parameter of each controller and the moving average it is compared with.
_TARGETS = {"target_mse": "mse_ma", "target_kl": "kl_ma"}
_MULTIPLIERS = ("beta", "lambda")


def upgrade_config(config):
    """``config.json`` of an older run with the fields it had implicitly made explicit."""
    data = config.get("data") if isinstance(config, dict) else None
    if isinstance(data, dict) and "val_fraction" not in data:
        return {**config, "data": {**data, "val_fraction": 0.0}}
    return config


def upgrade_metrics(metrics: RunMetrics) -> RunMetrics:
    """``metrics`` with the fields this version expects filled in where they are missing."""
    if metrics.target_status is None:
        status = _target_status(metrics.balancer_state, metrics.target_met)
        metrics = metrics.replace(target_status=status)
    if metrics.decoder_scale_kind is None and metrics.likelihood in LIKELIHOODS.names():
        kind = LIKELIHOODS.create(metrics.likelihood).scale_kind  # imports torch: 0.1 runs only
        metrics = metrics.replace(decoder_scale_kind=kind)
    return metrics


def _target_status(state, met) -> dict | None:
    """A 0.1 balancer state as a verdict: what it reached and whether it met its target.

    0.1 did not record whether the multiplier was pinned long enough to call the target
    infeasible, so that is left False; ``met`` is what 0.1 said.
    """
    if not isinstance(state, dict):
        return None
    target = next((k for k in _TARGETS if k in state), None)
    if target is None:
        return None
    multiplier = next((k for k in _MULTIPLIERS if k in state), "beta")
    return {
        "target": target,
        "value": state[target],
        "reached": state.get(_TARGETS[target]),
        "met": met,
        "pinned": bool(state.get("at_clamp_steps")),
        "infeasible": False,
        "multiplier": multiplier,
        "multiplier_value": state.get(multiplier),
    }
