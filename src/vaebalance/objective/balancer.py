"""What sets the objective's weights: the balancer interface, composition and lookup by name.

A balancer is a small ``nn.Module`` whose **buffers are its whole state** (a multiplier, a
moving average, an integral), so ``state_dict()`` / ``load_state_dict()`` checkpoint it, it moves
with ``.to(device)``, and it updates in place on the device without a host synchronisation.
Like an optax transformation it maps the rate term produced so far to a new one, which is what
makes :class:`Chain` composition work (e.g. GECO followed by a warm-up factor).

The objective owns this interface; the balancers themselves (:mod:`vaebalance.balancers`)
implement it and register by name, so ``ELBOLoss(balancer="geco")`` finds them without the
objective knowing any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..errors import UserError
from .components import BALANCERS, balancer_parameters, balancer_types
from .terms import RateTerm, Stats


@dataclass(frozen=True)
class Context:
    """What a balancer may need to know about the model and run, given once before training."""

    input_dim: int  # K
    latent_dim: int  # J
    likelihood: nn.Module
    total_steps: int | None = None  # the run's optimizer steps, where a trainer knows them


@dataclass(frozen=True)
class TargetStatus:
    """A balancer's verdict on the target it was given, decided in one place (the balancer).

    Attributes:
        target: the parameter holding the target, e.g. ``"target_mse"``.
        value: the target's value now (a schedule may move it).
        reached: the balancer's own smoothed measurement of the targeted quantity.
        met: within tolerance of the target (one-sided for GECO's MSE ≤ target).
        pinned: the multiplier sits at one of its bounds.
        infeasible: pinned, and the error has stopped shrinking: more steps will not help.
        multiplier: the multiplier's name and value, e.g. ``("beta", 0.3)``.
    """

    target: str
    value: float
    reached: float | None
    met: bool | None
    pinned: bool
    infeasible: bool
    multiplier: tuple[str, float]

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "value": self.value,
            "reached": self.reached,
            "met": self.met,
            "pinned": self.pinned,
            "infeasible": self.infeasible,
            "multiplier": self.multiplier[0],
            "multiplier_value": self.multiplier[1],
        }


class Balancer(nn.Module):
    """Base class. Subclasses set ``name`` and ``params`` and implement :meth:`forward`.

    ``forward(stats, term, training)`` returns the rate term for this step; when ``training``
    it may also update the buffers (never in evaluation). ``bind(context)`` is called once
    before the first step, to check compatibility and resolve K- or J-dependent parameters.
    The base class is the identity: the term passes through unchanged.
    """

    name: str = ""
    params: tuple[str, ...] = ()
    context: Context | None = None  # set by bind

    def bind(self, context: Context) -> None:
        self.context = context

    def patience(self) -> int:
        """Steps a multiplier must sit at a bound before its target counts as out of reach: a
        tenth of the run where its length is known, and at least 20 steps (a controller that
        has just hit a bound may still be on its way back)."""
        total = self.context.total_steps if self.context is not None else None
        return max(20, (total or 0) // 10)

    def forward(self, stats: Stats, term: RateTerm, training: bool) -> RateTerm:
        return term

    def report(self) -> dict:
        """Host-side summary for logs and ``metrics.json`` (may synchronise; call rarely)."""
        return {}

    def status(self) -> TargetStatus | None:
        """The verdict on this balancer's target; None when it has none (may synchronise)."""
        return None

    def schedule_steps(self) -> int | None:
        """Optimizer steps its schedule (a warm-up, cycles, a rising capacity or target) takes
        to reach its final value; None when it has none. A run shorter than this ends with the
        schedule unfinished, and the run says so."""
        return None

    def extra_repr(self) -> str:
        return ", ".join(f"{p}={getattr(self, p)!r}" for p in self.params)


class Chain(Balancer):
    """Apply balancers in order, each transforming the rate term of the one before."""

    name = "chain"

    def __init__(self, *balancers: Balancer):
        super().__init__()
        self.balancers = nn.ModuleList(balancers)

    def schedule_steps(self) -> int | None:
        steps = [n for b in self.balancers if (n := b.schedule_steps()) is not None]
        return max(steps) if steps else None

    def bind(self, context):
        super().bind(context)
        for b in self.balancers:
            b.bind(context)

    def forward(self, stats, term, training):
        for b in self.balancers:
            term = b(stats, term, training)
        return term

    def report(self):
        out = {}
        for b in self.balancers:
            out.update(b.report())
        return out

    def status(self):
        return next((s for b in self.balancers if (s := b.status()) is not None), None)


REGISTRY = BALANCERS
register = REGISTRY.register
names = REGISTRY.names
parameters = REGISTRY.parameters


def get(spec: str | Balancer | None, **params) -> Balancer:
    """A balancer by name with keyword parameters; an instance passes through; None is the
    ELBO (``constant``, β = 1).

    ``get("warmup+geco", steps=2000, target_mse=0.02)`` builds a :class:`Chain` in that order;
    each parameter goes to the one element that takes it (a name two elements take is an error:
    build the chain in Python then, e.g. ``chain(Warmup(steps=2000), Capacity(steps=50000))``).
    """
    if isinstance(spec, Balancer):
        return spec
    if spec is None:
        spec = "constant"
    if "+" in spec:
        return _chain_by_names([part.strip() for part in spec.split("+")], params)
    return REGISTRY.create(spec, **params)


def _chain_by_names(parts: list[str], params: dict) -> Chain:
    takes = {part: parameters(part) for part in parts}
    given: dict[str, dict] = {part: {} for part in parts}
    for key, value in params.items():
        owners = [part for part in parts if key in takes[part]]
        if len(owners) != 1:
            why = "several of" if owners else "none of"
            raise UserError(
                f"parameter {key!r} fits {why} {', '.join(owners or parts)}; "
                f"build the chain in Python with vaebalance.balancers.chain(...)"
            )
        given[owners[0]][key] = value
    return Chain(*(REGISTRY.create(part, **given[part]) for part in parts))


def chain(*balancers: str | Balancer) -> Chain:
    """``Chain`` of balancers given as instances or names (with default parameters)."""
    return Chain(*(get(b) for b in balancers))


# A spec's parameters, answered from the catalogue until the balancers are imported.
chain_parameters = balancer_parameters
chain_types = balancer_types
