"""The checks of ``diagnose`` on the balance itself: collapse, KL domination, an ignored KL,
unused latent dims, and the healthy case.

Each check looks at a few numbers (:class:`.facts.Facts`) and returns a :class:`.verdict.Verdict`
or None. The thresholds are module constants with their reasons next to them. They are rules
of thumb for images and tables in [0, 1], not laws: every verdict carries the numbers it was
decided on so a reader can disagree.
"""

from __future__ import annotations

import math

from ...schema import evidence
from .facts import Facts, number
from .fixes import fix_args, more_information, more_structure
from .verdict import Severity, Verdict

# Posterior collapse: with under 0.1 nats (0.14 bits) per example the code cannot tell even two
# groups of examples apart reliably; I(x; z) below 0.05 nats says the same from the
# aggregate-posterior side. No active unit at all is collapse whatever the KL (the KL is then
# spent on posterior variances that ignore x).
COLLAPSE_RATE_NATS = 0.1
COLLAPSE_MI_NATS = 0.05
# KL domination under a probability mass (−ELBO a code length, zero fixed): the rate is under 2%
# of −ELBO (a healthy Bernoulli VAE on MNIST-like data spends 5–15%), and the reconstructions are
# poor: PSNR under 20 dB, i.e. an MSE above 0.01 per element for data in [0, 1] — visibly
# blurry. A β above 1 is evidence on its own.
DOMINATION_RATE_FRACTION = 0.02
# Under a density, whose −ELBO moves by K·log c when the data are scaled by c (so a share of it
# says nothing: one σ-VAE's rate on 64×64 RGB shapes was 3.7% of it, and 1.9% once 18 nats of
# free slack were dropped with nothing reconstructed differently), the KL dominates when it
# weighs more than the ELBO's own weight (1).
OVERWEIGHT = 1.0
POOR_PSNR_DB = 20.0
# KL ignored: the aggregate posterior q(z) sits far from the prior, more than 2 nats per latent
# dim of KL(q(z) ‖ p(z)) (a β = 1 VAE here measures well under 1 per dim): the decoder is fed
# codes the prior never produces, so samples from the prior do not look like the data.
IGNORED_AGGREGATE_KL_PER_DIM = 2.0
# The same from the aggregate posterior's mean and variance (a lower bound, reliable at any N):
# 0.5 nats in a dim is a spread of about 3.2 times the prior's variance, or a mean offset of
# one prior standard deviation. Measured: β = 1 on digits 0.02 per dim; β = 0.001 there, or
# a σ-VAE on 64×64 RGB shapes, 1.5.
IGNORED_MOMENT_KL_PER_DIM = 0.5
# The held-out moment KL "still falling" at the end of a run: down by over a fifth across its
# second half (epoch-to-epoch noise on 40 held-out 64×64 images was up to a tenth of it).
FALLING = 0.8
# An I(x; z) estimate this close to its ceiling log N measures N, not the model.
SATURATED = 0.95
# Unused latent budget: at least half of the dims (and at least two) inactive, while the
# active ones carry 90% of the rate: the model needs fewer dims, or β keeps the rest shut.
UNUSED_FRACTION = 0.5
CARRIED_FRACTION = 0.9


def collapse(f: Facts) -> Verdict | None:
    no_units = f.au is not None and f.au == 0
    no_rate = f.rate is not None and f.rate < COLLAPSE_RATE_NATS
    no_info = f.mi is None or f.mi < COLLAPSE_MI_NATS
    if not (no_units or (no_rate and no_info)):
        return None
    parts = []
    if f.au is not None:
        parts.append(f"{int(f.au)} of {_int(f.latent_dim)} latent units are active")
    if f.rate is not None:
        parts.append(f"the rate is {f.rate:.3g} nats/example")
    if f.mi is not None:
        parts.append(f"I(x; z) ≈ {f.mi:.3g} nats")
    message = (
        "Posterior collapse: the code carries almost no information about x ("
        + ", ".join(parts)
        + "). The decoder models the data on its own and ignores z."
    )
    if f.beta is not None and f.beta > 1:
        message += f" The KL weight β = {f.beta:.3g} > 1 pushes the rate to zero."
        option = f"lower balancer.beta (now {f.beta:.3g}) to 1 or below"
    else:
        message += " Set a rate to reach instead of a weight."
        option = f"--balancer control --set balancer.target_kl={f.suggested_target_kl()}"
    numbers = {
        **evidence(
            active_units=f.au,
            latent_dim=f.latent_dim,
            rate_nats=f.rate,
            mutual_info_nats=f.mi,
            beta=f.beta,
        ),
        "collapse_rate_nats": COLLAPSE_RATE_NATS,
        "collapse_mi_nats": COLLAPSE_MI_NATS,
    }
    fix = fix_args(f, more_information(f))
    option = " ".join(fix) or option
    return Verdict("posterior-collapse", "problem", "posterior collapse", message, option, numbers,
                   fix)  # fmt: skip


