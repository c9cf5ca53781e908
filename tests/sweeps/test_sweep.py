"""Sweeps on the embedded digits: complete, resumable, failures recorded, plots written."""

import os
import shutil

import pytest

from vaebalance.config import build_config
from vaebalance.errors import UserError
from vaebalance.report import write_report
from vaebalance.report.sweep_page import sweep_context
from vaebalance.runs import RunDir
from vaebalance.storage import read_csv
from vaebalance.sweeps import parse_grid, run_sweep

TINY = [
    "model.hidden=[32]",
    "model.latent_dim=4",
    "train.epochs=2",
    "train.tensorboard=false",
    "eval.iw_samples=0",
]
pytestmark = pytest.mark.slow  # trains a dozen tiny runs, in worker processes too
BETAS = ["balancer.beta=0.3,1,3,10"]
NAMES = ["beta-0.3", "beta-1", "beta-3", "beta-10"]
CORES = len(os.sched_getaffinity(0))


def sweep(out, grid=BETAS, *extra, **options):
    options = {"workers": 2, **options}
    return run_sweep(build_config(None, [*TINY, *extra]), parse_grid(grid), out, **options)


@pytest.fixture(scope="module")
def four_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "betas"
    return sweep(out)


def stamps(path, names):
    return {
        (n, f): (path / n / f).stat().st_mtime_ns
        for n in names
        for f in ("metrics.json", "model.safetensors", "config.json")
    }


def test_four_runs_complete_in_two_worker_processes(four_runs):
    rows = read_csv(four_runs.path / "sweep.csv")
    assert [r["run"] for r in rows] == NAMES
    assert [r["balancer.beta"] for r in rows] == [0.3, 1, 3, 10]
    for row in rows:
        assert row["status"] == "finished" and row["error"] == ""
        for key in ("rate_nats", "distortion_nats", "elbo_nats", "mse_per_element"):
            assert isinstance(row[key], float)
        assert row["nll_iw_nats"] == ""  # eval.iw_samples=0: not computed
        assert isinstance(row["active_units"], int) and row["wall_seconds"] > 0
        run = RunDir(four_runs.path / row["run"])
        assert run.info()["status"] == "finished"
        assert run.config()["balancer"]["beta"] == float(row["balancer.beta"])
        assert run.config()["train"]["threads"] == max(1, CORES // 2)  # split between workers
    # A bigger β buys a smaller rate.
    assert rows[0]["rate_nats"] > rows[-1]["rate_nats"]


def test_the_report_and_plots_are_written(four_runs):
    report = write_report(four_runs.path).read_text()
    for name in ("rate_distortion.png", "versus.png"):
        assert (four_runs.path / name).read_bytes().startswith(b"\x89PNG")
    assert 'id="rate-distortion"' in report and 'id="recommendation"' in report
    assert report.count('src="data:image/png;base64,') == 2 + 2 * 4  # plots, then 4 runs' pictures
    assert 'alt="reconstructions by beta-0.3"' in report and 'alt="samples of beta-10"' in report
    # The likelihood the runs used, not the "auto" the command asked for.
    config = dict(sweep_context(four_runs.path)["config"])
    assert config["likelihood.name"] == '"gaussian-learned (auto)"'


def test_a_rerun_redoes_only_the_runs_whose_outputs_were_deleted(four_runs):
    path = four_runs.path
    kept = ["beta-0.3", "beta-10"]
    before = stamps(path, kept)
    shutil.rmtree(path / "beta-1")  # gone: trained again from scratch
    (path / "beta-3" / "metrics.json").unlink()  # stopped after its last checkpoint: resumed
    plans = []
    again = sweep(path, on_plan=plans.append)
    assert (plans[0].total, plans[0].finished, plans[0].todo) == (4, 2, 2)
    assert stamps(path, kept) == before
    rows = read_csv(path / "sweep.csv")
    assert [r["run"] for r in rows] == NAMES and [r["run"] for r in again.rows] == NAMES
    assert all(r["status"] == "finished" for r in rows)
    assert (path / "beta-1" / "metrics.json").is_file()
    assert (path / "beta-3" / "metrics.json").is_file()


def test_a_failing_run_is_recorded_and_the_others_go_on(tmp_path):
    # A learning rate of 1e30 passes the config's checks and fails only in training.
    grid = ["train.lr=1e30,0.001"]
    result = sweep(tmp_path / "s", grid, "train.epochs=1", "train.max_bad_steps=2", workers=1)
    rows = read_csv(tmp_path / "s" / "sweep.csv")
    assert [r["status"] for r in rows] == ["failed", "finished"]
    assert "non-finite" in rows[0]["error"]
    assert [r["status"] for r in result.rows] == ["failed", "finished"]


def test_a_sweep_directory_of_another_command_is_refused(four_runs):
    with pytest.raises(UserError, match=r"different command \(train.epochs 2 → 3\)"):
        sweep(four_runs.path, BETAS, "train.epochs=3")
    with pytest.raises(UserError, match="different command .grid"):
        sweep(four_runs.path, ["balancer.beta=0.3,1"])
