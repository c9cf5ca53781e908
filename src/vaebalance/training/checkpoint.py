"""Training state on disk: everything needed to continue bit for bit, and nothing pickled.

A checkpoint is ``state-<step>.safetensors`` (model, loss module, Adam moments, RNG states)
plus ``latest.json`` (counters, history, optimizer hyperparameters, and the name of that
file). ``latest.json`` is replaced atomically after the tensors are on disk, so a crash at any
moment leaves the previous complete checkpoint in force.
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..errors import UserError
from ..storage import read_json, read_tensors, remove_temporary_files, write_json, write_tensors

LATEST = "latest.json"
STATE_FILE = re.compile(r"state-\d{9}\.safetensors")

# Fault-injection hook for tests/reliability (see docs/errors.md): VAEBALANCE_FAULT=checkpoint:N
# makes this process SIGKILL itself in its N-th checkpoint write, after the tensors file is on
# disk and before latest.json is replaced. Unset (always, outside those tests) it does nothing.
_FAULT = os.environ.get("VAEBALANCE_FAULT", "")
_saves_in_this_process = 0


def _fault_point() -> None:
    global _saves_in_this_process
    _saves_in_this_process += 1
    if _FAULT == f"checkpoint:{_saves_in_this_process}":
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class TrainState:
    """Counters and logs that travel with a checkpoint."""

    epoch: int = 0  # completed epochs
    step: int = 0  # optimizer steps taken (skipped non-finite steps included)
    bad_steps: int = 0  # steps skipped because the loss or a gradient was not finite
    bad_run: int = 0  # consecutive skipped steps at the end of the last epoch
    seconds: float = 0.0  # training time so far, across resumptions
    history: list[dict] = field(default_factory=list)
    balancer_report: dict = field(default_factory=dict)  # as of the last epoch
    balancer_status: dict | None = None  # the balancer's verdict on its target, last epoch


def _prefixed(prefix: str, tensors: dict) -> dict:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}


def _unprefixed(prefix: str, tensors: dict) -> dict:
    n = len(prefix) + 1
    return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def module_tensors(model: nn.Module, loss_fn: nn.Module) -> dict:
    """The weights saved as ``model.safetensors``: the model and the loss module's state."""
    return {**_prefixed("model", model.state_dict()), **_prefixed("loss", loss_fn.state_dict())}


def load_module_tensors(tensors: dict, model: nn.Module, loss_fn: nn.Module, where) -> None:
    try:
        model.load_state_dict(_unprefixed("model", tensors))
        loss_fn.load_state_dict(_unprefixed("loss", tensors))
    except RuntimeError as e:
        # torch's message is a header line, then one tab-indented line per problem (a bare
        # one-line or empty message still counts as one problem).
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        detail = (lines[1] if len(lines) > 1 else lines[0] if lines else "").rstrip(".")
        if len(detail) > 240:
            detail = detail[:240] + "…"
        raise UserError(
            f"the weights in {where} do not match the run's config ({max(len(lines) - 1, 1)} "
            f"problem(s), first: {detail}); was config.json edited?"
        ) from None


def save_checkpoint(directory: Path, state: TrainState, model, loss_fn, optimizer, batch_rng):
    directory.mkdir(parents=True, exist_ok=True)
    tensors = module_tensors(model, loss_fn)
    opt = optimizer.state_dict()
    for i, slots in opt["state"].items():
        tensors.update(_prefixed(f"optim.{i}", slots))
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.batches"] = batch_rng.get_state()
    name = f"state-{state.step:09d}.safetensors"
    write_tensors(directory / name, tensors)
    if _FAULT:
        _fault_point()
    write_json(
        directory / LATEST,
        {"file": name, "param_groups": opt["param_groups"], **state.__dict__},
    )
    for old in directory.glob("state-*.safetensors"):
        if old.name != name:
            old.unlink(missing_ok=True)


def load_checkpoint(directory: Path, model, loss_fn, optimizer, batch_rng) -> TrainState:
    """Restore everything :func:`save_checkpoint` wrote; a UserError if it is damaged."""
    latest = directory / LATEST
    if not latest.is_file():
        raise UserError(f"no checkpoint to resume from in {directory}")
    meta = read_json(latest)
    name = meta.get("file") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not STATE_FILE.fullmatch(name):
        raise UserError(
            f"corrupt checkpoint {latest}: 'file' must name a state-<step>.safetensors file "
            f"in the same folder, got {name!r}"
        )
    tensors = read_tensors(directory / meta.pop("file"))
    load_module_tensors(tensors, model, loss_fn, directory)
    try:
        slots: dict[int, dict] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, i, slot = key.split(".", 2)
                slots.setdefault(int(i), {})[slot] = value
        optimizer.load_state_dict({"state": slots, "param_groups": meta.pop("param_groups")})
        torch.set_rng_state(tensors["rng.torch"])
        batch_rng.set_state(tensors["rng.batches"])
        return TrainState(**meta)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        first = (str(e).splitlines() or [""])[0]
        raise UserError(f"corrupt checkpoint in {directory}: {type(e).__name__}: {first}") from None


def clean_checkpoint_dir(directory: Path) -> None:
    """Remove what an interrupted save left behind: temporary files, and state files that
    ``latest.json`` does not name (all of them when there is no ``latest.json``)."""
    if not directory.is_dir():
        return
    remove_temporary_files(directory)
    keep = None
    if (directory / LATEST).is_file():
        meta = read_json(directory / LATEST)
        keep = meta.get("file") if isinstance(meta, dict) else None
    for state in directory.glob("state-*.safetensors"):
        if state.name != keep:
            state.unlink(missing_ok=True)
