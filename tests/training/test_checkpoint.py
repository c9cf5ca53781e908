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
