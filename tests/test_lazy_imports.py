"""Lazy imports (PEP 562) keep torch out of the light commands and change nothing else.

Each check runs in a fresh interpreter, since this test process has long imported torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")

EXPLAIN = ["explain", "--recon", "mse", "--recon-reduction", "mean", "--kl-reduction", "mean",
           "--kl-weight", "0.1", "--input-dim", "784", "--latent-dim", "32"]  # fmt: skip
PRESET = ["explain", "--preset", "pytorch-vae", "--input-shape", "1,28,28", "--latent-dim", "16"]


def run_python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True, timeout=120)  # fmt: skip
    return done.stdout


def cli_in_fresh_process(args: list[str], preload_torch: bool) -> dict:
    """The CLI's stdout for ``args`` and whether torch ended up imported."""
    code = (
        ("import torch\n" if preload_torch else "")
        + "import contextlib, io, json, sys\n"
        + "from vaebalance.cli import main\n"
        + "out = io.StringIO()\n"
        + "with contextlib.redirect_stdout(out):\n"
        + "    try:\n"
        + f"        main({args!r})\n"
        + "    except SystemExit as e:\n"
        + "        assert not e.code, e.code\n"
        + "print(json.dumps({'out': out.getvalue(), 'torch': 'torch' in sys.modules}))\n"
    )
    return json.loads(run_python(code))


@pytest.mark.parametrize("args", [EXPLAIN, PRESET, ["--help"], ["--version"], ["explain", "-h"]])
def test_light_commands_do_not_import_torch_and_print_the_same(args):
    lazy = cli_in_fresh_process(args, preload_torch=False)
    eager = cli_in_fresh_process(args, preload_torch=True)
    assert not lazy["torch"]
    assert lazy["out"].strip()
    assert lazy["out"] == eager["out"]


def test_import_vaebalance_alone_does_not_import_torch():
    assert run_python("import sys, vaebalance; print('torch' in sys.modules)").strip() == "False"


def test_every_public_name_resolves_to_the_object_it_names():
    code = """
import vaebalance, vaebalance.objective as o
from vaebalance.objective import elbo, kl, loss_explain, presets
from vaebalance.objective import explain as ex_mod_attr
import sys
ex_mod = sys.modules['vaebalance.objective.explain']
from vaebalance import balancers, evaluation, likelihoods, runs
expected = {
    "ELBOLoss": elbo.ELBOLoss, "LossOutput": elbo.LossOutput, "explain": ex_mod.explain,
    "explain_loss": loss_explain.explain_loss, "explain_preset": presets.explain_preset,
    "kl_divergence": kl.kl_divergence, "kl_normal_std": kl.kl_normal_std,
    "diagnose": evaluation.diagnose, "diagnose_model": evaluation.diagnose_model,
    "evaluate_model": evaluation.evaluate_model, "evaluate": runs.evaluate_run,
    "load_run": runs.load_run, "train": runs.train, "balancers": balancers,
    "likelihoods": likelihoods,
}
assert set(vaebalance.__all__) == {*expected, "UserError"}, vaebalance.__all__
for name, obj in expected.items():
    assert getattr(vaebalance, name) is obj, name
# the function, not the submodule of the same name, as before the lazy imports
assert ex_mod_attr is ex_mod.explain and o.explain is ex_mod.explain
assert o.ELBOLoss is elbo.ELBOLoss and o.load_loss_function is loss_explain.load_loss_function
assert callable(vaebalance.train)
print("ok")
"""
    assert run_python(code).strip() == "ok"


def test_unknown_attribute_is_an_attribute_error():
    code = "import vaebalance\ntry:\n    vaebalance.nope\nexcept AttributeError:\n    print('ok')"
    assert run_python(code).strip() == "ok"


@pytest.mark.parametrize(
    "line",
    ["from vaebalance import ELBOLoss", "from vaebalance.objective import ELBOLoss",
     "from vaebalance.objective.elbo import ELBOLoss"],
)  # fmt: skip
def test_the_loss_finds_every_balancer_whichever_module_is_imported_first(line):
    """The balancers register from a package the lazy ``__init__`` no longer imports up front:
    the registry imports it on its first look-up."""
    code = (
        f"{line}\nfrom vaebalance.objective.balancer import names\n"
        "print(type(ELBOLoss('bernoulli', 'warmup').balancer).__name__, len(names()))"
    )
    name, count = run_python(code).split()
    assert name == "Warmup" and int(count) >= 8
