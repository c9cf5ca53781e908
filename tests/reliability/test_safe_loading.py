"""Nothing is unpickled from a user's files: a malicious pickle where weights, a checkpoint or
data are expected is refused with one line, and its payload never runs."""

from __future__ import annotations

import ast
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from .catalogue import Evil, evil_pickle
from .conftest import cli_in_process

SRC = Path(__file__).resolve().parents[2] / "src" / "vaebalance"


def _torch_file(path: Path, marker: Path) -> bytes:
    """A real torch.save file (a zip with a pickle inside) carrying the payload."""
    torch.save({"weights": Evil(str(marker))}, path)
    return path.read_bytes()


def test_the_payloads_are_live(tmp_path):
    """Control: the files used below do run code when loaded unsafely."""
    marker = tmp_path / "pwned"
    pickle.loads(evil_pickle(marker))
    assert marker.read_text() == "pwned"
    marker.unlink()
    _torch_file(tmp_path / "evil.pt", marker)
    torch.load(tmp_path / "evil.pt", weights_only=False)
    assert marker.exists()


def _state(run: Path) -> Path:
    return next((run / "checkpoint").glob("state-*.safetensors"))


def _pt_named_by_latest(run: Path, payload: bytes) -> None:
    state = _state(run)
    (run / "checkpoint" / "state-000000025.pt").write_bytes(payload)
    latest = json.loads((run / "checkpoint" / "latest.json").read_text())
    (run / "checkpoint" / "latest.json").write_text(json.dumps({**latest, "file": "state.pt"}))
    assert state.exists()


PLACES = {
    # where the payload goes, the command, the start of the one-line error
    "model-pickle": (
        lambda run, p: (run / "model.safetensors").write_bytes(p["pickle"]),
        ["evaluate", "run"],
        "error: corrupt or unreadable safetensors file run/model.safetensors: ",
    ),
    "model-torch-file": (
        lambda run, p: (run / "model.safetensors").write_bytes(p["pt"]),
        ["evaluate", "run"],
        "error: corrupt or unreadable safetensors file run/model.safetensors: ",
    ),
    "checkpoint-pickle": (
        lambda run, p: _state(run).write_bytes(p["pickle"]),
        ["train", "--resume", "run"],
        "error: corrupt or unreadable safetensors file run/checkpoint/state-",
    ),
    "checkpoint-torch-file": (
        lambda run, p: _state(run).write_bytes(p["pt"]),
        ["train", "--resume", "run"],
        "error: corrupt or unreadable safetensors file run/checkpoint/state-",
    ),
    "checkpoint-pt-named-by-latest": (
        lambda run, p: _pt_named_by_latest(run, p["pt"]),
        ["train", "--resume", "run"],
        "error: corrupt checkpoint run/checkpoint/latest.json: 'file' must name a ",
    ),
    "data-pt": (
        lambda run, p: (run.parent / "evil.pt").write_bytes(p["pt"]),
        ["train", "--data", "evil.pt"],
        "error: cannot load evil.pt: '.pt' files are not supported",
    ),
    "data-pickle-as-npy": (
        lambda run, p: (run.parent / "evil.npy").write_bytes(p["pickle"]),
        ["train", "--data", "evil.npy"],
        "error: evil.npy is not a valid .npy/.npz file: it starts with ",
    ),
    "data-pickle-as-npz": (
        lambda run, p: (run.parent / "evil.npz").write_bytes(p["pt"]),  # a zip, as .npz are
        ["train", "--data", "evil.npz"],
        "error: evil.npz ",
    ),
    "data-object-array": (
        lambda run, p: np.save(
            run.parent / "evil.npy", np.array([p["object"]] * 4, dtype=object), allow_pickle=True
        ),
        ["train", "--data", "evil.npy"],
        "error: evil.npy holds Python objects (an object array), which are not loaded for safety",
    ),
}


@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_malicious_pickle_is_refused_without_running(
    place, base_run, tmp_path, monkeypatch, capsys
):
    marker = tmp_path / "pwned"
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    payloads = {
        "pickle": evil_pickle(marker),
        "pt": _torch_file(tmp_path / "payload.pt", marker),
        "object": Evil(str(marker)),
    }
    (tmp_path / "payload.pt").unlink()
    plant, args, start = PLACES[place]
    plant(run, payloads)
    monkeypatch.chdir(tmp_path)
    code, err = cli_in_process(args, capsys)
    assert code == 2
    assert err.startswith(start) and err.count("\n") == 1, err
    assert not marker.exists()


# --- the source never loads a pickle -----------------------------------------------------

UNSAFE_CALLS = {
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "marshal.load",
    "marshal.loads",
    "dill.load",
    "dill.loads",
    "joblib.load",
    "shelve.open",
    "yaml.load",
    "yaml.unsafe_load",
    "yaml.full_load",
}


def unsafe_loads(source: str) -> list[str]:
    """Calls in ``source`` that can unpickle (or build arbitrary objects from) file contents."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
        if name in UNSAFE_CALLS:
            found.append(name)
        elif name == "torch.load" and keywords.get("weights_only") != "True":
            found.append("torch.load without weights_only=True")
        elif name in ("np.load", "numpy.load") and keywords.get("allow_pickle") != "False":
            found.append(f"{name} without allow_pickle=False")
    return found


def test_the_checker_catches_unsafe_loads():
    bad = (
        "pickle.load(f)\ntorch.load(p)\ntorch.load(p, weights_only=False)\nnp.load(p)\n"
        "np.load(p, allow_pickle=True)\nyaml.load(s)\n"
    )
    assert len(unsafe_loads(bad)) == 6
    good = "torch.load(p, weights_only=True)\nnp.load(p, allow_pickle=False)\nyaml.safe_load(s)\n"
    assert unsafe_loads(good) == []


def test_the_package_never_unpickles():
    found = {
        str(path.relative_to(SRC)): calls
        for path in SRC.rglob("*.py")
        if (calls := unsafe_loads(path.read_text()))
    }
    assert found == {}
    # The one pickle reader (CIFAR batches) is the restricted unpickler.
    cifar = (SRC / "data" / "cifar.py").read_text()
    assert "class ArrayUnpickler(pickle.Unpickler)" in cifar and "def find_class" in cifar
