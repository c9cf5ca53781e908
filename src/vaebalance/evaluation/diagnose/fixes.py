"""Fixes a user can apply as they are: arguments for ``vaebalance train --from RUN``.

Each is built from the run's own numbers (a GECO target relative to the MSE the run reached, a
KL target relative to its rate, a latent size from its active units), then checked the way
``--from`` applies it (:func:`vaebalance.config.derive` on the run's config): a fix the CLI
would refuse, or one that changes nothing, is never offered.

The two directions of the trade-off, for any balancer:

- *more structure* (a rate too high for the prior to shape the codes): first the rate that
  is pure slack — codes whose mean and spread sit off the prior's cost their moment KL, which
  an affine change of the code the model absorbs removes exactly (``train.standardize_codes``);
  then a fixed β below 1 back to 1, a fixed β ≥ 1 doubled; under a controller,
  reconstructions a little worse than the run reached — a GECO MSE target twice the reached
  MSE, so the multiplier raises β until the code is as compressed as that allows;
- *more information* (a rate too low: collapse, a dominating KL): the opposite — half the MSE
  under GECO, or a rate target above the reached one under ControlVAE.
"""

from __future__ import annotations

from ...config import derive
from ...errors import UserError
from .facts import Facts, lookup, number

LOOSER, TIGHTER = 2.0, 0.5  # GECO target relative to the MSE reached


def fix_args(f: Facts, changes: dict[str, object]) -> tuple[str, ...]:
    """``--set key=value`` arguments for ``changes``, or () if they would be refused or would
    change nothing in the run's config."""
    items = [f"{key}={_text(value)}" for key, value in changes.items()]
    base = f.run_config
    if base is None:  # hand-made metrics without a config: nothing to check against
        return _args(items)
    try:
        changed = derive(base, items)
    except UserError:
        return ()
    return _args(items) if changed != base else ()


def more_structure(f: Facts) -> dict[str, object]:
    if moment_slack(f):
        return {"train.standardize_codes": True}
    mse = _controlled_mse(f)
    if f.uses("geco") and mse:
        target = number(lookup(f.config, "balancer.target_mse"))
        if target is not None and target >= 0.95 * LOOSER * mse and f.epochs:
            return {"train.epochs": 2 * f.epochs}  # already loose: GECO has not got there yet
        return {"balancer.target_mse": LOOSER * mse}
    if f.balancer == "constant" and f.beta is not None:
        # One step along the trade-off in the run's own units. A GECO target twice the MSE
        # instead can cost far more than it says where most of the error is easy to explain
        # (64×64 sprites on coloured backgrounds: 2 of 16 units left, −2.4 dB; β = 2 kept
        # the PSNR and took the prior mismatch from 0.83 to 0.57 nats per dim).
        return {"balancer.beta": 1 if f.beta < 1 else 2 * f.beta}
    if mse:
        return {"balancer.name": "geco", "balancer.target_mse": LOOSER * mse}
    return {"balancer.name": "control", "balancer.target_kl": max(1.0, 0.5 * (f.rate or 0))}


def moment_slack(f: Facts) -> bool:
    """Whether the codes' moment KL is rate the run can drop for nothing: an affine change of
    the code (``train.standardize_codes``, :mod:`vaebalance.models.codes`) removes exactly it
    and changes no reconstruction, at any β. Not offered below β = 1 under a fixed β, where the
    weight itself is the fault (the codes spread because the rate is nearly free, and moving
    them would hide that behind a bound that no longer sees it)."""
    if f.moment_kl is None or f.codes_standardized:
        return False
    return not (f.balancer == "constant" and f.beta is not None and f.beta < 1)


def more_information(f: Facts) -> dict[str, object]:
    if f.balancer == "constant" and f.beta is not None and f.beta > 1:
        return {"balancer.beta": 1}
    if f.scale_kind == "fixed":
        return {"likelihood.name": "gaussian-learned"}
    if f.uses("geco") and _controlled_mse(f):
        return {"balancer.target_mse": TIGHTER * _controlled_mse(f)}
    target = max(f.suggested_target_kl(), round(2 * (f.rate or 0), 1))
    if f.uses("control"):
        return {"balancer.target_kl": target}
    return {"balancer.name": "control", "balancer.target_kl": target}


def _controlled_mse(f: Facts) -> float | None:
    """The MSE GECO compares with its target: of reconstructions from sampled z in training,
    higher than the test MSE of the posterior mean; a target set from the latter could sit
    below what GECO measures and push β the wrong way."""
    return f.step_mse or f.mse


def _args(items: list[str]) -> tuple[str, ...]:
    return tuple(arg for item in items for arg in ("--set", item))


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as --set parses it (JSON)
    return f"{value:.3g}" if isinstance(value, float) else str(value)
