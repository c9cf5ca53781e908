import json

import pytest
import torch

from vaebalance.config import RunConfig, build_config, read_config_file, resolve
from vaebalance.data import Dataset
from vaebalance.errors import UserError


def test_defaults_round_trip_through_json():
    cfg = build_config(None, ["balancer.name=geco", "balancer.target_mse=0.02"])
    again = RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    assert again.balancer.params == {"target_mse": 0.02}


def test_overrides_are_typed():
    cfg = build_config(
        None,
        [
            "train.lr=3e-4",
            "model.hidden=[64, 32]",
            "train.steps=10",
            "likelihood.name=gaussian",
            "likelihood.sigma=0.1",
        ],
    )
    assert cfg.train.lr == 3e-4
    assert cfg.model.hidden == (64, 32)
    assert cfg.train.steps == 10
    assert cfg.likelihood.params == {"sigma": 0.1}


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("train.lrr=1", "valid keys: data.name"),
        ("nosuch.x=1", "unknown config key 'nosuch.x'"),
        ("train.lr=fast", "train.lr must be float"),
        ("train.epochs=1.5", "train.epochs must be int"),
        ("train.lr=-1", "train.lr must be > 0"),
        (
            "balancer.target_mse=0.1",
            "balancer 'constant' takes no parameter 'target_mse'; valid: beta",
        ),
        ("balancer.name=magic", "unknown balancer 'magic'; valid:"),
        ("likelihood.name=poisson", "unknown likelihood 'poisson'; valid:"),
        ("train.precision=fp8", "unknown precision 'fp8'; valid: bf16, fp32"),
        ("model.hidden=[1, 2", "model.hidden must be a list"),
        ("train", "--set takes section.field=value"),
    ],
)
def test_bad_overrides_name_the_problem(override, fragment):
    with pytest.raises(UserError, match=None) as e:
        build_config(None, [override])
    assert fragment in str(e.value)


def test_parameters_do_not_survive_a_change_of_component():
    with pytest.raises(UserError, match="takes no parameter target_mse"):
        build_config(
            None, ["balancer.name=geco", "balancer.target_mse=0.1", "balancer.name=constant"]
        )


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".toml"])
def test_config_files(tmp_path, suffix):
    path = tmp_path / f"c{suffix}"
    if suffix == ".json":
        path.write_text(
            json.dumps({"train": {"epochs": 3}, "balancer": {"name": "constant", "beta": 4}})
        )
    elif suffix == ".yaml":
        path.write_text("train:\n  epochs: 3\nbalancer:\n  name: constant\n  beta: 4\n")
    else:
        path.write_text("[train]\nepochs = 3\n[balancer]\nname = 'constant'\nbeta = 4\n")
    cfg = build_config(str(path), ["train.epochs=5"])
    assert cfg.train.epochs == 5  # the command line wins over the file
    assert cfg.balancer.params == {"beta": 4}


def test_bad_config_files(tmp_path):
    with pytest.raises(UserError, match="no such config file"):
        read_config_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="cannot parse config file"):
        read_config_file(bad)
    other = tmp_path / "c.ini"
    other.write_text("x")
    with pytest.raises(UserError, match=r"must end in \.json"):
        read_config_file(other)
    wrong = tmp_path / "w.json"
    wrong.write_text(json.dumps({"optimizer": {"lr": 1}}))
    with pytest.raises(UserError, match="unknown config section 'optimizer'"):
        build_config(str(wrong))


def _table(values) -> Dataset:
    x = torch.tensor(values, dtype=torch.float32)
    return Dataset(name="t.npy", train=x, test=x[:2].clone(), shape=(x.shape[1],))


REAL = [[-1.5, 0.2], [3.0, 0.7], [0.1, 0.9], [2.0, 0.4]]
BINARY = [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0]]


def test_auto_likelihood_on_real_values_is_gaussian_learned():
    cfg = resolve(RunConfig(), _table(REAL))
    assert cfg.likelihood.name == "gaussian-learned"
    assert resolve(RunConfig(), _table(BINARY)).likelihood.name == "bernoulli"


@pytest.mark.parametrize("name", ["gaussian", "gaussian-learned", "laplace", "gaussian-perpixel"])
def test_real_values_are_accepted_by_the_location_scale_likelihoods(name):
    assert resolve(RunConfig().with_value("likelihood.name", name), _table(REAL))


@pytest.mark.parametrize("name", ["bernoulli", "continuous-bernoulli"])
def test_unit_interval_likelihoods_refuse_real_values_naming_the_alternatives(name):
    with pytest.raises(UserError) as err:
        resolve(RunConfig().with_value("likelihood.name", name), _table(REAL))
    assert str(err.value) == (
        f"t.npy has values in [-1.5, 3], outside [0, 1]: the {name} likelihood needs data in "
        "[0, 1] (as do all of bernoulli, continuous-bernoulli); for real values use gaussian, "
        "gaussian-learned, gaussian-optimal, gaussian-perpixel, laplace"
    )


def test_standardized_binary_data_are_no_longer_in_the_unit_interval():
    data = _table(BINARY).standardized()
    assert resolve(RunConfig(), data).likelihood.name == "gaussian-learned"
    with pytest.raises(UserError, match=r"\[-1, 1\] after standardization \(data.standardize\)"):
        resolve(RunConfig().with_value("likelihood.name", "bernoulli"), data)


def test_standardize_is_a_config_field_off_by_default():
    assert RunConfig().data.standardize is False
    assert RunConfig().with_value("data.standardize", "true").data.standardize is True
