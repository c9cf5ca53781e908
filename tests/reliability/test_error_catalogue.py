"""Every bad input of the catalogue (catalogue.py, docs/errors.md) through the CLI: exit code 2,
exactly one line ``error: <message>`` on stderr, no traceback, and no file created or changed."""

from __future__ import annotations

import json
import re
import resource
import shlex
import signal

import pytest

from vaebalance.runs import RunDir, resume

from .catalogue import CASES, DOC, documented_table, render_table
from .conftest import cli_in_process, cli_subprocess, snapshot


def expected(case, cwd) -> str:
    return "error: " + case.message.replace("{cwd}", str(cwd.resolve())) + "\n"


def matches(err: str, case, cwd) -> bool:
    """``{memory}`` in a message stands for an amount of memory this machine reports, and
    the limit that sets it."""
    pattern = re.escape(expected(case, cwd)).replace(
        re.escape("{memory}"), r"[\d.]+ [KMGT]iB[^;)]*"
    )
    return re.fullmatch(pattern, err) is not None


@pytest.mark.parametrize("case", [c for c in CASES if not c.writes], ids=lambda c: c.id)
def test_bad_input_gives_one_line_exit_2_and_leaves_files_alone(
    case, base_run, tmp_path, monkeypatch, capsys
):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    if case.setup:
        case.setup(cwd, base_run)
    before = snapshot(cwd)
    words = shlex.split(case.command)
    args = words[
        words.index("vaebalance") + 1 :
    ]  # after `vaebalance` or `torchrun ... -m vaebalance`
    for key, value in (case.env or {}).items():
        monkeypatch.setenv(key, value)
    if case.subprocess:
        proc = cli_subprocess(args, cwd)
        code, err = proc.returncode, proc.stderr
        assert "Traceback" not in err + proc.stdout
    else:
        monkeypatch.chdir(cwd)
        code, err = cli_in_process(args, capsys)
    assert code == 2
    assert matches(err, case, cwd), err
    assert snapshot(cwd) == before  # nothing created (no run directory), nothing changed
    assert not (cwd / "pwned").exists()  # no pickle payload ever ran


def _limit_file_size():
    # A file larger than 32 KiB fails with EFBIG, as on a full disk (SIGXFSZ ignored, so the
    # write raises instead of killing the process).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (32 * 1024, 32 * 1024))


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_leaves_a_resumable_run(tmp_path):
    (case,) = [c for c in CASES if c.id == "disk-full"]
    proc = cli_subprocess(
        shlex.split(case.command)[1:],
        tmp_path,
        preexec_fn=_limit_file_size,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 2
    assert proc.stderr == expected(case, tmp_path)
    run = RunDir(tmp_path / "run")
    assert not list(run.path.rglob("*.tmp"))  # the failed write left no temporary file
    info = run.info()
    assert info["status"] == "interrupted" and info["error"] == case.message
    assert not (run / "model.safetensors").exists()
    # With space again, the same run resumes (from scratch: no checkpoint was written).
    path, metrics = resume(run.path)
    assert run.info()["status"] == "finished" and metrics["epochs"] == 2
    assert json.loads((run / "metrics.json").read_text())["steps"] == 44


def test_docs_errors_md_holds_the_catalogue():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)
    assert documented_table(DOC.read_text()) == render_table(), (
        "docs/errors.md is out of date: run .venv/bin/python -m tests.reliability.catalogue --write"
    )
