"""``diagnose``: read a run's numbers and say in plain words where it sits and what to change.

Each check looks at a few numbers from :func:`~vaebalance.evaluation.evaluate_model` (or a
``metrics.json``), optionally the training history and config, and returns a :class:`Verdict`.
Checks whose numbers are missing are skipped. The thresholds are module constants; the reasons
are next to them. They are rules of thumb for images and tables in [0, 1], not laws: every
verdict carries the numbers it was decided on so a reader can disagree.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["ok", "warning", "problem"]

# Posterior collapse: with under 0.1 nats (0.14 bits) per example the code cannot tell even two
# groups of examples apart reliably; I(x; z) below 0.05 nats says the same from the
# aggregate-posterior side. No active unit at all is collapse whatever the KL (the KL is then
# spent on posterior variances that ignore x).
COLLAPSE_RATE_NATS = 0.1
COLLAPSE_MI_NATS = 0.05
# KL domination: the rate is under 2% of −ELBO (a healthy Bernoulli VAE on MNIST-like data spends
# 5–15%), and the reconstructions are poor: PSNR under 20 dB, i.e. an MSE above 0.01 per element
# for data in [0, 1] — visibly blurry. A β above 1 is evidence on its own.
DOMINATION_RATE_FRACTION = 0.02
POOR_PSNR_DB = 20.0
# KL ignored: the aggregate posterior q(z) sits far from the prior, more than 2 nats per latent
# dim of KL(q(z) ‖ p(z)) (a β = 1 VAE here measures well under 1 per dim): the decoder is fed
# codes the prior never produces, so samples from the prior do not look like the data.
IGNORED_AGGREGATE_KL_PER_DIM = 2.0
# Unused latent budget: at least half of the dims (and at least two) inactive, while the
# active ones carry 90% of the rate: the model needs fewer dims, or β keeps the rest shut.
UNUSED_FRACTION = 0.5
CARRIED_FRACTION = 0.9
# A balancer's weight is pinned when it moved during the run (by more than 1%), then stayed
# put (relative change under 1e-6) for the last 3 logged rows at the largest or smallest value
# it took: it hit a clamp. It ran away when it changed more than 100-fold and was still moving
# the same way at the end.
PINNED_ROWS = 3
PINNED_RTOL = 1e-6
RUNAWAY_FACTOR = 100.0


@dataclass(frozen=True)
class Verdict:
    """One finding: a code, its severity, a title, the reasoning in plain words, what to change.

    Attributes:
        code: stable identifier, e.g. ``"posterior-collapse"``.
        severity: ``"ok"``, ``"warning"`` or ``"problem"``.
        title: a few words.
        message: the finding with the numbers behind it.
        option: the vaebalance option to change (a command-line fragment or a config key).
        numbers: the numbers the verdict was decided on.
    """

    code: str
    severity: Severity
    title: str
    message: str
    option: str = ""
    numbers: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def diagnose(
    metrics: dict, history: list[dict] | None = None, config: dict | None = None
) -> list[Verdict]:
    """Judge a run: posterior collapse, KL domination, unused latent dims, an infeasible
    balancer target, or a healthy balance.

    Args:
        metrics: keys as written by :func:`~vaebalance.evaluation.evaluate_model` (``rate_nats``,
            ``neg_elbo_nats``, ``active_units``, ``kl_per_dim``, ``mutual_info_nats``,
            ``psnr_db``/``mse_per_element``, ...) and optionally ``target_met``, ``beta`` and
            ``target_*`` from the balancer.
        history: rows of ``history.csv`` (values may be strings); the ``beta`` (or ``lambda``)
            column is checked for a weight pinned at a bound.
        config: the run's config (nested dicts or dotted keys): ``balancer.beta``,
            ``likelihood`` (a name or ``{"name": ...}``), ``model.latent_dim``.

    Returns:
        Verdicts, problems first; one ``"healthy"`` verdict when nothing is wrong.
    """
    facts = _Facts(metrics, history or [], config or {})
    verdicts = [
        v
        for check in (_collapse, _kl_domination, _kl_ignored, _unused_budget, _infeasible_target)
        if (v := check(facts)) is not None
    ]
    if not verdicts:
        verdicts.append(_healthy(facts))
    order = {"problem": 0, "warning": 1, "ok": 2}
    return sorted(verdicts, key=lambda v: order[v.severity])


def format_verdicts(verdicts: list[Verdict], width: int = 88) -> str:
    """The verdicts as terminal text: severity and title, the message wrapped, the option."""
    lines = []
    for v in verdicts:
        lines.append(f"{v.severity.upper():8} {v.title}")
        lines += textwrap.wrap(v.message, width, initial_indent="  ", subsequent_indent="  ")
        if v.option:
            lines.append(f"  change: {v.option}")
    return "\n".join(lines)


class _Facts:
    """The numbers the checks use, converted to floats, with None where unknown."""

    def __init__(self, metrics: dict, history: list[dict], config: dict):
        self.metrics, self.config = metrics, config
        num = self.number
        self.rate = num(metrics.get("rate_nats"))
        self.distortion = num(metrics.get("distortion_nats"))
        self.neg_elbo = num(metrics.get("neg_elbo_nats"))
        if self.neg_elbo is None and self.rate is not None and self.distortion is not None:
            self.neg_elbo = self.rate + self.distortion
        self.mi = num(metrics.get("mutual_info_nats"))
        self.aggregate_kl = num(metrics.get("aggregate_kl_nats"))
        self.au = num(metrics.get("active_units"))
        self.kl_per_dim = [num(v) for v in metrics.get("kl_per_dim") or []]
        self.latent_dim = num(
            metrics.get("latent_dim")
            or (len(self.kl_per_dim) if self.kl_per_dim else None)
            or _lookup(config, "model.latent_dim")
        )
        self.mse = num(metrics.get("mse_per_element"))
        self.psnr = num(metrics.get("psnr_db"))
        if self.psnr is None and self.mse is not None and self.mse > 0:
            self.psnr = 10 * math.log10(1 / self.mse)
        self.weights = {
            name: [w for row in history if (w := num(row.get(name))) is not None]
            for name in ("beta", "lambda")
        }
        self.weights = {k: v for k, v in self.weights.items() if v}
        self.beta = num(metrics.get("beta"))
        if self.beta is None and self.weights.get("beta"):
            self.beta = self.weights["beta"][-1]
        if self.beta is None:
            self.beta = num(_lookup(config, "balancer.beta"))
        likelihood = _lookup(config, "likelihood")
        if isinstance(likelihood, dict):
            self.likelihood = likelihood.get("name")
            self.learn_scale = bool(likelihood.get("learn_scale"))
        else:
            self.likelihood = likelihood
            self.learn_scale = bool(_lookup(config, "likelihood.learn_scale"))

    @staticmethod
    def number(value) -> float | None:
        """A finite float from a number or a csv string; None for '', None, NaN or text."""
        if value is None or isinstance(value, bool):
            return None
        try:
            v = float(value)
        except (TypeError, ValueError):
            return None
        return v if math.isfinite(v) else None

    @property
    def rate_fraction(self) -> float | None:
        # Only meaningful when −ELBO is positive (a continuous density can make it negative).
        if self.rate is None or self.neg_elbo is None or self.neg_elbo <= 0:
            return None
        return self.rate / self.neg_elbo

    def suggested_target_kl(self) -> int:
        # About one nat per latent dim, at least 5: enough for the code to carry structure,
        # far below what a decoder needs to memorise.
        return int(max(5, round(self.latent_dim or 0)))


def _collapse(f: _Facts) -> Verdict | None:
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
        "active_units": f.au,
        "latent_dim": f.latent_dim,
        "rate_nats": f.rate,
        "mutual_info_nats": f.mi,
        "beta": f.beta,
        "collapse_rate_nats": COLLAPSE_RATE_NATS,
        "collapse_mi_nats": COLLAPSE_MI_NATS,
    }
    return Verdict("posterior-collapse", "problem", "posterior collapse", message, option, numbers)


def _kl_domination(f: _Facts) -> Verdict | None:
    fraction = f.rate_fraction
    if fraction is None or fraction >= DOMINATION_RATE_FRACTION:
        return None
    if f.rate is not None and f.rate < COLLAPSE_RATE_NATS:
        return None  # reported as collapse, which is the extreme of the same thing
    poor = f.psnr is not None and f.psnr < POOR_PSNR_DB
    big_beta = f.beta is not None and f.beta > 1
    if not (poor or big_beta):
        return None
    message = (
        f"The KL term dominates: the rate is {f.rate:.3g} nats, {100 * fraction:.2g}% of the "
        f"−ELBO of {f.neg_elbo:.4g} nats/example"
    )
    if poor:
        message += (
            f", and reconstructions are poor (PSNR {f.psnr:.3g} dB, MSE {_mse(f):.3g} per "
            f"element; under {POOR_PSNR_DB:g} dB is visibly blurry)"
        )
    if big_beta:
        message += f"; the KL weight is β = {f.beta:.3g}"
    message += ". The code is squeezed harder than the data needs."
    if f.likelihood == "gaussian" and not f.learn_scale:
        message += " A fixed-σ Gaussian decoder sets β = σ² in effect; learn σ instead."
        option = "--likelihood gaussian-learned"
    elif big_beta:
        option = f"lower balancer.beta (now {f.beta:.3g})"
    else:
        target = max(f.suggested_target_kl(), math.ceil(2 * f.rate))
        option = f"--balancer control --set balancer.target_kl={target}"
    numbers = {
        "rate_nats": f.rate,
        "neg_elbo_nats": f.neg_elbo,
        "rate_fraction": fraction,
        "psnr_db": f.psnr,
        "mse_per_element": f.mse,
        "beta": f.beta,
        "domination_rate_fraction": DOMINATION_RATE_FRACTION,
        "poor_psnr_db": POOR_PSNR_DB,
    }
    severity: Severity = "problem" if poor else "warning"
    return Verdict("kl-domination", severity, "KL domination", message, option, numbers)


def _kl_ignored(f: _Facts) -> Verdict | None:
    if f.aggregate_kl is None or not f.latent_dim:
        return None
    per_dim = f.aggregate_kl / f.latent_dim
    if per_dim <= IGNORED_AGGREGATE_KL_PER_DIM:
        return None
    message = (
        f"The KL term is too weak to shape the latent space: the codes do not follow the prior "
        f"(aggregate KL(q(z) ‖ p(z)) = {f.aggregate_kl:.3g} nats, {per_dim:.2g} per latent dim"
    )
    if f.rate is not None:
        message += f"; rate {f.rate:.3g} nats/example"
    message += (
        "). Reconstructions can be sharp, but samples from the prior will not look like the "
        "data and interpolations cross holes in the latent space."
    )
    if f.beta is not None and f.beta < 1:
        message += f" The KL weight β = {f.beta:.3g} < 1 lets the rate grow unchecked."
        option = f"raise balancer.beta (now {f.beta:.3g}) towards 1"
    else:
        option = "--likelihood gaussian-learned (a calibrated decoder, β = 1)"
    numbers = {
        "aggregate_kl_nats": f.aggregate_kl,
        "aggregate_kl_per_dim": per_dim,
        "rate_nats": f.rate,
        "beta": f.beta,
        "ignored_aggregate_kl_per_dim": IGNORED_AGGREGATE_KL_PER_DIM,
    }
    return Verdict("kl-ignored", "problem", "KL ignored", message, option, numbers)


def _unused_budget(f: _Facts) -> Verdict | None:
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
    if f.beta is not None and f.beta > 1:
        option = f"lower balancer.beta (now {f.beta:.3g}), or --set model.latent_dim={au + 1}"
    else:
        option = f"--set model.latent_dim={au + max(1, round(0.25 * au))}"
    numbers = {
        "active_units": au,
        "latent_dim": j,
        "rate_nats": total,
        "active_rate_fraction": carried / total,
        "unused_fraction": UNUSED_FRACTION,
    }
    return Verdict(
        "unused-latent-budget", "warning", "unused latent budget", message, option, numbers
    )


def _infeasible_target(f: _Facts) -> Verdict | None:
    targets = {
        k: v
        for k, v in {
            **{k: v for k, v in f.config.items() if k.startswith("balancer.")},
            **_flatten(f.config.get("balancer"), "balancer."),
            **f.metrics,
        }.items()
        if "target_" in k and k != "target_met" and _Facts.number(v) is not None
    }
    said_unmet = f.metrics.get("target_met") is False or str(
        f.metrics.get("target_met")
    ).lower() in ("false", "0")
    pinned = next(
        ((name, why) for name, values in f.weights.items() if (why := _pinned(values))), None
    )
    if not (said_unmet or pinned):
        return None
    reasons = []
    if said_unmet:
        reasons.append("the balancer reports its target was not met")
    if pinned:
        reasons.append(f"its weight {pinned[0]} {pinned[1]}")
    named = ", ".join(f"{k} = {_Facts.number(v):.4g}" for k, v in targets.items())
    message = (
        "The balancer's target looks infeasible for this model and data: "
        + " and ".join(reasons)
        + (f" (target: {named})" if named else "")
        + ". A controller cannot reach a target the model cannot; it drives the weight to its "
        "bound instead."
    )
    option = _feasible_target_option(f, targets)
    numbers = {
        "targets": {k: _Facts.number(v) for k, v in targets.items()},
        "target_met": f.metrics.get("target_met"),
        "rate_nats": f.rate,
        "mse_per_element": f.mse,
        **({f"{pinned[0]}_last": f.weights[pinned[0]][-1]} if pinned else {}),
    }
    return Verdict(
        "infeasible-target", "problem", "infeasible balancer target", message, option, numbers
    )


def _feasible_target_option(f: _Facts, targets: dict) -> str:
    keys = {k.rsplit(".", 1)[-1] for k in targets}
    if "target_kl" in keys and f.rate is not None:
        return f"--set balancer.target_kl={f.rate:.3g} (the rate this run reached)"
    if "target_mse" in keys and f.mse is not None:
        return f"--set balancer.target_mse={1.2 * f.mse:.3g} (20% above the MSE this run reached)"
    return "set a balancer target the model reaches (the achieved rate or MSE is a safe start)"


def _healthy(f: _Facts) -> Verdict:
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
        "active_units": f.au,
        "latent_dim": f.latent_dim,
        "rate_nats": f.rate,
        "mutual_info_nats": f.mi,
        "psnr_db": f.psnr,
    }
    return Verdict("healthy", "ok", "healthy balance", message, "", numbers)


def _pinned(values: list[float]) -> str | None:
    """How a balancer weight's history ended: pinned at a bound, ran away, or None (fine)."""
    if len(values) < PINNED_ROWS + 1:
        return None
    lo, hi = min(values), max(values)
    if lo <= 0 or hi / lo <= 1.01:
        return None  # constant (a fixed β) or barely moved: nothing to judge
    tail = values[-PINNED_ROWS:]
    last = tail[-1]
    flat = all(abs(v - last) <= PINNED_RTOL * abs(last) for v in tail)
    if flat and (
        math.isclose(last, hi, rel_tol=PINNED_RTOL) or math.isclose(last, lo, rel_tol=PINNED_RTOL)
    ):
        return f"stopped at {last:.4g} after ranging over [{lo:.4g}, {hi:.4g}] (pinned at a bound)"
    steps = [b - a for a, b in zip(tail, tail[1:])]
    monotone = all(s > 0 for s in steps) or all(s < 0 for s in steps)
    ratio = max(last / values[0], values[0] / last)
    if monotone and ratio >= RUNAWAY_FACTOR:
        return f"went from {values[0]:.4g} to {last:.4g} and was still moving (running away)"
    return None


def _lookup(config: dict, dotted: str):
    """``config["a"]["b"]`` or ``config["a.b"]`` for ``"a.b"``; None when absent."""
    if dotted in config:
        return config[dotted]
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _flatten(d, prefix: str) -> dict:
    return {prefix + k: v for k, v in d.items()} if isinstance(d, dict) else {}


def _int(value) -> str:
    return "?" if value is None else str(int(value))


def _mse(f: _Facts) -> float:
    return f.mse if f.mse is not None else 10 ** (-f.psnr / 10)
