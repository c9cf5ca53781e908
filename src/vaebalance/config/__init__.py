"""The run configuration: frozen dataclasses that round-trip through JSON, with dotted overrides.

Every field can be set from the command line as ``--set section.field=value``; values are
parsed as JSON where they parse (numbers, booleans, lists, null) and kept as strings otherwise,
then checked against the field's type. The likelihood and balancer sections hold a ``name`` plus
the parameters of that component, typed by the component's constructor signature, so
``--set balancer.target_mse=0.01`` is valid for ``geco`` and rejected (with the valid names)
for ``constant``.

Configs are never changed in place: :meth:`RunConfig.with_value` returns a new config, and
:func:`resolve` turns the choices left to the data (``likelihood.name = "auto"``, a learned
scale's starting value) into a new, resolved config — the one a run records.
"""

from __future__ import annotations

import typing
from dataclasses import asdict, dataclass, field, fields, replace

from ..errors import UserError, unknown_choice
from ..models.config import ModelConfig, check_model_config
from ..objective.components import LIKELIHOODS, balancer_parameters, balancer_types
from .files import read_config_file as read_config_file
from .values import coerce as coerce


@dataclass(frozen=True)
class DataConfig:
    name: str = "digits"  # a named source (digits, fashion-mnist, mnist, cifar10) or a path
    data_dir: str | None = None  # where the named source's files are, if not the default place
    test_fraction: float = 0.1  # used only where the source has no split of its own
    # Share of the training split held out for validation: per-epoch held-out curves,
    # diagnose's overfitting check and tune decide on it, so the test split, looked at once,
    # gives honest final numbers. 0: none (per-epoch curves on the test split, as before 0.3).
    val_fraction: float = 0.1
    # Standardize each element by the training split's mean and std before the model sees it;
    # reported likelihoods stay in the data's units (vaebalance.data.standardize).
    standardize: bool = False
    size: int | None = None  # sprites: image side, 64 (default) or 32
    examples: int | None = None  # sprites: grid points drawn, train + test (default 20,000)
    factors: str | None = None  # a file of integer generative factors, one row per example


@dataclass(frozen=True)
class LikelihoodConfig:
    # "auto": bernoulli for binary data, else gaussian-learned (σ-VAE: the decoder learns its
    # noise level, so β = 1 is balanced by construction).
    name: str = "auto"
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BalancerConfig:
    name: str = "constant"  # constant with no parameters: β = 1, the ELBO
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 100
    steps: int | None = None  # if set, train this many optimizer steps instead of epochs
    batch_size: int = 64
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    seed: int = 0
    threads: int | None = None  # None: torch's default (one per core)
    precision: str = "fp32"  # "bf16": autocast the model's matrix products
    device: str = "cpu"  # "cuda" where present
    max_bad_steps: int = 20  # consecutive non-finite steps before training stops
    tensorboard: bool = True  # write event files when the tensorboard package is installed
    # After the last step, move the codes onto the prior's mean and variance per latent dim by
    # an affine change the model absorbs (models/codes.py): the rate falls by the codes' moment
    # KL, reconstructions do not change.
    standardize_codes: bool = False


@dataclass(frozen=True)
class EvalConfig:
    iw_samples: int = 100  # importance samples for the final NLL estimate (0 = skip)
    batch_size: int = 1000
    # MIG, DCI, SAP, modularity, explicitness where the data has factors: null = when known,
    # true = required (an error without factors), false = never.
    factor_metrics: bool | None = None
    # Training batches of 64 for the BetaVAE and FactorVAE scores (sprites only; 0 = skip).
    intervention_batches: int = 100


