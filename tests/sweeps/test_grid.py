"""Grid parsing, the cartesian product, run names, and which keys a grid may vary."""

import pytest

from vaebalance.config import build_config
from vaebalance.errors import UserError
from vaebalance.sweeps.grid import check_keys, expand, parse_grid, point_config, split_values


def test_values_split_at_top_level_commas_only():
    assert split_values("0.1, 1,10") == ["0.1", "1", "10"]
    assert split_values("[32],[64,32]") == ["[32]", "[64,32]"]
    assert split_values("") == []


def test_the_product_runs_in_the_order_given_with_the_last_key_fastest():
    grid = parse_grid(["balancer.beta=0.1,1", "model.latent_dim=4,8"])
    names = [p.name for p in expand(grid)]
    assert names == [
        "beta-0.1_latent_dim-4",
        "beta-0.1_latent_dim-8",
        "beta-1_latent_dim-4",
        "beta-1_latent_dim-8",
    ]


def test_names_are_filesystem_safe_and_unique():
    grid = parse_grid(["model.hidden=[32, 16],[32,16],../x y"])
    names = [p.name for p in expand(grid)]
    assert len(set(names)) == 3
    assert all("/" not in n and " " not in n and not n.startswith(".") for n in names)
    # The same field name in two sections is told apart by its section.
    grid = parse_grid(["train.batch_size=32", "eval.batch_size=100"])
    assert expand(grid)[0].name == "train-batch_size-32_eval-batch_size-100"


@pytest.mark.parametrize(
    "specs, words",
    [
        ([], "empty grid"),
        (["balancer.beta="], "no values"),
        (["balancer.beta=1,,2"], "empty value"),
        (["balancer.beta=1,1"], "repeats"),
        (["balancer.beta=1", "balancer.beta=2"], "twice"),
        (["beta"], "section.field=v1,v2"),
    ],
)
def test_malformed_grids_are_user_errors(specs, words):
    with pytest.raises(UserError, match=words):
        parse_grid(specs)


def test_an_unknown_key_lists_the_valid_ones():
    base = build_config()
    with pytest.raises(UserError, match="not a config field; valid keys: .*balancer.beta"):
        check_keys(parse_grid(["model.nonsense=1,2"]), base)


def test_a_varied_balancer_brings_its_own_parameters():
    base = build_config()
    grid = parse_grid(["balancer.name=geco", "balancer.target_mse=0.01,0.02"])
    check_keys(grid, base)
    cfg = point_config(base, expand(grid)[1])
    assert cfg.balancer.name == "geco" and cfg.balancer.params["target_mse"] == 0.02


def test_a_value_of_the_wrong_type_names_its_run():
    base = build_config()
    (point,) = expand(parse_grid(["train.epochs=many"]))
    with pytest.raises(UserError, match="run epochs-many: train.epochs must be int"):
        point_config(base, point)
