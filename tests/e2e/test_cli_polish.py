"""The command line's small courtesies: help, version, whole progress lines in a log, a config
shown in full, reports that follow re-evaluations, and a resume with nothing to do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vaebalance import __version__
from vaebalance.cli import main

from .test_cli import TINY, run

ROOT = Path(__file__).resolve().parents[2]


def cli(args, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bare_command_prints_the_help_and_no_error(capsys):
    code, out, err = cli([], capsys)
    assert code == 0 and "Commands:" in out and "train" in out and err == ""


def test_version_and_short_help(capsys):
    assert cli(["--version"], capsys)[:2] == (0, f"vaebalance {__version__}\n")
    code, out, _ = cli(["train", "-h"], capsys)
    assert code == 0 and "--print-config" in out


def test_train_help_shows_defaults_and_whole_lists_without_type_tags(capsys):
    _, out, _ = cli(["train", "--help"], capsys)
    flat = " ".join(out.split())
    assert "(default: 100)" in flat and "(default: 16)" in flat and "(default: 64)" in flat
    assert "laplace" in flat and "warmup" in flat  # the ends of the lists, not "…"
    assert "<bool>" not in out and "--no-quiet" not in out and "…" not in out


def test_print_config_shows_the_components_defaults(capsys):
    code, out, _ = cli(["train", "--balancer", "geco", "--print-config"], capsys)
    balancer = json.loads(out)["balancer"]
    assert code == 0 and balancer["name"] == "geco" and "lr" in balancer and "alpha" in balancer


@pytest.mark.slow
def test_a_log_gets_whole_lines_a_report_follows_evaluate_and_finished_runs_stay(tmp_path):
    out = tmp_path / "run"
    trained = run("train", *TINY, "--out", str(out))  # stdout is a pipe, not a terminal
    assert trained.returncode == 0, trained.stderr
    lines = [line for line in trained.stdout.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2 and all("val −ELBO" in line for line in lines)
    report = (out / "report.html").stat().st_mtime_ns
    metrics = (out / "metrics.json").read_bytes()
    again = run("train", "--resume", str(out))
    assert again.returncode == 0 and "finished already" in again.stderr
    assert (out / "metrics.json").read_bytes() == metrics  # not re-evaluated
    evaluated = run("evaluate", str(out), "--iw-samples", "3")
    assert evaluated.returncode == 0, evaluated.stderr
    assert (out / "report.html").stat().st_mtime_ns > report  # no stale numbers left


def test_a_benchmark_help_does_not_run_it():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "matmul.py"), "--help"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0 and "usage:" in proc.stdout and "GFLOP" not in proc.stdout
