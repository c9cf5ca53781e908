"""One schema for every number vaebalance records: its key, its unit and what it measures.

Runs, sweeps, searches and studies write six kinds of records, all declared here and nowhere
else:

- :class:`Evaluation` — a model measured on a set of examples (``evaluate_model``);
- :class:`RunMetrics` — an evaluation plus the facts of the training that led to it
  (``metrics.json``);
- :class:`EpochRecord` — one split of one epoch (a row of ``history.csv``);
- :class:`SweepRow` — one run of a sweep (a row of ``sweep.csv``);
- :class:`TuneRow` — one run of a goal-directed search (a row of ``tune.csv``);
- :class:`StudyRow` — one cell of ``vaebalance study dims`` (a row of ``study.csv``).

Each field is a dataclass field whose metadata gives its unit and a label for tables; the key
on disk is the field's name, which carries the unit (``rate_nats``, ``mse_per_element``,
``psnr_db``). Code elsewhere reads and writes fields as attributes (``metrics.rate_nats``) and
never spells a key as a string, so a renamed metric cannot be missed somewhere
(``tests/test_schema.py`` checks the package for it).

Records are read-only dicts too (``metrics["rate_nats"]``, ``json.dumps(metrics)``), so code
and scripts written against the plain dicts of earlier versions keep working, and they
round-trip through JSON:
``Record.from_json(r.to_json()) == r``. Keys a record does not know (written by a newer
version, or added by a user) are kept in ``extra`` and written back unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar


def metric(unit: str, label: str, default: Any = None) -> Any:
    """A record field with its unit and a label for tables (``default`` when not measured)."""
    return field(default=default, metadata={"unit": unit, "label": label})


@dataclass(frozen=True)
class Column:
    """A field of a record as a table column: its key, unit and label."""

    key: str
    unit: str
    label: str


class _FieldNames:
    """``Record.key.<field>`` is the field's key: a misspelt or renamed field fails loudly."""

    def __get__(self, instance, owner):
        return _Names(owner)


class _Names:
    def __init__(self, record):
        self._record = record

    def __getattr__(self, name: str) -> str:
        if name.startswith("_") or name not in self._record.keys_():
            raise AttributeError(f"no field {name!r} in this record")
        return name


