"""``diagnose``: read a run's numbers and say in plain words where it sits and what to change.

Checks (:mod:`.balance`, :mod:`.target`) read :class:`.facts.Facts` built from a run's
``metrics.json``, ``history.csv`` and config, and each returns a :class:`.verdict.Verdict` or
nothing. A new check is a function ``Facts -> Verdict | None`` added to :data:`CHECKS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .balance import collapse, healthy, kl_domination, kl_ignored, unused_budget
from .facts import Facts
from .overfit import overfitting
from .target import infeasible_target, schedule_unfinished, target_not_reached
from .verdict import ORDER, Verdict, format_verdicts

__all__ = ["CHECKS", "Verdict", "diagnose", "format_verdicts"]

CHECKS = (
    collapse, kl_domination, kl_ignored, unused_budget, infeasible_target, target_not_reached,
    overfitting, schedule_unfinished,
)  # fmt: skip


def diagnose(
    metrics: Mapping, history: list | None = None, config: Mapping | None = None
) -> list[Verdict]:
    """Judge a run: posterior collapse, KL domination, unused latent dims, an infeasible
    balancer target, or a healthy balance.

    Args:
        metrics: a :class:`~vaebalance.schema.RunMetrics` or evaluation, or the same as a dict
            (``metrics.json``); a hand-made dict may add ``beta``.
        history: rows of ``history.csv`` (values may be strings) or EpochRecords; the last
            training β is taken from it.
        config: the run's config (nested dicts or dotted keys): ``balancer.beta``,
            ``likelihood`` (a name or ``{"name": ...}``), ``model.latent_dim``.

    Returns:
        Verdicts, problems first; one ``"healthy"`` verdict when nothing is wrong.
    """
    facts = Facts(metrics, history or [], config or {})
    verdicts = [v for check in CHECKS if (v := check(facts)) is not None]
    if not verdicts:
        verdicts.append(healthy(facts))
    return sorted(verdicts, key=lambda v: ORDER[v.severity])
