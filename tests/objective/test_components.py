"""The catalogues that answer a config's questions without torch say exactly what the classes'
own signatures say, and the registries answer alike before and after the classes load."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from vaebalance import registry as registry_module
from vaebalance.errors import UserError
from vaebalance.models import ARCHITECTURES
from vaebalance.models.config import ARCHITECTURE_NAMES
from vaebalance.objective import likelihoods  # noqa: F401  (registers the likelihoods)
from vaebalance.objective.components import (
    BALANCER_CATALOGUE,
    BALANCERS,
    DISCRETE_LIKELIHOODS,
    LIKELIHOOD_CATALOGUE,
    LIKELIHOODS,
    likelihood_is_discrete,
)
from vaebalance.registry import Registry


@pytest.mark.parametrize(
    "registry, catalogue",
    [(LIKELIHOODS, LIKELIHOOD_CATALOGUE), (BALANCERS, BALANCER_CATALOGUE)],
    ids=["likelihoods", "balancers"],
)
def test_each_catalogue_is_what_the_signatures_say(registry, catalogue):
    assert sorted(registry.classes()) == sorted(catalogue)  # the classes answer from now on
    assert registry.provider is None
    for name in registry.names():
        defaults, types = registry.parameters(name), registry.types(name)
        from_signature = {key: (types[key], defaults[key]) for key in defaults}
        assert list(from_signature.items()) == list(catalogue[name].items()), name


def test_the_discrete_likelihoods_are_those_whose_class_says_so():
    classes = LIKELIHOODS.classes()
    assert DISCRETE_LIKELIHOODS == {name for name, cls in classes.items() if cls.discrete}
    assert all(likelihood_is_discrete(n) == cls.discrete for n, cls in classes.items())
    with pytest.raises(UserError, match="unknown likelihood 'nope'"):
        likelihood_is_discrete("nope")


def test_the_architecture_names_are_the_registered_ones():
    assert sorted(ARCHITECTURES.classes()) == sorted(ARCHITECTURE_NAMES)


class _Plain:
    name = "plain"

    def __init__(self, width: int = 3, label: str | None = None):
        self.width, self.label = width, label


class _Extra:
    name = "extra"

    def __init__(self, rate: float = 0.5):
        self.rate = rate


@pytest.fixture
def registry(monkeypatch):
    """A registry of one catalogued class whose provider registers that class when imported;
    ``registry.imported`` lists the imports."""
    registry = Registry("thing", provider="fake.provider", catalogue={
        "plain": {"width": (int, 3), "label": (str | None, None)}})  # fmt: skip
    registry.imported = []

    def import_module(name: str):
        registry.imported.append(name)
        registry.register(_Plain)

    monkeypatch.setattr(registry_module, "importlib", SimpleNamespace(import_module=import_module))
    return registry


def test_a_registry_answers_from_its_catalogue_until_a_class_is_needed(registry):
    assert registry.names() == ["plain"]
    assert registry.parameters("plain") == {"width": 3, "label": None}
    assert registry.types("plain") == {"width": int, "label": str | None}
    assert registry.imported == []
    # A name the catalogue lacks asks the classes, which imports the provider, once.
    with pytest.raises(UserError, match="unknown thing 'nope'; valid: plain"):
        registry.parameters("nope")
    assert registry.imported == ["fake.provider"]
    assert registry.create("plain", width=5).width == 5
    assert registry.imported == ["fake.provider"]


def test_a_class_registered_before_the_provider_loads_is_found(registry):
    registry.register(_Extra)
    assert registry.names() == ["extra", "plain"]
    assert registry.parameters("extra") == {"rate": 0.5}
    assert registry.types("extra") == {"rate": float}
    assert registry.imported == []
