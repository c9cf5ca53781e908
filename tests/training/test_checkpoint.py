"""Checkpoint internals that the end-to-end resume tests reach only through a killed process."""

import signal

import torch

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


class _Loss(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("integral", torch.tensor(0.0))


def _parts(seed):
    torch.manual_seed(seed)
    model, loss_fn = torch.nn.Linear(3, 2), _Loss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01 * (seed + 1))
    return model, loss_fn, optimizer, torch.Generator().manual_seed(seed)


def test_save_then_load_restores_every_piece(tmp_path):
    model, loss_fn, optimizer, batch_rng = _parts(0)
    model(torch.ones(4, 3)).sum().backward()
    optimizer.step()
    loss_fn.integral.fill_(0.25)
    torch.rand(3, generator=batch_rng)
    state = checkpoint.TrainState(epoch=2, step=14, bad_steps=1, history=[{"epoch": 1}])
    checkpoint.save_checkpoint(tmp_path, state, model, loss_fn, optimizer, batch_rng)
    checkpoint.save_checkpoint(tmp_path, state, model, loss_fn, optimizer, batch_rng)
    assert _names(tmp_path) == [checkpoint.LATEST, "state-000000014.safetensors"]
    rng = torch.get_rng_state()
    torch.rand(5)  # moves the global stream; loading must put it back

    model2, loss2, optimizer2, batch_rng2 = _parts(1)
    got = checkpoint.load_checkpoint(tmp_path, model2, loss2, optimizer2, batch_rng2)
    assert got == state
    assert torch.equal(torch.get_rng_state(), rng)
    assert torch.equal(batch_rng2.get_state(), batch_rng.get_state())
    assert loss2.integral.item() == 0.25
    for a, b in zip(model.parameters(), model2.parameters()):
        assert torch.equal(a, b)
    s1, s2 = optimizer.state_dict(), optimizer2.state_dict()
    assert s2["param_groups"][0]["lr"] == 0.01  # the saved run's, not the fresh optimizer's
    assert tuple(s2["param_groups"][0]["betas"]) == s1["param_groups"][0]["betas"]
    for i, slots in s1["state"].items():
        for k, v in slots.items():
            assert torch.equal(v, s2["state"][i][k]), (i, k)


def test_load_errors_name_the_problem(tmp_path):
    import pytest

    from vaebalance.errors import UserError
    from vaebalance.storage import read_tensors, write_json, write_tensors

    parts = _parts(0)
    with pytest.raises(UserError, match=f"^no checkpoint to resume from in {tmp_path}$"):
        checkpoint.load_checkpoint(tmp_path, *parts)
    write_json(tmp_path / checkpoint.LATEST, {"file": "../model.safetensors"})
    with pytest.raises(UserError) as info:
        checkpoint.load_checkpoint(tmp_path, *parts)
    assert str(info.value) == (
        f"corrupt checkpoint {tmp_path / checkpoint.LATEST}: 'file' must name a "
        "state-<step>.safetensors file in the same folder, got '../model.safetensors'"
    )
    write_json(tmp_path / checkpoint.LATEST, ["state-000000003.safetensors"])  # not an object
    with pytest.raises(UserError, match="'file' must name a state-<step>.safetensors .* got None$"):
        checkpoint.load_checkpoint(tmp_path, *parts)
    checkpoint.save_checkpoint(tmp_path, checkpoint.TrainState(step=3), *parts)
    name = tmp_path / "state-000000003.safetensors"
    tensors = read_tensors(name)
    del tensors["rng.batches"]
    write_tensors(name, tensors)
    with pytest.raises(UserError) as info:
        checkpoint.load_checkpoint(tmp_path, *parts)
    assert str(info.value) == f"corrupt checkpoint in {tmp_path}: KeyError: 'rng.batches'"


def test_weights_of_another_shape_are_one_clear_line():
    import pytest

    from vaebalance.errors import UserError

    model, loss_fn, _, _ = _parts(0)
    tensors = checkpoint.module_tensors(torch.nn.Linear(5, 2), loss_fn)
    assert sorted(tensors) == ["loss.integral", "model.bias", "model.weight"]
    with pytest.raises(UserError) as info:
        checkpoint.load_module_tensors(tensors, model, loss_fn, "run/model.safetensors")
    assert str(info.value) == (
        "the weights in run/model.safetensors do not match the run's config (1 problem(s), "
        "first: size mismatch for weight: copying a param with shape torch.Size([2, 5]) from "
        "checkpoint, the shape in current model is torch.Size([2, 3])); was config.json edited?"
    )  # torch's message: a header line, then one line per problem ending in "."


class _Refuses(torch.nn.Module):
    def __init__(self, message):
        super().__init__()
        self.message = message

    def load_state_dict(self, state_dict, strict=True):
        raise RuntimeError(self.message)


def test_a_one_line_or_empty_load_error_is_one_problem():
    import pytest

    from vaebalance.errors import UserError

    loss_fn = _Loss()
    for message, detail in (("Error in loading.", "Error in loading"), ("", ""),
                            ("Header:\n\ta.\n\tb.", "a"), ("Bad key: 'X'.", "Bad key: 'X'"),
                            ("Bad key: X.", "Bad key: X")):  # fmt: skip
        count = 2 if detail == "a" else 1
        with pytest.raises(UserError) as info:
            checkpoint.load_module_tensors({}, _Refuses(message), loss_fn, "w")
        assert str(info.value) == (
            f"the weights in w do not match the run's config ({count} problem(s), first: "
            f"{detail}); was config.json edited?"
        )
    with pytest.raises(UserError) as info:
        checkpoint.load_module_tensors({}, _Refuses("Header:\n\t" + "x" * 300), loss_fn, "w")
    assert f"first: {'x' * 240}…);" in str(info.value)