def kl_domination(f: Facts) -> Verdict | None:
    if f.rate is not None and f.rate < COLLAPSE_RATE_NATS:
        return None  # reported as collapse, which is the extreme of the same thing
    weight, fraction = f.kl_weight, f.rate_fraction
    poor = f.psnr is not None and f.psnr < POOR_PSNR_DB
    big_beta = f.beta is not None and f.beta > 1
    if weight is not None:  # a density: the KL's weight against the ELBO's says it
        if weight <= OVERWEIGHT:
            return None
        message = f"The KL term dominates: it is weighted {weight:.3g} times as much as in the ELBO"
        if f.scale_kind == "fixed":
            message += f" (σ²/MSE, with an MSE of {f.mse:.3g} per element)"
    else:  # a probability mass: the rate's share of the code length says it
        if fraction is None or fraction >= DOMINATION_RATE_FRACTION or not (poor or big_beta):
            return None
        message = (
            f"The KL term dominates: the rate is {f.rate:.3g} nats, {100 * fraction:.2g}% of the "
            f"−ELBO of {f.neg_elbo:.4g} nats/example"
        )
    if poor:
        message += (
            f", and reconstructions are poor (PSNR {f.psnr:.3g} dB, MSE {f.mse_or_from_psnr:.3g} per "
            f"element; under {POOR_PSNR_DB:g} dB is visibly blurry)"
        )
    if big_beta:
        message += f"; the KL weight is β = {f.beta:.3g}"
    message += ". The code is squeezed harder than the data needs."
    if f.scale_kind == "fixed":
        message += " A fixed-σ Gaussian decoder sets β = σ² in effect; learn σ instead."
        option = "--likelihood gaussian-learned"
    elif big_beta:
        option = f"lower balancer.beta (now {f.beta:.3g})"
    else:
        target = max(f.suggested_target_kl(), math.ceil(2 * (f.rate or 0)))
        option = f"--balancer control --set balancer.target_kl={target}"
    numbers = {
        **evidence(
            rate_nats=f.rate,
            neg_elbo_nats=f.neg_elbo,
            psnr_db=f.psnr,
            mse_per_element=f.mse,
            beta=f.beta,
        ),
        "kl_weight": weight,
        "rate_fraction": fraction,
        "domination_rate_fraction": DOMINATION_RATE_FRACTION,
        "poor_psnr_db": POOR_PSNR_DB,
    }
    severity: Severity = "problem" if poor else "warning"
    fix = fix_args(f, more_information(f))
    option = " ".join(fix) or option
    return Verdict("kl-domination", severity, "KL domination", message, option, numbers, fix)


def kl_ignored(f: Facts) -> Verdict | None:
    per_dim, basis = _prior_mismatch(f)
    if per_dim is None or per_dim <= basis[1]:
        return None
    message = (
        f"The KL term is too weak to shape the latent space: the codes do not follow the prior "
        f"({basis[0]} = {per_dim * f.latent_dim:.3g} nats, {per_dim:.2g} per latent dim"
    )
    if f.rate is not None:
        message += f"; rate {f.rate:.3g} nats/example"
    message += (
        "). Reconstructions can be sharp, but samples from the prior will not look like the "
        "data and interpolations cross holes in the latent space."
    )
    if f.beta is not None and f.beta < 1:
        message += f" The KL weight β = {f.beta:.3g} < 1 lets the rate grow unchecked."
    changes = more_structure(f)
    if "train.standardize_codes" in changes:
        message += (
            f" The mismatch of the codes' mean and spread, {f.moment_kl:.3g} nats, is rate spent "
            "for nothing: moving the codes onto the prior's moments by an affine change the "
            "model absorbs lowers the rate by exactly that and changes no reconstruction. "
            "Training gets there slowly, since the decoder must follow every step of the encoder"
            + _still_falling(f)
            + "."
        )
    elif "balancer.beta" in changes:
        message += (
            f" A larger KL weight (β = {changes['balancer.beta']:g}) trades a little sharpness "
            "for a code the prior can shape."
        )
    elif f.step_mse or f.mse:
        message += (
            f" Asking for an MSE a little above the {f.step_mse or f.mse:.3g} reached in training "
            "trades a little sharpness for a code the prior can shape."
        )
    fix = fix_args(f, changes)
    option = " ".join(fix) or "a larger KL weight or a looser reconstruction target"
    numbers = {
        **evidence(
            moment_kl_nats=f.moment_kl,
            aggregate_kl_nats=f.aggregate_kl,
            mutual_info_nats=f.mi,
            rate_nats=f.rate,
            beta=f.beta,
        ),  # fmt: skip
        "prior_mismatch_per_dim": per_dim,
        "threshold_per_dim": basis[1],
    }
    return Verdict("kl-ignored", "problem", "KL ignored", message, option, numbers, fix)


