"""The recommendation on a hand-built sweep.csv: the knee, each goal, misses, ties."""

import pytest

from vaebalance.errors import UserError
from vaebalance.schema import SweepRow
from vaebalance.storage import read_csv, write_csv
from vaebalance.sweeps import Goal, recommend

# A β-sweep whose frontier bends at beta-1; beta-100 collapsed; beta-bad failed.
ROWS = [
    {
        "run": "beta-0.1",
        "status": "finished",
        "rate_nats": 60.0,
        "distortion_nats": 9.0,
        "mse_per_element": 0.004,
        "active_units": 16,
    },
    {
        "run": "beta-0.3",
        "status": "finished",
        "rate_nats": 30.0,
        "distortion_nats": 12.0,
        "mse_per_element": 0.008,
        "active_units": 14,
    },
    {
        "run": "beta-1",
        "status": "finished",
        "rate_nats": 12.0,
        "distortion_nats": 20.0,
        "mse_per_element": 0.015,
        "active_units": 9,
    },
    {
        "run": "beta-3",
        "status": "finished",
        "rate_nats": 5.0,
        "distortion_nats": 60.0,
        "mse_per_element": 0.05,
        "active_units": 4,
    },
    {
        "run": "beta-100",
        "status": "finished",
        "rate_nats": 0.01,
        "distortion_nats": 100.0,
        "mse_per_element": 0.09,
        "active_units": 0,
    },
    {
        "run": "beta-bad",
        "status": "failed",
        "rate_nats": "",
        "distortion_nats": "",
        "error": "model.latent_dim must be ≥ 1, got 0",
    },
]


@pytest.fixture
def rows(tmp_path):
    write_csv(tmp_path / "sweep.csv", ROWS)
    return read_csv(tmp_path / "sweep.csv")  # as a report reads them: '' for missing


def test_without_a_goal_the_knee_of_the_frontier(rows):
    choice = recommend(rows)
    assert choice.run == "beta-1"
    assert "knee" in choice.reason and choice.reason.count(".") <= 6  # one sentence


def test_a_target_mse_picks_the_lowest_rate_that_meets_it(rows):
    choice = recommend(rows, Goal(target_mse=0.01))
    assert choice.run == "beta-0.3"
    assert "lowest rate of the 2 finished runs that meet MSE per element ≤ 0.01" in choice.reason


def test_a_target_rate_picks_the_lowest_distortion_within_it(rows):
    assert recommend(rows, Goal(target_rate=20)).run == "beta-1"
    assert recommend(rows, Goal(target_rate=5)).run == "beta-3"


def test_a_minimum_of_active_units_with_the_best_elbo(rows):
    assert recommend(rows, Goal(min_active_units=10)).run == "beta-0.3"  # R + D = 42 < 69


def test_goals_combine(rows):
    assert recommend(rows, Goal(target_mse=0.02, min_active_units=10)).run == "beta-0.3"


def test_an_unmet_goal_gives_the_closest_run_and_says_so(rows):
    choice = recommend(rows, Goal(target_mse=0.001))
    assert choice.run == "beta-0.1"
    assert choice.reason.startswith("No run meets MSE per element ≤ 0.001; beta-0.1 comes closest")


def test_ties_go_to_the_first_run_in_grid_order(rows):
    twin = {**rows[2], "run": "beta-1-again"}
    assert recommend([*rows, twin]).run == "beta-1"
    assert recommend([twin, *rows]).run == "beta-1-again"
    assert recommend([*rows, twin], Goal(target_mse=0.02)).run == "beta-1"


def test_the_answer_is_the_same_every_time(rows):
    answers = {(c.run, c.reason) for c in (recommend(rows, Goal(target_rate=30)) for _ in range(5))}
    assert len(answers) == 1


def test_few_frontier_points_fall_back_to_the_best_elbo(rows):
    choice = recommend(rows[2:4])
    assert choice.run == "beta-1" and "best ELBO" in choice.reason


def test_no_finished_run_no_recommendation(rows):
    assert recommend([rows[-1]]) is None


@pytest.mark.parametrize("goal", [{"target_mse": 0}, {"target_rate": -1}, {"min_active_units": 0}])
def test_impossible_goals_are_user_errors(goal):
    with pytest.raises(UserError):
        Goal(**goal)


def test_seeds_are_averaged_so_one_lucky_seed_does_not_win():
    # Setting A has one excellent seed and two poor ones; B is good on every seed.
    def row(beta, seed, distortion):
        return SweepRow.of(f"beta-{beta}-seed-{seed}", {"balancer.beta": beta, "train.seed": seed},
                           "finished", {"rate_nats": 10.0, "distortion_nats": distortion}, 1.0)  # fmt: skip

    rows = [row("1", 0, 50.0), row("1", 1, 90.0), row("1", 2, 95.0),
            row("2", 0, 60.0), row("2", 1, 61.0), row("2", 2, 62.0)]  # fmt: skip
    choice = recommend(rows, Goal(target_rate=20.0))
    assert choice.run == "beta-2-seed-0" and "mean of its 3 seeds" in choice.reason
    # Without seeds in the grid the same numbers are six separate runs: the lucky one wins.
    alone = [r.replace(values={"run": r.run}) for r in rows]
    assert recommend(alone, Goal(target_rate=20.0)).run == "beta-1-seed-0"
