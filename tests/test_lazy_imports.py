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


# Everything torch-backed that the light paths leave alone: the classes then answer what the
# catalogues answered (names, parameters), so the output must not change.
EVERYTHING = (
    "import torch, matplotlib.figure, vaebalance.balancers, vaebalance.objective.likelihoods, "
    "vaebalance.models.build, vaebalance.runs.start\n"
)


def cli_in_fresh_process(args: list[str], preload_torch: bool) -> dict:
    """The CLI's stdout for ``args`` and whether torch (and matplotlib) ended up imported."""
    code = (
        (EVERYTHING if preload_torch else "")
        + "import contextlib, io, json, sys\n"
        + "from vaebalance.cli import main\n"
        + "out = io.StringIO()\n"
        + "with contextlib.redirect_stdout(out):\n"
        + "    try:\n"
        + f"        main({args!r})\n"
        + "    except SystemExit as e:\n"
        + "        assert not e.code, e.code\n"
        + "print(json.dumps({'out': out.getvalue(), 'torch': 'torch' in sys.modules,\n"
        + "                  'matplotlib': 'matplotlib' in sys.modules}))\n"
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


TINY = ["model.hidden=[32]", "model.latent_dim=4", "train.epochs=2", "train.threads=1",
        "train.tensorboard=false", "eval.iw_samples=0"]  # fmt: skip


def tiny_run(path: Path, *extra: str) -> Path:
    from vaebalance.config import build_config
    from vaebalance.runs import train

    return train(build_config(None, [*TINY, *extra]), path)[0]


@pytest.fixture(scope="module")
def reported_run(tmp_path_factory) -> Path:
    """A finished run with its report written, as ``vaebalance train`` leaves it; β = 50
    collapses it, so that diagnose checks a fix (a config derived and validated)."""
    from vaebalance.report import write_report

    path = tiny_run(tmp_path_factory.mktemp("runs") / "run", "balancer.beta=50")
    write_report(path)
    return path


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_diagnose_of_a_run_imports_no_torch_and_says_the_same(reported_run, extra):
    args = ["diagnose", str(reported_run), *extra]
    lazy = cli_in_fresh_process(args, preload_torch=False)
    eager = cli_in_fresh_process(args, preload_torch=True)
    assert not lazy["torch"] and not lazy["matplotlib"]
    assert "--set" in lazy["out"]  # a fix: a config derived from the run's, and checked
    assert lazy["out"] == eager["out"]


def test_report_of_a_reported_run_imports_neither_torch_nor_matplotlib(reported_run):
    html = (reported_run / "report.html").read_text()
    lazy = cli_in_fresh_process(["report", str(reported_run)], preload_torch=False)
    assert not lazy["torch"] and not lazy["matplotlib"]
    assert lazy["out"].strip() == f"report: {reported_run / 'report.html'}"
    assert (reported_run / "report.html").read_text() == html  # the same pictures and numbers


def test_the_first_report_of_a_run_trained_without_one_imports_no_torch(tmp_path):
    path = tiny_run(tmp_path / "run")  # the model's pictures were kept by training
    lazy = cli_in_fresh_process(["report", str(path)], preload_torch=False)
    assert not lazy["torch"] and lazy["matplotlib"]  # the charts are drawn once
    assert 'id="reconstructions"' in (path / "report.html").read_text()


def test_the_modules_of_the_light_paths_import_no_torch():
    code = (
        "import sys\n"
        "import vaebalance.config, vaebalance.evaluation, vaebalance.models, vaebalance.report\n"
        "import vaebalance.report.run_page, vaebalance.runs.pictures, vaebalance.sweeps\n"
        "from vaebalance.config import RunConfig\n"
        "cfg = RunConfig().with_value('balancer.name', 'warmup+geco')\n"
        "cfg = cfg.with_value('balancer.target_mse', '0.01').with_value('likelihood.name', 'laplace')\n"
        "vaebalance.config.validate(RunConfig.from_dict(cfg.to_dict()))\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'numpy') if m in sys.modules))\n"
    )
    assert run_python(code).strip() == "[]"


@pytest.mark.parametrize("command", ["diagnose", "report"])
def test_the_quick_exit_flushes_the_output_and_runs_the_exit_handlers(reported_run, command,
                                                                      tmp_path):  # fmt: skip
    """A light command run as the program leaves without the interpreter's teardown: what it
    printed, into a file (block-buffered), is all there, the exit handlers ran, the code is 0."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran'))\n"
        f"sys.argv = ['vaebalance', {command!r}, {str(reported_run)!r}]\n"
        "from vaebalance.cli import main\n"
        "main()\n"
        "print('not reached')\n"
    )
    out = tmp_path / "out.txt"
    with out.open("w") as f:
        done = subprocess.run([sys.executable, "-c", code], stdout=f, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": SRC})  # fmt: skip
    in_process = cli_in_fresh_process([command, str(reported_run)], preload_torch=False)["out"]
    assert done.returncode == 0
    assert out.read_text() == in_process + "exit handler ran\n"


def test_an_error_still_exits_with_code_2_after_its_line(tmp_path):
    code = (
        f"import sys\nsys.argv = ['vaebalance', 'diagnose', {str(tmp_path / 'nope')!r}]\n"
        "from vaebalance.cli import main\nmain()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": SRC})  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: no such run directory: {tmp_path / 'nope'}\n"
