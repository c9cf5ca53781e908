"""Following diagnose's advice works: each problem finding's ``fix_args``, given to
``vaebalance train --from RUN``, parse, change the config, and the new run no longer has the
finding."""

from __future__ import annotations

import pytest

from vaebalance.cli import main
from vaebalance.config import RunConfig, build_config, derive
from vaebalance.evaluation import diagnose
from vaebalance.runs import RunDir
from vaebalance.runs import train as train_run

pytestmark = pytest.mark.slow

SMALL = ["model.hidden=[64]", "model.latent_dim=8", "train.epochs=30", "train.threads=1",
         "train.tensorboard=false", "eval.iw_samples=0"]  # fmt: skip
# β = 100 squeezes the code shut (collapse); β = 0.001 lets the rate grow unchecked.
CASES = {"beta-100": ["balancer.beta=100"], "beta-0.001": ["balancer.beta=0.001"]}


def problems(path):
    run = RunDir(path)
    return [v for v in diagnose(run.metrics(), run.history(), run.config())
            if v.severity == "problem"]  # fmt: skip


@pytest.mark.parametrize("case", ["beta-100", "beta-0.001"])
def test_every_fix_applied_with_from_removes_its_finding(tmp_path, case):
    path, _ = train_run(build_config(None, [*SMALL, *CASES[case]]), tmp_path / "before")
    found = problems(path)
    assert found, f"{case} was built to be off balance"
    base = RunConfig.from_dict(RunDir(path).config())
    for i, finding in enumerate(found):
        assert finding.fix_args, finding.code
        items = finding.fix_args[1::2]
        assert derive(base, list(items)) != base  # it parses and changes something
        out = tmp_path / f"after-{i}"
        try:
            main(["train", "--from", str(path), *finding.fix_args, "--out", str(out), "--quiet",
                  "--no-report"])  # fmt: skip
        except SystemExit as e:
            assert e.code in (0, None)
        assert finding.code not in [v.code for v in problems(out)]