def _still_falling(f: Facts) -> str:
    """The held-out codes' moment KL over the second half of training, where it fell by more
    than a fifth: training was still moving the codes towards the prior when it stopped."""
    curve = f.moment_curve
    if len(curve) < 4 or f.codes_standardized:
        return ""
    (first, a), (last, b) = curve[len(curve) // 2], curve[-1]
    if not b < FALLING * a:
        return ""
    j = f.latent_dim or 1
    return (f" (here it was still falling when the run ended: {a / j:.2g} → {b / j:.2g} nats per "
            f"dim from epoch {first} to {last})")  # fmt: skip


def _prior_mismatch(f: Facts) -> tuple[float | None, tuple[str, float]]:
    """How far the codes sit from the prior, per latent dim, and on what basis.

    The moment bound needs two moments of q(z) and holds at any N. The sampled aggregate KL
    (rate − I(x; z)) is used only for records without it, and only while the I(x; z) estimate
    is below its ceiling log N: at the ceiling it is rate − log N, a statement about N, not
    about the model.
    """
    if not f.latent_dim:
        return None, ("", 0.0)
    if f.moment_kl is not None:
        basis = ("KL of q(z)'s moments from the prior, a lower bound", IGNORED_MOMENT_KL_PER_DIM)
        return f.moment_kl / f.latent_dim, basis
    bound = number(f.metrics.mutual_info_bound_nats)
    saturated = bound is not None and f.mi is not None and f.mi >= SATURATED * bound
    if f.aggregate_kl is None or saturated:
        return None, ("", 0.0)
    basis = ("aggregate KL(q(z) ‖ p(z))", IGNORED_AGGREGATE_KL_PER_DIM)
    return f.aggregate_kl / f.latent_dim, basis


def unused_budget(f: Facts) -> Verdict | None:
    if f.au is None or f.au < 1 or not f.latent_dim or not f.kl_per_dim:
        return None
    if any(v is None for v in f.kl_per_dim):
        return None
    au, j = int(f.au), int(f.latent_dim)
    inactive = j - au
    if inactive < max(2, UNUSED_FRACTION * j):
        return None
    total = sum(f.kl_per_dim)
    carried = sum(sorted(f.kl_per_dim, reverse=True)[:au])
    if total <= 0 or carried / total < CARRIED_FRACTION:
        return None
    message = (
        f"{inactive} of {j} latent dims are unused: {au} active dims carry "
        f"{100 * carried / total:.3g}% of the {total:.3g}-nat rate. Unused dims cost nothing in "
        "the ELBO, but they say the model needs fewer, or that the KL weight keeps them shut."
    )
    if f.balancer == "constant" and f.beta is not None and f.beta > 1:
        fix = fix_args(f, {"balancer.beta": 1})
    else:
        fix = fix_args(f, {"model.latent_dim": au + max(1, round(0.25 * au))})
    option = " ".join(fix)
    numbers = {
        **evidence(active_units=au, latent_dim=j, rate_nats=total),
        "active_rate_fraction": carried / total,
        "unused_fraction": UNUSED_FRACTION,
    }
    return Verdict(
        "unused-latent-budget", "warning", "unused latent budget", message, option, numbers, fix
    )


def healthy(f: Facts) -> Verdict:
    parts = []
    if f.au is not None:
        parts.append(f"{int(f.au)} of {_int(f.latent_dim)} latent units active")
    if f.rate is not None:
        share = f" ({100 * f.rate_fraction:.3g}% of −ELBO)" if f.rate_fraction is not None else ""
        parts.append(f"rate {f.rate:.3g} nats/example{share}")
    if f.mi is not None:
        parts.append(f"I(x; z) ≈ {f.mi:.3g} nats")
    if f.psnr is not None:
        parts.append(f"PSNR {f.psnr:.3g} dB")
    if not parts:
        return Verdict(
            "not-enough-metrics",
            "warning",
            "nothing to judge",
            "The metrics hold none of rate_nats, active_units, mutual_info_nats or psnr_db; "
            "evaluate the model first.",
            "vaebalance evaluate",
        )
    message = (
        "No sign of collapse, KL domination, an ignored KL, unused dims or an infeasible target: "
        + ", ".join(parts)
        + "."
    )
    numbers = {
        **evidence(
            active_units=f.au,
            latent_dim=f.latent_dim,
            rate_nats=f.rate,
            mutual_info_nats=f.mi,
            psnr_db=f.psnr,
        ),
    }
    return Verdict("healthy", "ok", "healthy balance", message, "", numbers)


def _int(value) -> str:
    return "?" if value is None else str(int(value))
