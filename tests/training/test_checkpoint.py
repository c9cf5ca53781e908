"""Checkpoint internals that the end-to-end resume tests reach only through a killed process."""

import signal

from vaebalance.training import checkpoint


def test_the_fault_hook_kills_the_process_in_the_named_write_only(monkeypatch):
    """VAEBALANCE_FAULT=checkpoint:N SIGKILLs this process in its N-th checkpoint write."""
    kills = []
    monkeypatch.setattr(checkpoint, "_FAULT", "checkpoint:3")
    monkeypatch.setattr(checkpoint, "_saves_in_this_process", 0)
    monkeypatch.setattr(checkpoint.os, "kill", lambda pid, sig: kills.append((pid, sig)))
    monkeypatch.setattr(checkpoint.os, "getpid", lambda: 4242)
    for _ in range(5):
        checkpoint._fault_point()
        kills.append(checkpoint._saves_in_this_process)
    assert kills == [1, 2, (4242, signal.SIGKILL), 3, 4, 5]


def test_unprefixed_keeps_only_the_prefix_and_strips_it():
    tensors = {"model.a": 1, "model.b.c": 2, "loss.a": 3, "modelx.a": 4}
    assert checkpoint._unprefixed("model", tensors) == {"a": 1, "b.c": 2}
    assert checkpoint._prefixed("loss", {"a": 3}) == {"loss.a": 3}


def _names(directory):
    return sorted(p.name for p in directory.iterdir())


def test_clean_keeps_the_named_state_and_removes_the_rest(tmp_path):
    from vaebalance.storage import TMP_SUFFIX, write_json

    for name in ("state-000000001.safetensors", "state-000000002.safetensors", "notes.txt",
                 f".latest.json.x1{TMP_SUFFIX}"):  # fmt: skip
        (tmp_path / name).write_bytes(b"")
    write_json(tmp_path / checkpoint.LATEST, {"file": "state-000000002.safetensors"})
    checkpoint.clean_checkpoint_dir(tmp_path)
    assert _names(tmp_path) == [checkpoint.LATEST, "notes.txt", "state-000000002.safetensors"]


def test_clean_without_latest_removes_every_state(tmp_path):
    for name in ("state-000000001.safetensors", "state-000000002.safetensors"):
        (tmp_path / name).write_bytes(b"")
    checkpoint.clean_checkpoint_dir(tmp_path)
    assert _names(tmp_path) == []
    (tmp_path / "state-000000003.safetensors").write_bytes(b"")
    (tmp_path / checkpoint.LATEST).write_text("[1, 2]")  # not an object: names nothing
    checkpoint.clean_checkpoint_dir(tmp_path)
    assert _names(tmp_path) == [checkpoint.LATEST]
    checkpoint.clean_checkpoint_dir(tmp_path / "missing")  # no directory: nothing to do
