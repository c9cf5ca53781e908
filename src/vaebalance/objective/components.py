"""The registries of the likelihoods and the balancers, and what a config needs of them as
plain data: each built-in component's name and its parameters with their types and defaults.

The classes are torch modules; this file is not. A config is read, checked and changed
(``vaebalance diagnose``, ``report``, ``--set``) from the catalogues below without importing
the classes, hence without torch; the first look-up that needs a class (``get``, ``cls``)
imports the provider, which registers every class, and from then on the classes' own
signatures answer. ``tests/objective/test_components.py`` checks that each catalogue says
exactly what the signatures say: a new component or parameter goes into both.
"""

from __future__ import annotations

import sys

from ..registry import Registry

_OPTIONAL_FLOAT = float | None
_OPTIONAL_INT = int | None

# name → {parameter: (annotated type, default)}, in the constructor's order.
LIKELIHOOD_CATALOGUE = {
    "bernoulli": {},
    "continuous-bernoulli": {},
    "gaussian": {"sigma": (float, 1.0), "learn_scale": (bool, False)},
    "gaussian-learned": {"sigma": (float, 1.0)},
    "gaussian-optimal": {},
    "gaussian-perpixel": {},
    "laplace": {"scale": (float, 1.0), "learn_scale": (bool, False)},
}

# The likelihoods that are probability masses (their class's ``discrete``).
DISCRETE_LIKELIHOODS = frozenset({"bernoulli"})

BALANCER_CATALOGUE = {
    "capacity": {"gamma": (float, 1000.0), "c_max": (float, 25.0), "steps": (int, 100_000)},
    "constant": {
        "beta": (_OPTIONAL_FLOAT, None),
        "beta_norm": (_OPTIONAL_FLOAT, None),
        "mean_weight": (_OPTIONAL_FLOAT, None),
    },
    "control": {
        "target_kl": (_OPTIONAL_FLOAT, None),
        "form": (str, "log"),
        "kp": (_OPTIONAL_FLOAT, None),
        "ki": (_OPTIONAL_FLOAT, None),
        "speedup": (float, 4.0),
        "beta_min": (_OPTIONAL_FLOAT, None),
        "beta_max": (_OPTIONAL_FLOAT, None),
        "alpha": (_OPTIONAL_FLOAT, None),
        "target_start": (_OPTIONAL_FLOAT, None),
        "target_steps": (_OPTIONAL_INT, None),
        "target_step": (_OPTIONAL_FLOAT, None),
        "target_every": (_OPTIONAL_INT, None),
        "tolerance": (float, 0.03),
    },
    "cyclical": {
        "beta_start": (float, 0.0),
        "beta": (float, 1.0),
        "steps": (int, 10_000),
        "cycles": (int, 4),
        "ratio": (float, 0.5),
        "shape": (str, "linear"),
    },
    "dynamic": {},
    "free-bits": {"free_bits": (float, 0.25), "groups": (_OPTIONAL_INT, None)},
    "geco": {
        "target_mse": (_OPTIONAL_FLOAT, None),
        "alpha": (_OPTIONAL_FLOAT, None),
        "lr": (_OPTIONAL_FLOAT, None),
        "speedup": (float, 4.0),
        "lambda_init": (float, 1.0),
        "lambda_min": (float, 1e-4),
        "lambda_max": (float, 1e4),
        "tolerance": (float, 0.03),
    },
    "warmup": {
        "beta_start": (float, 0.0),
        "beta": (float, 1.0),
        "steps": (int, 10_000),
        "shape": (str, "linear"),
    },
}

# The likelihoods register as their package is imported; the balancers from
# ``vaebalance.balancers``, a layer above the objective that holds this registry.
LIKELIHOODS = Registry(
    "likelihood", provider="vaebalance.objective.likelihoods", catalogue=LIKELIHOOD_CATALOGUE
)
BALANCERS = Registry("balancer", provider="vaebalance.balancers", catalogue=BALANCER_CATALOGUE)


def balancer_parameters(spec: str) -> dict[str, object]:
    """The parameters of a balancer spec, ``"geco"`` or ``"warmup+geco"`` (each part's, merged;
    a name two parts share is left out, since it cannot be given by name)."""
    parts = [part.strip() for part in spec.split("+")]
    merged: dict[str, object] = {}
    for part in parts:
        for key, default in BALANCERS.parameters(part).items():
            merged[key] = default
    shared = {k for k in merged if sum(k in BALANCERS.parameters(p) for p in parts) > 1}
    return {k: v for k, v in merged.items() if k not in shared}


def balancer_types(spec: str) -> dict[str, object]:
    """The annotated types of :func:`balancer_parameters`."""
    types = {}
    for part in [p.strip() for p in spec.split("+")]:
        types.update(BALANCERS.types(part))
    return {k: types[k] for k in balancer_parameters(spec)}


def likelihood_is_discrete(name: str) -> bool:
    """Whether the likelihood ``name`` is a probability mass (its class's ``discrete``); a
    built-in's answer comes from :data:`DISCRETE_LIKELIHOODS` while no likelihood class is
    imported (none can have been registered then). Raises UserError for an unknown name."""
    if name in LIKELIHOOD_CATALOGUE and "vaebalance.objective.likelihoods" not in sys.modules:
        return name in DISCRETE_LIKELIHOODS
    return bool(LIKELIHOODS.cls(name).discrete)
