"""The command line as a user meets it: real processes, exit codes, one-line errors."""

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vaebalance.cli import main

VAEBALANCE = [sys.executable, "-c", "from vaebalance.cli import main; main()"]
TINY = [
    "--set",
    "model.hidden=[32]",
    "--latent-dim",
    "4",
    "--epochs",
    "2",
    "--set",
    "train.tensorboard=false",
    "--iw-samples",
    "10",
    "--threads",
    "1",
]


def run(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run([*VAEBALANCE, *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_train_writes_a_run_and_prints_a_summary(tmp_path):
    result = run("train", *TINY, "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert f"outputs: {tmp_path / 'run'}" in result.stdout
    assert "active units" in result.stdout and "MSE per element" in result.stdout
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert math.isfinite(metrics["elbo_nats"])


def test_default_run_directory_is_named_after_the_run(tmp_path):
    result = run("train", *TINY, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("-digits-gaussian-learned-constant")


def test_user_errors_are_one_line_with_exit_code_2(tmp_path):
    result = run("train", "--data", str(tmp_path / "nowhere.npy"), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_explain_json_canonical_case(capsys):
    main(
        [
            "explain",
            "--recon",
            "mse",
            "--recon-reduction",
            "mean",
            "--kl-reduction",
            "mean",
            "--kl-weight",
            "0.1",
            "--input-dim",
            "784",
            "--latent-dim",
            "32",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    sigma2 = 0.1 * 784 / 32 / 2  # SSE + (w·K/J)·KL_sum = 2σ²·(negative ELBO at σ)
    assert out["sigma_squared"] == pytest.approx(sigma2)
    assert out["sigma"] == pytest.approx(math.sqrt(sigma2))
    assert out["beta"] == pytest.approx(sigma2)
    assert set(out) == {"beta", "sigma", "sigma_squared", "reference"}


def test_explain_bce_has_no_sigma(capsys):
    main(
        [
            "explain",
            "--recon",
            "bce",
            "--recon-reduction",
            "sum",
            "--kl-weight",
            "4",
            "--input-dim",
            "784",
            "--latent-dim",
            "10",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert out["beta"] == 4 and out["sigma"] is None


@pytest.mark.parametrize(
    "argv, message",
    [
        (["explain", "--input-dim", "0", "--latent-dim", "3"], "input dim K must be a positive"),
        (["explain", "--input-dim", "5", "--latent-dim", "-1"], "latent dim J must be a positive"),
        (
            ["explain", "--recon", "l1", "--input-dim", "5", "--latent-dim", "2"],
            "unknown reconstruction loss 'l1'",
        ),
        (["train", "--nonsense"], "No such option"),
        (["train", "--set", "train.epochs=0"], "train.epochs must be ≥ 1"),
    ],
)
def test_cli_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_print_config_is_the_resolved_config(capsys):
    main(["train", "--balancer", "geco", "--set", "balancer.target_mse=0.02", "--print-config"])
    cfg = json.loads(capsys.readouterr().out)
    # The value given, and every other parameter of GECO at its default.
    from vaebalance.balancers import parameters

    assert cfg["balancer"] == {"name": "geco", **parameters("geco"), "target_mse": 0.02}
    assert cfg["data"]["name"] == "digits"


@pytest.mark.parametrize("command", ["train", "evaluate", "diagnose", "explain"])
def test_every_command_has_help_with_examples(command, capsys):
    main([command, "--help"])
    assert "Example" in capsys.readouterr().out


@pytest.mark.integration
def test_one_epoch_on_real_fashion_mnist(tmp_path):
    if not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("apt-get install dataset-fashion-mnist")
    result = run(
        "train",
        "--data",
        "fashion-mnist",
        "--likelihood",
        "bernoulli",
        "--epochs",
        "1",
        "--iw-samples",
        "0",
        "--quiet",
        "--set",
        "train.tensorboard=false",
        "--out",
        str(tmp_path / "fm"),
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "fm" / "metrics.json").read_text())
    assert metrics["input_dim"] == 784 and metrics["examples"] == 10_000
    assert 100 < metrics["neg_elbo_nats"] < 400  # a real Bernoulli VAE after one epoch


def test_infeasible_target_is_a_warning_not_a_crash(tmp_path):
    out = tmp_path / "geco"
    result = run("train", *TINY, "--epochs", "4", "--balancer", "geco",
                 "--set", "balancer.target_mse=1e-7",
                 "--set", "balancer.lr=0.5", "--no-report", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "looks infeasible" in result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["target_met"] is False
    assert "nan" not in (out / "history.csv").read_text().lower()
    diagnosis = run("diagnose", str(out), "--json")
    findings = json.loads(diagnosis.stdout)["findings"]
    codes = [v["code"] for v in findings]
    assert "infeasible-target" in codes


def test_a_chained_balancer_from_the_readme_trains(tmp_path):
    # `--balancer warmup+geco` with a parameter of each part, as the README shows it.
    out = tmp_path / "chain"
    result = run("train", *TINY, "--balancer", "warmup+geco", "--set", "balancer.steps=20",
                 "--set", "balancer.target_mse=0.05", "--no-report", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["balancer"] == {"name": "warmup+geco", "steps": 20, "target_mse": 0.05}
    betas = [
        r["beta"]
        for r in csv.DictReader((out / "history.csv").read_text().splitlines())
        if r["split"] == "train"
    ]
    assert float(betas[0]) < 1  # warm-up scales GECO's β from 0


def test_a_warm_up_longer_than_the_run_says_so_in_the_log_metrics_and_diagnose(tmp_path):
    out = tmp_path / "warm"
    result = run("train", *TINY, "--balancer", "warmup", "--set", "balancer.steps=200",
                 "--no-report", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "schedule takes 200 steps but the run has 44" in result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["schedule_steps"] == 200 and metrics["schedule_completed"] == 0.22
    findings = json.loads(run("diagnose", str(out), "--json").stdout)["findings"]
    (unfinished,) = [f for f in findings if f["code"] == "schedule-unfinished"]
    # 200 steps at 22 per epoch (1455 training examples, batch 64) take ⌈9.09⌉ = 10 epochs.
    assert unfinished["fix_args"] == ["--set", "train.epochs=10"]
