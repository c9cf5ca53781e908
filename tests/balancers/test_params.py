import pytest

from vaebalance.balancers import get, names
from vaebalance.errors import UserError

BAD = [
    ("warmup", {"steps": 0}),
    ("warmup", {"beta": -1.0}),
    ("warmup", {"shape": "cubic"}),
    ("cyclical", {"cycles": 0}),
    ("cyclical", {"ratio": 0.0}),
    ("cyclical", {"ratio": 1.5}),
    ("cyclical", {"steps": -5}),
    ("capacity", {"gamma": 0.0}),
    ("capacity", {"c_max": -1.0}),
    ("free-bits", {"free_bits": 0.0}),
    ("free-bits", {"groups": 0}),
    ("geco", {}),
    ("geco", {"target_mse": 0.0}),
    ("geco", {"target_mse": -0.1}),
    ("geco", {"target_mse": 0.1, "alpha": 1.0}),
    ("geco", {"target_mse": 0.1, "lr": 0.0}),
    ("geco", {"target_mse": 0.1, "lambda_min": 2.0}),
    ("control", {}),
    ("control", {"target_kl": 0.0}),
    ("control", {"target_kl": 5.0, "beta_min": 1.0, "beta_max": 1.0}),
    ("control", {"target_kl": 5.0, "ki": -0.001}),
    ("control", {"target_kl": 5.0, "target_start": 1.0}),
    ("control", {"target_kl": 5.0, "target_steps": 100}),
    ("control", {"target_kl": 5.0, "target_start": 9.0, "target_step": 1.0, "target_every": 9}),
    ("dynamic", {"sigma": 1.0}),
    ("geco", {"target": 0.1}),
]


@pytest.mark.parametrize("name,params", BAD)
def test_bad_parameters_raise_one_line_user_errors(name, params):
    with pytest.raises(UserError) as info:
        get(name, **params)
    assert "\n" not in str(info.value)


def test_all_balancers_registered():
    expected = {"constant", "warmup", "cyclical", "capacity", "free-bits", "geco", "control"}
    assert expected | {"dynamic"} <= set(names())


@pytest.mark.parametrize(
    "name,params,key",
    [
        ("control", {"target_kl": 5.0, "beta_min": 1.0, "beta_max": 1.0}, "beta_min < beta_max"),
        ("control", {"target_kl": 5.0, "ki": -0.001}, "ki"),
        ("geco", {"target_mse": 0.1, "lr": 0.0}, "lr"),
        ("cyclical", {"cycles": 0}, "cycles"),
        ("capacity", {"c_max": -1.0}, "c_max"),
    ],
)
def test_a_bad_parameter_is_named_as_the_config_spells_it(name, params, key):
    # The fix is `--set balancer.<key>=...`: the message says which key, in its own spelling.
    with pytest.raises(UserError) as info:
        get(name, **params)
    assert key in str(info.value)
