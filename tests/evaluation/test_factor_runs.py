"""The factor metrics through a run's life: a factors file given to `evaluate` (and `train`),
metrics.json, and the report's heat map of which factor each latent dim captures."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from vaebalance.config import build_config
from vaebalance.errors import UserError
from vaebalance.report import write_report
from vaebalance.runs import RunDir, evaluate_run, train
from vaebalance.schema import Disentanglement

TINY = [
    "model.hidden=[32]",
    "model.latent_dim=4",
    "train.epochs=1",
    "train.threads=1",
    "train.tensorboard=false",
    "eval.iw_samples=0",
]
OBSERVATIONAL = ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap",
                 "modularity", "explicitness")  # fmt: skip


@pytest.fixture(scope="module")
def factors_csv(tmp_path_factory):
    labels = load_digits().target
    path = tmp_path_factory.mktemp("factors") / "digits_factors.csv"
    rows = "\n".join(f"{d},{d % 2}" for d in labels)
    path.write_text("digit,parity\n" + rows + "\n")
    return path


def test_evaluate_adds_the_factor_metrics_and_the_report_shows_them(tmp_path, factors_csv):
    path, metrics = train(build_config(None, TINY), tmp_path / "run")
    assert metrics.mig is None  # digits has no factors of its own
    with pytest.raises(UserError, match="no generative factors"):
        evaluate_run(path, iw_samples=1, factor_metrics=True)
    metrics = evaluate_run(path, iw_samples=1, factors=factors_csv)
    for key in OBSERVATIONAL:
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics.factor_names == ["digit", "parity"]
    assert np.array(metrics.factor_mi_nats).shape == (4, 2)
    assert metrics.factor_examples == 180  # the test split
    on_disk = RunDir(path).metrics()
    assert on_disk.mig == metrics.mig and on_disk.epochs == 1  # training facts kept
    html = write_report(path).read_text()
    assert 'id="factors"' in html and "I(z<sub>j</sub>; v<sub>k</sub>)" in html
    assert ": digit (" in html or ": parity (" in html  # traversal rows name their factor


def test_train_with_a_factors_file_records_it(tmp_path, factors_csv):
    path, metrics = train(build_config(None, [*TINY, f"data.factors={factors_csv}"]),
                          tmp_path / "run")  # fmt: skip
    assert metrics.mig is not None and metrics.factor_names == ["digit", "parity"]
    # The factors file travels with the run: a later evaluate finds it by itself.
    again = evaluate_run(path, iw_samples=1)
    assert again.mig == pytest.approx(metrics.mig)


def test_the_public_function_returns_the_schema_record():
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 3, size=(60, 2))
    from vaebalance.evaluation import disentanglement

    result = disentanglement(factors + 0.01 * rng.normal(size=factors.shape), factors)
    assert isinstance(result, Disentanglement) and isinstance(result, dict)
    assert set(OBSERVATIONAL) <= set(result)
