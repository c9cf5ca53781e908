"""``vaebalance study dims``: every KL-weighting convention at several input sizes K and latent
sizes J, trained as one sweep, summarized in ``study.csv``.

The study is a sweep (:func:`~vaebalance.sweeps.sweep.run_sweep`: parallel, resumable, a failed
cell recorded) whose grid is ``convention × data.size × model.latent_dim``; each point's config
is built by :func:`cell_config` from the convention's settings
(:mod:`~vaebalance.sweeps.conventions`), since a convention is several config values at once
and its weight depends on K and J. K is the number of input elements: channels × side².

Layout of a study directory: the sweep's (``sweep.json``, ``sweep.csv``, one run directory per
cell) plus ``study.json`` (the plan: data, sizes, latent dims, targets, shared settings) and
``study.csv`` (one :class:`~vaebalance.schema.StudyRow` per cell, in grid order).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from ..config import RunConfig, build_config, validate
from ..errors import UserError, unknown_choice
from ..evaluation.disentangle import encode_mean, mutual_info_matrix
from ..evaluation.disentangle.mig import factor_entropy, histogram_discretize, mig_from_matrix
from ..runs import RunDir, load_run
from ..schema import Disentanglement, RunMetrics, StudyRow, SweepRow
from ..storage import read_csv, read_json, write_csv, write_json
from .conventions import CONVENTIONS, Targets, effective_beta, settings
from .grid import Point, expand
from .results import Sweep
from .sweep import Plan, run_sweep

STUDY_CSV, STUDY_JSON = "study.csv", "study.json"
# MIG of a cell whose data has factors, written by the worker into the cell's run directory.
CELL_FACTORS = "study_factors.json"
SIZE_KEY, LATENT_KEY, CONVENTION = "data.size", "model.latent_dim", "convention"
DATASETS = ("fashion-mnist", "sprites", "digits")

# What every cell of every study shares: no TensorBoard files (a study has dozens of runs).
COMMON = ("train.tensorboard=false",)


@dataclass(frozen=True)
class StudyPlan:
    """What a study trains: the dataset, the K and J it varies, the conventions and their
    targets, and the config settings every cell shares (``--set`` form).

    Attributes:
        data: the dataset name.
        sizes: image sides (K = channels × side²).
        latent_dims: the J.
        channels: channels per image, for K.
        targets: GECO's MSE and ControlVAE's KL per dim, the same in every cell.
        overrides: settings of every cell (model, epochs, examples, evaluation).
        conventions: the conventions compared (all seven by default).
        mig: measure MIG after each cell (data with known factors; :func:`cell_mig`).
    """

    data: str
    sizes: tuple[int, ...]
    latent_dims: tuple[int, ...]
    channels: int
    targets: Targets
    overrides: tuple[str, ...]
    conventions: tuple[str, ...] = CONVENTIONS
    mig: bool = False

    def base(self) -> RunConfig:
        return build_config(None, [f"data.name={self.data}", *COMMON, *self.overrides])

    def grid(self) -> dict[str, list[str]]:
        return {
            CONVENTION: list(self.conventions),
            SIZE_KEY: [str(s) for s in self.sizes],
            LATENT_KEY: [str(j) for j in self.latent_dims],
        }

    def to_json(self) -> dict:
        return asdict(self)


# The budgets are small on purpose: the studies must run on two shared CPU cores (docs/guide.md
# gives the wall times). Examples are train + test; the MLP is the same in every cell.
PLANS = {
    "fashion-mnist": StudyPlan(
        "fashion-mnist",
        (14, 28, 56),
        (4, 16, 64),
        1,
        Targets(0.015, 1.5),
        ("data.examples=10000", "model.hidden=[256,128]", "train.epochs=5", "eval.iw_samples=20"),
    ),  # fmt: skip
    "sprites": StudyPlan(
        "sprites",
        (32, 64),
        (4, 16, 64),
        1,
        Targets(0.01, 1.5),
        (
            "data.examples=10000",
            "model.hidden=[256,128]",
            "train.epochs=5",
            "eval.iw_samples=20",
            "eval.factor_metrics=false",
        ),
        mig=True,
    ),  # fmt: skip
    "digits": StudyPlan(
        "digits",
        (4, 8, 16),
        (2, 8, 32),
        1,
        Targets(0.02, 1.5),
        ("model.hidden=[128,64]", "train.epochs=30", "eval.iw_samples=20"),
    ),  # fmt: skip
}
# --quick: digits at two K and two J, a few epochs: minutes on two cores, and the CI test.
QUICK = StudyPlan(
    "digits", (4, 8), (2, 8), 1, Targets(0.02, 1.5),
    ("model.hidden=[64]", "train.epochs=8", "eval.iw_samples=4"),
)  # fmt: skip


def study_plan(data: str = "fashion-mnist", quick: bool = False) -> StudyPlan:
    """The plan ``vaebalance study dims [--data D] [--quick]`` runs."""
    if quick:
        if data not in ("digits", "fashion-mnist"):  # fashion-mnist: the default, unchanged
            raise UserError(f"--quick is the digits study; it cannot be combined with {data}")
        return QUICK
    if data not in PLANS:
        raise unknown_choice("study dataset", data, DATASETS)
    return PLANS[data]


def cell_config(targets: Targets, channels: int, base: RunConfig, point: Point) -> RunConfig:
    """The config of one (convention, side, J) point: the convention's settings for that K and J
    on top of the base, with the side and J set."""
    values = point.values
    side, latent = _positive(values[SIZE_KEY], "size"), _positive(values[LATENT_KEY], "J")
    cfg = base.with_value(SIZE_KEY, values[SIZE_KEY]).with_value(LATENT_KEY, values[LATENT_KEY])
    found = settings(values[CONVENTION], channels * side * side, latent, targets)
    for key in sorted(found, key=lambda k: not k.endswith(".name")):  # names first
        cfg = cfg.with_value(key, found[key])
    validate(cfg)
    return cfg


def _positive(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UserError(f"study: the {what} must be a positive integer, got {text!r}")
    return value


def default_study_dir(plan: StudyPlan) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("studies") / f"{stamp}-dims-{plan.data}"


def run_study(
    plan: StudyPlan,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_row: Callable[[SweepRow], None] | None = None,
) -> list[StudyRow]:
    """Train every cell not finished before, then write ``study.csv``; returns its rows."""
    path = Path(out) if out else default_study_dir(plan)
    configure = functools.partial(cell_config, plan.targets, plan.channels)
    after = cell_mig if plan.mig else None
    sweep = run_sweep(plan.base(), plan.grid(), path, workers=workers, configure=configure,
                      after_run=after, on_plan=on_plan, on_row=on_row)  # fmt: skip
    write_json(path / STUDY_JSON, plan.to_json())
    rows = study_rows(plan, sweep)
    write_csv(path / STUDY_CSV, [r.to_json() for r in rows])
    return rows


def study_rows(plan: StudyPlan, sweep: Sweep) -> list[StudyRow]:
    """One row per cell in grid order, finished or not, with its effective β."""
    ended = {r.run: r for r in sweep.rows}
    rows = []
    for point in expand(plan.grid()):
        convention = point.values[CONVENTION]
        side, latent = int(point.values[SIZE_KEY]), int(point.values[LATENT_KEY])
        k = plan.channels * side * side
        row = ended.get(point.name)
        metrics = _metrics(sweep.path / point.name) if row and row.finished else None
        if metrics is not None and plan.mig:
            metrics = _with_mig(sweep.path / point.name, metrics)
        cell = {
            CONVENTION: convention,
            StudyRow.key.image_side: side,
            StudyRow.key.input_dim: k,
            StudyRow.key.latent_dim: latent,
            StudyRow.key.effective_beta: effective_beta(convention, k, latent, metrics),
        }
        rows.append(StudyRow.of(cell, metrics, row))
    return rows


def cell_mig(path: Path) -> None:
    """Write the MIG of a finished cell's encoder means on its test split (``CELL_FACTORS``).

    Only MIG and its mutual-information matrix (histogram MI, cheap): the full factor metrics
    fit gradient-boosted trees for DCI, minutes per cell on two CPU cores, so a study runs its
    cells with ``eval.factor_metrics=false`` and measures MIG here, in the worker.
    """
    run = load_run(path)
    data = run.dataset()
    if data.factors_test is None:
        return
    codes = encode_mean(run.model, data.to_float(data.test))
    factors = data.factors_test.numpy()
    m = mutual_info_matrix(histogram_discretize(codes), factors)
    entropy = factor_entropy(factors)
    record = Disentanglement(mig=mig_from_matrix(m, entropy), factor_mi_nats=m.tolist(),
                             factor_entropy_nats=entropy.tolist(),
                             factor_names=list(data.factor_names), factor_examples=len(codes))  # fmt: skip
    write_json(path / CELL_FACTORS, record.to_json())


def _with_mig(path: Path, metrics: RunMetrics) -> RunMetrics:
    if metrics.mig is not None or not (path / CELL_FACTORS).is_file():
        return metrics
    return metrics.replace(mig=Disentanglement.from_json(read_json(path / CELL_FACTORS)).mig)


def _metrics(path: Path) -> RunMetrics | None:
    try:
        return RunDir(path).metrics()
    except UserError:  # a damaged record: the cell keeps its status, without numbers
        return None


def read_study(path: str | Path) -> list[StudyRow]:
    """``study.csv`` of a study directory, as rows."""
    path = Path(path)
    if not (path / STUDY_CSV).is_file():
        raise UserError(f"{path} is not a study directory (no {STUDY_CSV})")
    return [StudyRow.from_json({k: _cell(v) for k, v in r.items()})
            for r in read_csv(path / STUDY_CSV)]  # fmt: skip


def _cell(value):
    """A CSV cell back as written: empty is not measured, True/False are booleans."""
    return (
        {"": None, "True": True, "False": False}.get(value, value)
        if isinstance(value, str)
        else value
    )