@dataclass(frozen=True)
class Record(dict):
    """Base of the records: typed fields that are also a read-only dict of the same values.

    Being a ``dict`` keeps every use of the plain dicts of version 0.1 working — indexing,
    ``get``, ``json.dumps``, ``**`` unpacking — while the fields give types and units. The dict
    holds every declared field (``None`` where not measured) and the unknown keys of ``extra``;
    :meth:`to_json` leaves the ``None`` ones out.
    """

    extra: dict = field(default_factory=dict, repr=False, compare=True)
    key = _FieldNames()  # RunMetrics.key.rate_nats == "rate_nats" (not a field: no annotation)

    def __post_init__(self):
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        dict.update(self, {**values, **self.extra})

    @classmethod
    def columns(cls) -> tuple[Column, ...]:
        return tuple(
            Column(f.name, f.metadata["unit"], f.metadata["label"])
            for f in fields(cls)
            if "unit" in f.metadata
        )

    @classmethod
    def keys_(cls) -> tuple[str, ...]:
        return tuple(c.key for c in cls.columns())

    @classmethod
    def column(cls, key: str) -> Column:
        return next(c for c in cls.columns() if c.key == key)

    def to_json(self) -> dict:
        """The measured fields (not the unmeasured ``None`` ones), then the unknown keys."""
        values = {k: getattr(self, k) for k in self.keys_() if getattr(self, k) is not None}
        return {**values, **self.extra}

    @classmethod
    def from_json(cls, data: Mapping) -> Record:
        known = set(cls.keys_())
        return cls(
            **{k: v for k, v in data.items() if k in known},
            extra={k: v for k, v in data.items() if k not in known},
        )

    def replace(self, **changes) -> Record:
        return replace(self, **changes)

    def __reduce__(self):  # pickle by fields: the dict view is rebuilt by __post_init__
        return _rebuild, (type(self), {f.name: getattr(self, f.name) for f in fields(self)})

    def _read_only(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is read-only; use .replace(...)")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only


def _rebuild(cls, values: dict) -> Record:
    return cls(**values)


NATS = "nats/example"
BPD = "bits/dim"


SCORE = "score in [0, 1]"


@dataclass(frozen=True)
class Disentanglement(Record):
    """How well each generative factor is captured by one latent dim (known factors only).

    See :func:`vaebalance.evaluation.disentanglement` for the definitions (disentanglement_lib's)
    and defaults. ``factor_mi_nats[j][k]`` is I(z̃_j; v_k), row j a latent dim, column k a factor.
    """

    mig: float | None = metric(SCORE, "MIG: mutual information gap / H(v)")
    dci_disentanglement: float | None = metric(SCORE, "DCI disentanglement")
    dci_completeness: float | None = metric(SCORE, "DCI completeness")
    dci_informativeness: float | None = metric("accuracy", "DCI informativeness (test accuracy)")
    sap: float | None = metric("accuracy gap", "SAP: separated attribute predictability")
    modularity: float | None = metric(SCORE, "modularity")
    explicitness: float | None = metric("ROC AUC", "explicitness (test ROC AUC)")
    factor_mi_nats: list | None = metric("nats", "I(z̃_j; v_k), latent dim × factor")
    factor_entropy_nats: list | None = metric("nats", "H(v_k) of each factor")
    factor_names: list | None = metric("", "the generative factors")
    factor_examples: int | None = metric("examples", "examples behind the factor metrics")


@dataclass(frozen=True)
class Evaluation(Disentanglement):
    """A model measured on N examples; means over the examples unless the label says otherwise.

    See :func:`vaebalance.evaluation.evaluate_model` for how each is estimated and its biases.
    """

    elbo_nats: float | None = metric(NATS, "ELBO = −(R + D)")
    neg_elbo_nats: float | None = metric(NATS, "−ELBO = R + D")
    rate_nats: float | None = metric(NATS, "rate R = KL(q(z|x) ‖ p(z))")
    distortion_nats: float | None = metric(NATS, "distortion D = E[−log p(x|z)]")
    bits_per_dim: float | None = metric(BPD, "−ELBO per input element")
    rate_bits_per_dim: float | None = metric(BPD, "rate per input element")
    distortion_bits_per_dim: float | None = metric(BPD, "distortion per input element")
    nll_iw_nats: float | None = metric(NATS, "IWAE NLL (upper bound on −log p(x))")
    nll_iw_bits_per_dim: float | None = metric(BPD, "IWAE NLL per input element")
    bits_per_dim_convention: str | None = metric("", "how bits/dim were computed")
    discretization_bits: int | None = metric("bits/dim", "8-bit correction added to bits/dim")
    active_units: int | None = metric("dims", "active units (Var_x μ_j > 0.01)")
    active_units_threshold: float | None = metric("nats²", "active-unit variance threshold")
    kl_per_dim: list | None = metric("nats per latent dim", "KL of each latent dim")
    mutual_info_nats: float | None = metric("nats", "I(x; z)")
    mutual_info_bound_nats: float | None = metric("nats", "ceiling of the I(x; z) estimate, log N")
    total_correlation_nats: float | None = metric("nats", "total correlation")
    aggregate_kl_nats: float | None = metric("nats", "KL(q(z) ‖ p(z))")
    dimwise_kl_nats: float | None = metric("nats", "Σ_j KL(q(z_j) ‖ p(z_j))")
    moment_kl_nats: float | None = metric(
        "nats", "Σ_j KL(N(m_j, v_j) ‖ N(0, 1)) of q(z)'s moments, a lower bound on the above"
    )
    mse_per_element: float | None = metric("(data units)²", "MSE per element")
    psnr_db: float | None = metric("dB", "PSNR")
    log_det_nats: float | None = metric(NATS, "Σ_d log s_d added for standardized data")
    iw_samples: int | None = metric("samples", "importance samples k")
    distortion_samples: int | None = metric("samples", "z draws per example behind D")
    examples: int | None = metric("examples", "examples evaluated")
    input_dim: int | None = metric("elements", "input elements K")
    latent_dim: int | None = metric("dims", "latent dims J")
    seconds: float | None = metric("s", "evaluation time")
    betavae_score: float | None = metric("accuracy", "BetaVAE score (Higgins et al.)")
    factorvae_score: float | None = metric("accuracy", "FactorVAE score (Kim & Mnih)")
    intervention_batches: int | None = metric("batches", "training batches of those two scores")

    # The numbers a report compares across datasets (the run's test split, other data).
    COMPARED: ClassVar[tuple[str, ...]] = (
        "nll_iw_nats", "neg_elbo_nats", "rate_nats", "distortion_nats", "bits_per_dim",
        "mse_per_element", "active_units", "examples",
    )  # fmt: skip

    def finite(self) -> bool:
        """Whether the ELBO terms are finite numbers (a failed run's are not)."""
        terms = (self.rate_nats, self.distortion_nats)
        return all(isinstance(v, (int, float)) and math.isfinite(v) for v in terms)


@dataclass(frozen=True)
class RunMetrics(Evaluation):
    """``metrics.json``: the final evaluation plus the facts of the training behind it."""

    epochs: int | None = metric("epochs", "epochs")
    steps: int | None = metric("steps", "optimizer steps")
    skipped_steps: int | None = metric("steps", "non-finite steps skipped")
    train_seconds: float | None = metric("s", "training time")
    likelihood: str | None = metric("", "likelihood")
    balancer: str | None = metric("", "balancer")
    balancer_state: dict | None = metric("", "the balancer's final state")
    target_met: bool | None = metric("", "the balancer's target met")
    target_status: dict | None = metric("", "the balancer's verdict on its target")
    decoder_scale: float | None = metric("data units", "decoder σ (learned)")
    decoder_scale_kind: str | None = metric("", "how the decoder's scale is set")
    schedule_steps: int | None = metric("steps", "steps the balancer's schedule takes")
    schedule_completed: float | None = metric("fraction", "how much of that schedule ran")

    # The keys that describe training rather than measure the model: a re-evaluation keeps them.
    TRAINING_FACTS: ClassVar[tuple[str, ...]] = (
        "epochs", "steps", "skipped_steps", "train_seconds", "likelihood", "balancer",
        "balancer_state", "target_met", "target_status", "decoder_scale", "decoder_scale_kind",
        "schedule_steps", "schedule_completed",
    )  # fmt: skip

    # The numbers a summary shows first, and those a report lists, in a reader's order.
    HEADLINE: ClassVar[tuple[str, ...]] = (
        "neg_elbo_nats", "rate_nats", "distortion_nats", "bits_per_dim", "nll_iw_nats",
        "mse_per_element", "psnr_db", "active_units", "mig", "dci_disentanglement",
        "factorvae_score",
    )  # fmt: skip
    REPORTED: ClassVar[tuple[str, ...]] = (
        "neg_elbo_nats", "rate_nats", "distortion_nats", "bits_per_dim", "nll_iw_nats",
        "mse_per_element", "psnr_db", "active_units", "latent_dim", "mutual_info_nats",
        "total_correlation_nats", "decoder_scale", "epochs", "steps", "train_seconds",
        "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap",
        "modularity", "explicitness", "betavae_score", "factorvae_score",
    )  # fmt: skip

    def facts(self) -> dict:
        return {k: getattr(self, k) for k in self.TRAINING_FACTS}


@dataclass(frozen=True)
class EpochRecord(Record):
    """One split of one epoch: batch means of the training objective's terms.

    ``balancer`` holds the balancer's host-side summary at the end of the epoch; in
    ``history.csv`` each of its scalar entries is a column ``balancer_<name>``.
    """

    epoch: int | None = metric("epochs", "epochs completed")
    step: int | None = metric("steps", "optimizer steps taken")
    split: str | None = metric("", "train or test")
    loss: float | None = metric(NATS, "balanced loss D + β·R (as trained)")
    elbo_nats: float | None = metric(NATS, "ELBO = −(R + D)")
    rate_nats: float | None = metric(NATS, "rate R")
    distortion_nats: float | None = metric(NATS, "distortion D")
    mse_per_element: float | None = metric("(data units)²", "MSE per element")
    beta: float | None = metric("", "β (KL weight)")
    moment_kl_nats: float | None = metric(
        "nats", "Σ_j KL(N(m_j, v_j) ‖ N(0, 1)) of the split's codes' moments (held-out split)"
    )
    skipped_steps: int | None = metric("steps", "non-finite steps skipped")
    seconds: float | None = metric("s", "epoch time (training and test pass)")
    train_seconds: float | None = metric("s", "training time of the epoch")
    balancer: dict | None = metric("", "the balancer's state")
    target_met: bool | None = metric("", "the balancer's target met (where it has one)")

    PREFIX: ClassVar[str] = "balancer_"

    def to_json(self) -> dict:
        row = super().to_json()
        state = row.pop("balancer", None) or {}
        row.update({self.PREFIX + k: v for k, v in state.items() if _scalar(v)})
        return row

    @classmethod
    def from_json(cls, data: Mapping) -> EpochRecord:
        if isinstance(data, EpochRecord):
            return data
        state = {k[len(cls.PREFIX) :]: v for k, v in data.items() if k.startswith(cls.PREFIX)}
        rest = {k: v for k, v in data.items() if not k.startswith(cls.PREFIX)}
        return super().from_json({**rest, "balancer": state or None})


@dataclass(frozen=True)
class SweepRow(Record):
    """One run of a sweep in ``sweep.csv``: the varied values, status, test metrics, time."""

    run: str | None = metric("", "run")
    values: dict | None = metric("", "the varied config values")
    status: str | None = metric("", "finished, failed or incomplete")
    rate_nats: float | None = metric(NATS, "rate")
    distortion_nats: float | None = metric(NATS, "distortion")
    elbo_nats: float | None = metric(NATS, "ELBO")
    nll_iw_nats: float | None = metric(NATS, "IWAE NLL")
    mse_per_element: float | None = metric("per element", "MSE/elem")
    active_units: int | None = metric("dims", "active units")
    wall_seconds: float | None = metric("s", "wall time")
    error: str | None = metric("", "why it failed")

    # Test metrics a sweep compares; the fields between status and wall_seconds.
    METRICS: ClassVar[tuple[str, ...]] = (
        "rate_nats", "distortion_nats", "elbo_nats", "nll_iw_nats", "mse_per_element",
        "active_units",
    )  # fmt: skip
    TABLE: ClassVar[tuple[str, ...]] = (*METRICS, "wall_seconds")  # a comparison table's columns
    ELBO: ClassVar[str] = "elbo_nats"  # −(rate + distortion): redundant beside them in a table

    @classmethod
    def of(cls, run: str, values: dict, status: str, metrics: Mapping, wall, error="") -> SweepRow:
        """A row from a run's metrics (non-finite numbers become empty cells)."""
        measured = {k: _finite(metrics.get(k)) for k in cls.METRICS}
        wall = None if wall is None else round(wall, 3)
        return cls(run=run, values=dict(values), status=status, **measured, wall_seconds=wall,
                   error=error)  # fmt: skip

    def to_json(self) -> dict:
        """Columns in sweep.csv order: run, the varied keys, status, metrics, time, error."""
        row = {"run": self.run, **(self.values or {}), "status": self.status}
        row.update({k: getattr(self, k) for k in (*self.METRICS, "wall_seconds")})
        row["error"] = self.error or ""
        return row

    @classmethod
    def from_row(cls, row: Mapping, grid_keys=()) -> SweepRow:
        """A ``sweep.csv`` row back, with the grid's keys gathered into ``values``."""
        if isinstance(row, SweepRow):
            return row
        values = {k: row[k] for k in grid_keys if k in row}
        rest = {k: v for k, v in row.items() if k not in values}
        return cls.from_json({**rest, "values": values, "error": rest.get("error") or ""})

    @property
    def finished(self) -> bool:
        return self.status == "finished"


@dataclass(frozen=True)
class StudyRow(Record):
    """One cell of ``vaebalance study dims`` in ``study.csv``: a convention trained at one input
    size K and latent size J, with the numbers that say how it balanced."""

    run: str | None = metric("", "run")
    convention: str | None = metric("", "how the KL is weighted against the reconstruction")
    image_side: int | None = metric("pixels", "image side")
    input_dim: int | None = metric("elements", "input elements K")
    latent_dim: int | None = metric("dims", "latent dims J")
    effective_beta: float | None = metric(
        "KL_sum weight vs SSE/2", "effective β against a unit-σ Gaussian decoder"
    )
    status: str | None = metric("", "finished, failed or incomplete")
    rate_nats: float | None = metric(NATS, "rate")
    distortion_nats: float | None = metric(NATS, "distortion")
    mse_per_element: float | None = metric("(data units)²", "MSE per element")
    psnr_db: float | None = metric("dB", "PSNR")
    active_units: int | None = metric("dims", "active units")
    nll_iw_bits_per_dim: float | None = metric(BPD, "IWAE NLL per input element")
    mig: float | None = metric(SCORE, "MIG")
    dci_disentanglement: float | None = metric(SCORE, "DCI disentanglement")
    decoder_scale: float | None = metric("data units", "decoder σ (learned)")
    target_met: bool | None = metric("", "the balancer's target met")
    wall_seconds: float | None = metric("s", "wall time")
    error: str | None = metric("", "why it failed")

    # The numbers taken from the run's metrics.json, in study.csv's order.
    MEASURED: ClassVar[tuple[str, ...]] = (
        "rate_nats", "distortion_nats", "mse_per_element", "psnr_db", "active_units",
        "nll_iw_bits_per_dim", "mig", "dci_disentanglement", "decoder_scale", "target_met",
    )  # fmt: skip
    # What the plots show against K and J: the balance as reconstruction, code and structure.
    PLOTTED: ClassVar[tuple[str, ...]] = ("active_units", "mse_per_element", "mig")

    @classmethod
    def of(cls, cell: Mapping, metrics: Mapping | None, row: SweepRow | None) -> StudyRow:
        """A cell (convention, image_side, input_dim, latent_dim, effective_beta) with its
        run's metrics and sweep row; a cell without a row has not ended yet ("incomplete")."""
        measured = {k: _finite((metrics or {}).get(k)) for k in cls.MEASURED}
        return cls(
            **cell, **measured,
            run=row.run if row else None,
            status=row.status if row else "incomplete",
            wall_seconds=row.wall_seconds if row else None,
            error=(row.error if row else "") or "",
        )  # fmt: skip

    def to_json(self) -> dict:
        """Every column, empty where not measured, so each row of study.csv has them all."""
        return {k: getattr(self, k) for k in self.keys_()}


@dataclass(frozen=True)
class TuneRow(Record):
    """One run of ``vaebalance tune`` in ``tune.csv``: the β tried, what it reached, how close.

    ``relative_error`` is (measured − target) / |target| of the goal's metric (one of
    ``mse_per_element``, ``psnr_db``, ``rate_nats``, named in ``tune.json``).
    """

    run: str | None = metric("", "run")
    beta: float | None = metric("", "β")
    status: str | None = metric("", "status")
    rate_nats: float | None = metric(NATS, "rate")
    distortion_nats: float | None = metric(NATS, "distortion")
    mse_per_element: float | None = metric("(data units)²", "MSE/elem")
    psnr_db: float | None = metric("dB", "PSNR")
    active_units: int | None = metric("dims", "active units")
    relative_error: float | None = metric("fraction of the target", "off target")
    within_tolerance: bool | None = metric("", "within tolerance")
    wall_seconds: float | None = metric("s", "wall s")
    error: str | None = metric("", "why it failed")

    # The run's test metrics a tune row copies from metrics.json.
    MEASURED: ClassVar[tuple[str, ...]] = (
        "rate_nats", "distortion_nats", "mse_per_element", "psnr_db", "active_units",
    )  # fmt: skip
    # The columns ``tune`` prints, in a reader's order.
    TABLE: ClassVar[tuple[str, ...]] = (
        "beta", "mse_per_element", "psnr_db", "rate_nats", "active_units", "relative_error",
        "status", "wall_seconds",
    )  # fmt: skip
    # What ``tune`` can aim at: the metric's key, and its label with the unit for sentences.
    GOALS: ClassVar[dict[str, str]] = {
        "mse_per_element": "MSE per element",
        "psnr_db": "PSNR (dB)",
        "rate_nats": "rate (nats/example)",
    }

    @classmethod
    def of(cls, run: str, beta: float, status: str, metrics: Mapping, wall, error="") -> TuneRow:
        """A row from a run's metrics (non-finite numbers become empty cells)."""
        measured = {k: _finite(metrics.get(k)) for k in cls.MEASURED}
        wall = None if wall is None else round(wall, 3)
        return cls(run=run, beta=beta, status=status, **measured, wall_seconds=wall,
                   error=error or "")  # fmt: skip

    def to_json(self) -> dict:
        """Every column, in order, empty where not measured (a CSV's rows share one header)."""
        return {**{k: getattr(self, k) for k in self.keys_()}, **self.extra}

    @property
    def finished(self) -> bool:
        return self.status == "finished"


def _scalar(v) -> bool:
    return isinstance(v, (int, float, bool)) and not isinstance(v, str)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


RECORDS = (Disentanglement, Evaluation, RunMetrics, EpochRecord, SweepRow, TuneRow, StudyRow)
KEYS = frozenset(k for record in RECORDS for k in record.keys_())


def evidence(**values) -> dict:
    """Named values of schema fields, e.g. the numbers a verdict was decided on; a name that
    is not a field of any record is a bug (KeyError), so a renamed metric cannot hide here."""
    unknown = sorted(set(values) - KEYS)
    if unknown:
        raise KeyError(f"not fields of the metrics schema: {', '.join(unknown)}")
    return values