COMPONENTS = ("likelihood", "balancer")
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    likelihood: LikelihoodConfig = field(default_factory=LikelihoodConfig)
    balancer: BalancerConfig = field(default_factory=BalancerConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict:
        d = asdict(self)
        for comp in COMPONENTS:
            d[comp] = {"name": d[comp]["name"], **d[comp]["params"]}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        return apply_dict(cls(), d)

    def with_value(self, dotted: str, value: object) -> RunConfig:
        """A copy with one field set by its dotted name, type-checked (UserError otherwise).

        >>> cfg = RunConfig().with_value("model.latent_dim", "8")
        >>> cfg.model.latent_dim, RunConfig().model.latent_dim != 8
        (8, True)
        """
        section, _, key = dotted.partition(".")
        if section not in _sections() or not key:
            raise _unknown_key(self, dotted)
        obj = getattr(self, section)
        if section in COMPONENTS:
            return replace(self, **{section: _with_component_value(obj, section, key, value)})
        hints = typing.get_type_hints(type(obj))
        if key not in hints:
            raise _unknown_key(self, dotted)
        return replace(self, **{section: replace(obj, **{key: coerce(value, hints[key], dotted)})})


def _sections() -> list[str]:
    return [f.name for f in fields(RunConfig)]


def _unknown_key(cfg: RunConfig, dotted: str) -> UserError:
    return UserError(f"unknown config key {dotted!r}; valid keys: {', '.join(valid_keys(cfg))}")


def component_params(section: str, name: str) -> dict[str, object]:
    """Valid parameters (with defaults) of the named likelihood or balancer."""
    if section == "balancer":
        return balancer_parameters(name)
    if name == "auto":
        return {}
    if name not in LIKELIHOODS.names():
        raise unknown_choice("likelihood", name, LIKELIHOODS.names() + ["auto"])
    return LIKELIHOODS.parameters(name)


def component_types(section: str, name: str) -> dict[str, object]:
    """The annotated type of each parameter of the named likelihood or balancer."""
    if section == "balancer":
        return balancer_types(name)
    return {} if name == "auto" else LIKELIHOODS.types(name)


def _with_component_value(obj, section: str, key: str, value: object):
    if key == "name":
        value = coerce(value, str, f"{section}.name")
        valid = component_params(section, value)  # raises for an unknown name
        stale = set(obj.params) - set(valid)
        if stale:
            raise UserError(
                f"{section} {value!r} takes no parameter {', '.join(sorted(stale))}; "
                f"valid: {', '.join(valid) or 'none'}"
            )
        return replace(obj, name=value)
    types_ = component_types(section, obj.name)
    if key not in types_:
        raise UserError(
            f"{section} {obj.name!r} takes no parameter {key!r}; "
            f"valid: {', '.join(types_) or 'none'}"
        )
    return replace(obj, params={**obj.params, key: coerce(value, types_[key], f"{section}.{key}")})


def derive(base: RunConfig, overrides: list[str]) -> RunConfig:
    """``base`` (e.g. a finished run's config) changed by ``section.field=value`` items, as
    ``vaebalance train --from RUN`` does: a likelihood or balancer that changes its name starts
    from the new component's defaults, since the old one's parameters belong to it."""
    cfg = base
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set takes section.field=value; got {item!r}")
        key, value = key.strip(), value.strip()
        section, _, field_ = key.partition(".")
        if section in COMPONENTS and field_ == "name":
            current = getattr(cfg, section)
            if coerce(value, str, key) != current.name:
                cfg = replace(cfg, **{section: replace(current, params={})})
        cfg = cfg.with_value(key, value)
    validate(cfg)
    return cfg


def apply_dict(cfg: RunConfig, d: dict) -> RunConfig:
    """``cfg`` with the fields of a nested dict (a config file or ``config.json``) set."""
    if not isinstance(d, dict):
        raise UserError(f"config must be a mapping of sections; got {type(d).__name__}")
    for section, values in d.items():
        if section not in _sections():
            raise unknown_choice("config section", section, _sections())
        if not isinstance(values, dict):
            raise UserError(f"config section {section!r} must be a mapping")
        if section in COMPONENTS and "name" in values:  # the name decides the valid parameters
            cfg = cfg.with_value(f"{section}.name", values["name"])
        for key, value in values.items():
            if not (section in COMPONENTS and key == "name"):
                cfg = cfg.with_value(f"{section}.{key}", value)
    return cfg


def valid_keys(cfg: RunConfig) -> list[str]:
    keys = []
    for f in fields(cfg):
        obj = getattr(cfg, f.name)
        if f.name in COMPONENTS:
            params = component_params(f.name, obj.name)
            keys += [f"{f.name}.name"] + [f"{f.name}.{p}" for p in params]
        else:
            keys += [f"{f.name}.{g.name}" for g in fields(obj)]
    return keys


def build_config(config_file: str | None = None, overrides: list[str] = ()) -> RunConfig:
    """Defaults, then the config file, then each ``section.field=value`` override in order."""
    cfg = RunConfig()
    if config_file:
        cfg = apply_dict(cfg, read_config_file(config_file))
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--set takes section.field=value; got {item!r}")
        cfg = cfg.with_value(key.strip(), value.strip())
    validate(cfg)
    return cfg


def validate(cfg: RunConfig) -> None:
    """Range checks that do not need the data."""
    t = cfg.train
    checks = [
        (t.epochs >= 1, f"train.epochs must be ≥ 1, got {t.epochs}"),
        (t.steps is None or t.steps >= 1, f"train.steps must be ≥ 1, got {t.steps}"),
        (t.batch_size >= 1, f"train.batch_size must be ≥ 1, got {t.batch_size}"),
        (0 < t.lr < float("inf"), f"train.lr must be > 0 and finite, got {t.lr}"),
        (all(0 <= b < 1 for b in t.betas), f"train.betas must be in [0, 1), got {t.betas}"),
        (t.weight_decay >= 0, f"train.weight_decay must be ≥ 0, got {t.weight_decay}"),
        (t.threads is None or t.threads >= 1, f"train.threads must be ≥ 1, got {t.threads}"),
        (t.max_bad_steps >= 1, f"train.max_bad_steps must be ≥ 1, got {t.max_bad_steps}"),
        (cfg.eval.iw_samples >= 0, f"eval.iw_samples must be ≥ 0, got {cfg.eval.iw_samples}"),
        (cfg.eval.batch_size >= 1, f"eval.batch_size must be ≥ 1, got {cfg.eval.batch_size}"),
        (cfg.eval.intervention_batches >= 0, "eval.intervention_batches must be ≥ 0"),
        (0 < cfg.data.test_fraction < 1, "data.test_fraction must be in (0, 1)"),
        (0 <= cfg.data.val_fraction < 1, "data.val_fraction must be in [0, 1)"),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(message)
    if t.precision not in PRECISIONS:
        raise unknown_choice("precision", t.precision, PRECISIONS)
    if not (t.device == "cpu" or t.device.startswith("cuda")):
        raise UserError(f"train.device must be cpu or cuda[:N]; got {t.device!r}")
    check_model_config(cfg.model)


def resolve(cfg: RunConfig, data) -> RunConfig:
    """The config with the choices left to the data made: ``likelihood.name = "auto"`` becomes
    bernoulli for binary data, else gaussian-learned; a likelihood's parameters the user did
    not set get the values it derives from the training data (a learned scale starts at the
    data's spread, :meth:`~vaebalance.objective.likelihoods.Likelihood.initial_params`).
    ``data`` is as the model sees it (standardized where ``data.standardize``). Resolving a
    resolved config changes nothing.

    Raises:
        UserError: If the likelihood needs data in [0, 1] (the Bernoulli family) and the data
            fall outside.
    """
    sample = data.to_float(data.train[: min(len(data.train), 10_000)])
    name = cfg.likelihood.name
    if name == "auto":
        name = "bernoulli" if bool(((sample == 0) | (sample == 1)).all()) else "gaussian-learned"
    cls = LIKELIHOODS.cls(name)
    if cls.data_in_unit_interval:
        check_unit_interval(name, data)
    params = dict(cfg.likelihood.params)
    params.update(cls.initial_params(params, sample))
    return replace(cfg, likelihood=LikelihoodConfig(name, params))


def check_unit_interval(name: str, data) -> None:
    """Refuse data outside [0, 1] for the likelihood ``name``, naming those that need it."""
    if data.eight_bit and data.standardization is None:
        return  # 0..255 / 255
    lo = min(float(data.to_float(t).min()) for t in (data.train, data.test) if len(t))
    hi = max(float(data.to_float(t).max()) for t in (data.train, data.test) if len(t))
    if lo >= 0.0 and hi <= 1.0:
        return
    need = [n for n in LIKELIHOODS.names() if LIKELIHOODS.cls(n).data_in_unit_interval]
    real = [n for n in LIKELIHOODS.names() if n not in need]
    how = " after standardization (data.standardize)" if data.standardization else ""
    raise UserError(
        f"{data.name} has values in [{lo:.4g}, {hi:.4g}]{how}, outside [0, 1]: the {name} "
        f"likelihood needs data in [0, 1] (as do all of {', '.join(need)}); for real values "
        f"use {', '.join(real)}"
    )
