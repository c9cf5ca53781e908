"""``evaluate_other`` (``vaebalance evaluate RUN --data SOURCE``): metrics on other data,
written beside the run's own, with the run's standardization, shown in its report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vaebalance.config import build_config
from vaebalance.errors import UserError
from vaebalance.report.html import write_report
from vaebalance.report.run_page import run_context
from vaebalance.runs import RunDir, evaluate_other, load_run, train

TINY = ["model.hidden=[16]", "model.latent_dim=2", "train.epochs=2", "train.threads=1",
        "train.tensorboard=false", "eval.iw_samples=8"]  # fmt: skip


@pytest.fixture(scope="module")
def std_run(tmp_path_factory):
    """A standardized run on real-valued features, and its test split saved as a file."""
    tmp = tmp_path_factory.mktemp("other")
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(120, 5)) * [0.1, 1, 10, 100, 1000] + 50).astype(np.float32)
    np.save(tmp / "x.npy", x)
    cfg = build_config(None, [*TINY, f"data.name={tmp / 'x.npy'}", "data.standardize=true"])
    path, metrics = train(cfg, tmp / "run")
    test = load_run(path).dataset().test.numpy()
    np.save(tmp / "test split.npy", test)
    return tmp, path, metrics


def test_the_runs_own_test_split_as_other_data_gives_its_own_numbers(std_run):
    """Same model, examples, seed and k: equal numbers only if the run's own statistics are
    applied (refitting them on this file would change every NLL)."""
    tmp, path, metrics = std_run
    before = (path / "metrics.json").read_bytes()
    written, other = evaluate_other(path, str(tmp / "test split.npy"), iw_samples=8)
    assert written == path / "metrics-test_split.json"
    assert (path / "metrics.json").read_bytes() == before
    assert other.examples == metrics.examples  # all the file's examples
    for key in ("nll_iw_nats", "neg_elbo_nats", "distortion_nats", "rate_nats", "log_det_nats",
                "mse_per_element"):  # fmt: skip
        assert other[key] == pytest.approx(metrics[key], rel=1e-6, abs=1e-6), key
    saved = json.loads(written.read_text())
    assert saved["dataset"] == str(tmp / "test split.npy")
    assert saved["dataset_source"]["split"] == "all"


def test_other_data_show_in_the_report_beside_the_test_split(std_run):
    tmp, path, metrics = std_run
    np.save(tmp / "shifted.npy", np.load(tmp / "x.npy")[:30] + 7)
    _, shifted = evaluate_other(path, str(tmp / "shifted.npy"), iw_samples=8)
    names = [name for name, _ in RunDir(path).other_metrics()]
    assert str(tmp / "shifted.npy") in names
    table = run_context(path)["other_data"]
    column = table["headers"].index(str(tmp / "shifted.npy"))
    assert table["headers"][0] == "test split"
    rows = {r["label"]: r["values"] for r in table["rows"]}
    assert rows["IWAE NLL (upper bound on −log p(x))"][column] == f"{shifted.nll_iw_nats:.4g}"
    assert rows["IWAE NLL (upper bound on −log p(x))"][0] == f"{metrics.nll_iw_nats:.4g}"
    assert rows["examples evaluated"][column] == "30"
    html = write_report(path).read_text()
    assert "On other data" in html and f"<th>{tmp / 'shifted.npy'}</th>" in html


def test_other_data_of_another_shape_are_refused(std_run):
    tmp, path, _ = std_run
    np.save(tmp / "wide.npy", np.zeros((10, 6), np.float32))
    with pytest.raises(UserError, match=r"wide.npy has examples of shape \(6,\), but the run's "
                       r"model takes \(5,\)$"):  # fmt: skip
        evaluate_other(path, str(tmp / "wide.npy"))
    assert not list(path.glob("metrics-wide*"))


def test_a_bernoulli_run_refuses_real_valued_other_data(tmp_path):
    path, _ = train(build_config(None, [*TINY, "likelihood.name=bernoulli"]), tmp_path / "run")
    np.save(tmp_path / "real.npy", np.full((10, 1, 8, 8), -0.5, np.float32))
    with pytest.raises(UserError, match=r"real.npy has values in \[-0.5, -0.5\], outside \[0, 1\]"
                       r": the bernoulli likelihood needs data in \[0, 1\]"):  # fmt: skip
        evaluate_other(path, str(tmp_path / "real.npy"))
    # Pixels in [0, 1] of the right shape are fine, and go to metrics-<name>.json.
    np.save(tmp_path / "grey.npy", np.full((10, 8, 8), 0.25, np.float32))
    written, evaluation = evaluate_other(path, str(tmp_path / "grey.npy"), iw_samples=2)
    assert written.name == "metrics-grey.json" and evaluation.examples == 10
