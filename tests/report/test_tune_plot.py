"""The tune picture: one PNG for every goal, with or without finished runs."""

import io

import pytest
from matplotlib.image import imread

from vaebalance.report.tune_plot import tune_figure, tune_frontier
from vaebalance.schema import TuneRow

ROWS = [
    TuneRow(run="run01_beta-0.02", beta=0.02, status="finished", rate_nats=33.0,
            mse_per_element=0.0144, psnr_db=18.4),
    TuneRow(run="run02_beta-0.5", beta=0.5, status="finished", rate_nats=6.0,
            mse_per_element=0.023, psnr_db=16.4),
    TuneRow(run="run03_beta-0.2", beta=0.2, status="failed", error="boom"),
    TuneRow(run="run04_beta-0.25", beta=0.25, status="finished", rate_nats=8.5,
            mse_per_element=0.0199, psnr_db=17.0),
]  # fmt: skip


@pytest.mark.parametrize(
    "key, target", [("mse_per_element", 0.02), ("psnr_db", 17.0), ("rate_nats", 8.0)]
)
def test_every_goal_draws_the_finished_runs_and_the_target(key, target):
    png = tune_frontier(ROWS, key, target, 0.05, "run04_beta-0.25", "fashion-mnist")
    assert imread(io.BytesIO(png)).shape[0] > 300
    frontier, search = tune_figure(ROWS, key, target, 0.05, "run04_beta-0.25").axes
    # Three finished runs (the failed one has nothing to draw), the chosen one starred.
    assert len(search.collections[0].get_offsets()) == 3
    assert [t.get_text() for t in search.texts] == ["1", "2", "3"]
    assert any("chosen: run04_beta-0.25" in t.get_text() for t in frontier.get_legend().texts)


def test_no_finished_run_says_so():
    fig = tune_figure(ROWS[2:3], "mse_per_element", 0.02, 0.05)
    assert fig.axes[0].texts[0].get_text() == "no finished runs"
