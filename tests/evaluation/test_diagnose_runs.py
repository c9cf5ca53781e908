"""`diagnose` on real runs built to collapse, to ignore the KL, and to be balanced."""

import pytest

from vaebalance.config import build_config
from vaebalance.evaluation import diagnose
from vaebalance.runs import RunDir, train

SMALL = [
    "model.hidden=[64]",
    "model.latent_dim=8",
    "train.epochs=30",
    "train.threads=1",
    "train.tensorboard=false",
    "eval.iw_samples=0",
]


def verdict_codes(tmp_path, beta: float) -> list[str]:
    cfg = build_config(None, [*SMALL, f"balancer.beta={beta}"])
    path, _ = train(cfg, tmp_path / f"beta-{beta}")
    run = RunDir(path)
    return [v.code for v in diagnose(run.metrics(), run.history(), run.config())]


@pytest.mark.slow
@pytest.mark.parametrize(
    "beta, expected",
    [(100.0, "posterior-collapse"), (0.001, "kl-ignored"), (1.0, "healthy")],
)
def test_diagnose_tells_the_regimes_apart(tmp_path, beta, expected):
    codes = verdict_codes(tmp_path, beta)
    assert codes[0] == expected, codes
    if expected == "healthy":
        assert codes == ["healthy"]
