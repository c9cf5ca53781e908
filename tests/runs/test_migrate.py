"""A run directory written by vaebalance 0.1.0 (tests/fixtures/run_v0_1) still loads,
evaluates, diagnoses, reports and resumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from vaebalance.evaluation import diagnose
from vaebalance.report import write_report
from vaebalance.runs import RunDir, evaluate_run, load_run, resume
from vaebalance.schema import RunMetrics

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run_v0_1"


@pytest.fixture
def old_run(tmp_path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "run"))


def test_old_metrics_are_upgraded_on_read_and_the_file_is_untouched(old_run):
    before = (old_run / "metrics.json").read_bytes()
    metrics = RunDir(old_run).metrics()
    assert isinstance(metrics, RunMetrics)
    # 0.1 recorded GECO's state and whether its target was met, but no verdict: it is derived.
    state = metrics.balancer_state
    assert metrics.target_status["target"] == "target_mse"
    assert metrics.target_status["value"] == state["target_mse"]
    assert metrics.target_status["reached"] == state["mse_ma"]
    assert metrics.target_status["met"] is metrics.target_met is False
    assert metrics.decoder_scale_kind == "learned"
    assert (old_run / "metrics.json").read_bytes() == before


def test_old_run_loads_with_its_weights(old_run):
    run = load_run(old_run)
    saved = json.loads((old_run / "metrics.json").read_text())
    assert run.loss_fn.likelihood.decoder_scale == pytest.approx(saved["decoder_scale"], rel=1e-6)
    x = run.dataset().to_float(run.dataset().test[:4])
    with torch.no_grad():
        output, mu, logvar = run.model(x)
    assert output.shape == x.shape and mu.shape == (4, 4)


def test_old_run_evaluates_to_its_own_numbers_and_keeps_its_facts(old_run):
    saved = json.loads((old_run / "metrics.json").read_text())
    metrics = evaluate_run(old_run, iw_samples=saved["iw_samples"])
    # Same weights, same data, same seed: the same measurement as 0.1 made.
    for key in ("rate_nats", "distortion_nats", "mse_per_element", "nll_iw_nats"):
        assert metrics[key] == pytest.approx(saved[key], rel=1e-5), key
    assert metrics.epochs == saved["epochs"] and metrics.balancer == "geco"
    assert metrics.target_status["target"] == "target_mse"


def test_old_run_diagnoses_and_reports(old_run):
    verdicts = diagnose(RunDir(old_run).metrics(), RunDir(old_run).history(), {})
    assert verdicts and all(v.code for v in verdicts)
    page = write_report(old_run).read_text()
    assert "geco" in page and 'src="data:image/png;base64,' in page


def test_old_run_resumes_from_its_checkpoint(old_run):
    path, metrics = resume(old_run, {"train.epochs": 3})
    history = RunDir(path).history()
    assert [r.epoch for r in history if r.split == "train"] == [1, 2, 3]
    assert metrics.steps == 75 and metrics.epochs == 3
    # 0.1 had no validation split: the run keeps training on all of its training examples.
    assert RunDir(path).config()["data"]["val_fraction"] == 0.0
    assert [r.split for r in history if r.epoch == 3] == ["train", "test"]
