"""`vaebalance sweep` and `vaebalance report` as a user meets them: results, and one-line errors."""

import sys

import pytest

from vaebalance.cli import main

TINY = [
    "--data",
    "digits",
    "--set",
    "model.hidden=[16]",
    "--latent-dim",
    "2",
    "--steps",
    "2",
    "--iw-samples",
    "0",
    "--set",
    "train.tensorboard=false",
    "--workers",
    "1",
]


def exit_code(argv) -> int:
    try:
        main(argv)
    except SystemExit as e:
        return e.code
    return 0


def one_line_error(capsys, argv, *words):
    assert exit_code(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    for word in words:
        assert word in err, err
    return err


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A one-run sweep made by the command line, with its reports."""
    out = tmp_path_factory.mktemp("cli") / "seeds"
    code = exit_code(["sweep", *TINY, "--grid", "train.seed=0", "--out", str(out), "--quiet"])
    return out, code


def test_a_sweep_prints_its_table_and_recommendation_and_writes_reports(made, capsys):
    out, code = made
    assert code == 0
    assert (out / "report.html").is_file() and (out / "seed-0" / "report.html").is_file()
    assert exit_code(["report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "recommended: seed-0" in printed and f"report: {out / 'report.html'}" in printed


def test_an_empty_grid(tmp_path, capsys):
    one_line_error(capsys, ["sweep", *TINY, "--out", str(tmp_path / "s")], "empty grid")


def test_a_grid_key_that_is_not_a_config_field_lists_the_valid_ones(tmp_path, capsys):
    argv = ["sweep", *TINY, "--grid", "model.width=1,2", "--out", str(tmp_path / "s")]
    one_line_error(capsys, argv, "'model.width' is not a config field", "model.latent_dim")


def test_a_sweep_directory_made_by_a_different_command(made, capsys):
    out, _ = made
    argv = ["sweep", *TINY, "--grid", "train.seed=0,1", "--out", str(out)]
    one_line_error(capsys, argv, "different command", "train.seed=0 → train.seed=0,1")
    argv = ["sweep", *TINY, "--lr", "0.01", "--grid", "train.seed=0", "--out", str(out)]
    one_line_error(capsys, argv, "different command (train.lr 0.001 → 0.01)")


def test_a_directory_that_is_not_a_sweep(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    argv = ["sweep", *TINY, "--grid", "train.seed=0", "--out", str(tmp_path)]
    one_line_error(capsys, argv, "not a sweep")


def test_a_bad_value_is_caught_before_any_run(tmp_path, capsys):
    argv = ["sweep", *TINY, "--grid", "train.lr=0.1,fast", "--out", str(tmp_path / "s")]
    one_line_error(capsys, argv, "run lr-fast", "train.lr must be float")
    assert not (tmp_path / "s").exists()


def test_the_ray_backend_without_ray(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails, installed or not
    argv = ["sweep", *TINY, "--grid", "train.seed=0", "--backend", "ray", "--out", str(tmp_path)]
    one_line_error(capsys, argv, "pip install 'vaebalance[ray]'")


def test_an_address_needs_the_ray_backend(tmp_path, capsys):
    argv = ["sweep", *TINY, "--grid", "train.seed=0", "--address", "auto", "--out", str(tmp_path)]
    one_line_error(capsys, argv, "add --backend ray")


def test_report_needs_a_run_or_a_sweep(tmp_path, capsys):
    one_line_error(capsys, ["report", str(tmp_path)], "neither a run")
    one_line_error(capsys, ["report", str(tmp_path / "missing")], "no such directory")


def test_goals_apply_to_sweeps_only(made, capsys):
    out, _ = made
    one_line_error(capsys, ["report", str(out / "seed-0"), "--target-mse", "0.1"], "sweeps")
    one_line_error(capsys, ["report", str(out), "--target-mse", "-1"], "must be > 0")
