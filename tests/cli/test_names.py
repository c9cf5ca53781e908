"""The names ``--help`` lists without importing torch are exactly the registered ones."""

from vaebalance import balancers, likelihoods
from vaebalance.cli import names
from vaebalance.data.registry import dataset_names
from vaebalance.models import ARCHITECTURES


def test_help_names_match_the_registries():
    assert set(names.DATASETS) == set(dataset_names())
    assert set(names.LIKELIHOODS) == {"auto", *likelihoods.names()}
    assert set(names.BALANCERS) == set(balancers.names())
    assert set(names.ARCHITECTURES) == set(ARCHITECTURES.names())
