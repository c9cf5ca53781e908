"""The numbers the checks of ``diagnose`` use, read from a run's records, None where unknown."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ...config import RunConfig
from ...errors import UserError
from ...objective.components import LIKELIHOODS, likelihood_is_discrete
from ...objective.units import psnr_db
from ...schema import EpochRecord, RunMetrics


def number(value) -> float | None:
    """A finite float from a number or a csv string; None for '', None, NaN, booleans or text."""
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def run_config(config) -> RunConfig | None:
    """The run's config as a RunConfig, or None for a partial or hand-made one."""
    if not (isinstance(config, Mapping) and "balancer" in config and "likelihood" in config):
        return None
    try:
        return RunConfig.from_dict(dict(config))
    except UserError:
        return None


def lookup(config: Mapping, dotted: str):
    """``config["a"]["b"]`` or ``config["a.b"]`` for ``"a.b"``; None when absent."""
    if dotted in config:
        return config[dotted]
    node = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


class Facts:
    """A run's metrics, history and config as the numbers the checks need.

    Args:
        metrics: a :class:`~vaebalance.schema.RunMetrics` (or an evaluation) or its JSON form.
        history: rows of ``history.csv`` (values may be strings) or EpochRecords.
        config: the run's config, nested or with dotted keys.
    """

    def __init__(self, metrics: Mapping, history: list, config: Mapping):
        m = metrics if isinstance(metrics, RunMetrics) else RunMetrics.from_json(dict(metrics))
        self.metrics, self.config = m, config
        self.history = [r if isinstance(r, EpochRecord) else EpochRecord.from_json(r)
                        for r in history]  # fmt: skip
        self.rate, self.distortion = number(m.rate_nats), number(m.distortion_nats)
        self.neg_elbo = number(m.neg_elbo_nats)
        if self.neg_elbo is None and None not in (self.rate, self.distortion):
            self.neg_elbo = self.rate + self.distortion
        self.mi, self.aggregate_kl = number(m.mutual_info_nats), number(m.aggregate_kl_nats)
        self.moment_kl = number(m.moment_kl_nats)
        # The MSE a controller sees: of reconstructions from sampled z, in training (the test
        # MSE decodes the posterior mean and is lower); the last training epoch's.
        train_mse = [v for r in self.history if r.split == "train"
                     and (v := number(r.mse_per_element)) is not None]  # fmt: skip
        self.step_mse = train_mse[-1] if train_mse else None
        epochs = number(m.epochs) or number(lookup(config, "train.epochs"))
        self.epochs = int(epochs) if epochs else None
        self.au = number(m.active_units)
        self.kl_per_dim = [number(v) for v in m.kl_per_dim or []]
        self.latent_dim = number(
            m.latent_dim or len(self.kl_per_dim) or lookup(config, "model.latent_dim")
        )
        self.mse, self.psnr = number(m.mse_per_element), number(m.psnr_db)
        if self.psnr is None and self.mse is not None and self.mse > 0:
            self.psnr = psnr_db(self.mse)
        self.beta = self._beta()
        self.likelihood = self._likelihood_name()
        self.scale_kind = m.decoder_scale_kind or self._scale_kind_from_config()
        self.discrete = self._discrete()
        self.status = m.target_status
        name = lookup(config, "balancer.name") or m.balancer
        self.balancer = name if isinstance(name, str) else "constant"  # the config's default
        self.run_config = run_config(config)
        self.codes_standardized = lookup(config, "train.standardize_codes") is True
        # (epoch, moment KL of the held-out codes), as training went
        self.moment_curve = sorted(
            (int(e), v) for r in self.history if r.split != "train"
            and (e := number(r.epoch)) is not None and (v := number(r.moment_kl_nats)) is not None
        )  # fmt: skip

    def uses(self, balancer: str) -> bool:
        """Whether the run's balancer is, or chains, the named one."""
        return balancer in (self.balancer or "").split("+")

    def _beta(self) -> float | None:
        extra = number(self.metrics.extra.get("beta"))  # a hand-made metrics dict may hold it
        if extra is not None:
            return extra
        betas = [
            b for r in self.history if r.split == "train" and (b := number(r.beta)) is not None
        ]
        return betas[-1] if betas else number(lookup(self.config, "balancer.beta"))

    def _likelihood_name(self) -> str | None:
        if self.metrics.likelihood:
            return self.metrics.likelihood
        value = lookup(self.config, "likelihood")
        return value.get("name") if isinstance(value, Mapping) else value

    def _scale_kind_from_config(self) -> str | None:
        """How the decoder's scale was set, for records written before metrics said so: ask
        the likelihood the config describes."""
        section = lookup(self.config, "likelihood")
        params = dict(section) if isinstance(section, Mapping) else {}
        params.pop("name", None)
        try:
            # An instance (torch): only records older than metrics' decoder_scale_kind get here.
            return LIKELIHOODS.create(self.likelihood, **params).scale_kind
        except (UserError, TypeError):  # no likelihood named, or an old or damaged config
            return None

    def _discrete(self) -> bool | None:
        """Whether p(x|z) is a probability mass, so that −ELBO is a code length with a fixed
        zero; None where the likelihood is not known."""
        try:
            return likelihood_is_discrete(self.likelihood)
        except (UserError, TypeError, KeyError):
            return None

    @property
    def kl_weight(self) -> float | None:
        """How many times the ELBO's own weight the KL carries, for a density p(x|z); None for
        a probability mass or an unknown likelihood (judged by the rate's share of the code
        length instead).

        A density's −ELBO has no fixed zero (it moves by K·log c when the data are scaled by c),
        so a share of it says nothing; its balance is the ELBO itself. With a learned (or
        batch-optimal, per-element) scale, or none, that is β = 1 and the weight is β. A fixed
        Gaussian σ weighs the distortion SSE/(2σ²) where the learned σ² would be the MSE: the
        KL then counts β·σ²/MSE times (Rybkin, Daniilidis & Levine 2021).
        """
        if self.discrete is not False:
            return None
        beta = 1.0 if self.beta is None else self.beta
        if self.scale_kind != "fixed":
            return beta
        sigma = number(self.metrics.decoder_scale) or number(
            lookup(self.config, "likelihood.sigma") or LIKELIHOODS.parameters("gaussian")["sigma"]
        )
        standardized = lookup(self.config, "data.standardize") is True  # σ, MSE in other units
        if self.likelihood != "gaussian" or not sigma or not self.mse or standardized:
            return None
        return beta * sigma**2 / self.mse

    @property
    def rate_fraction(self) -> float | None:
        # Only meaningful when −ELBO is positive (a continuous density can make it negative).
        if self.rate is None or self.neg_elbo is None or self.neg_elbo <= 0:
            return None
        return self.rate / self.neg_elbo

    @property
    def mse_or_from_psnr(self) -> float | None:
        if self.mse is not None:
            return self.mse
        return None if self.psnr is None else 10 ** (-self.psnr / 10)

    def suggested_target_kl(self) -> int:
        # About one nat per latent dim, at least 5: enough for the code to carry structure,
        # far below what a decoder needs to memorise.
        return int(max(5, round(self.latent_dim or 0)))
