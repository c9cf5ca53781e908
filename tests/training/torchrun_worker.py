"""``python -m vaebalance`` with test instruments, for the torchrun tests (not a test itself).

``torchrun ... tests/training/torchrun_worker.py train ...`` runs the CLI in each process, and:

- ``TRACE_DIR``: at exit each process writes ``rank<R>.json`` there: the β of every training
  step (read on the host, a sync the real loop never makes) and every file or folder the
  process created, wrote or renamed into place (Python's audit events: open for writing,
  os.rename/os.replace, os.mkdir);
- ``KILL_RANK`` and ``KILL_AT_STEP``: that process SIGKILLs itself at that training step
  (``KILL_SIGNAL=SIGSTOP``: it freezes instead, a process that stops answering).
"""

import atexit
import json
import os
import signal
import sys
from pathlib import Path

from vaebalance.cli import main
from vaebalance.objective.elbo import ELBOLoss

RANK = int(os.environ.get("RANK", "0"))
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
betas: list[float] = []
written: set[str] = set()


def audit(event: str, args) -> None:
    if event == "open":
        path, mode, flags = args
        writes = any(c in mode for c in "wax+") if isinstance(mode, str) else flags & WRITE_FLAGS
        if writes and isinstance(path, (str, bytes, os.PathLike)):
            written.add(os.path.abspath(os.fsdecode(path)))
    elif event in ("os.rename", "os.mkdir"):
        target = args[1] if event == "os.rename" else args[0]
        written.add(os.path.abspath(os.fsdecode(target)))


original_forward = ELBOLoss.forward


def traced_forward(self, *args, **kwargs):
    out = original_forward(self, *args, **kwargs)
    if self.training:
        betas.append(float(out.beta))
        if RANK == int(os.environ.get("KILL_RANK", "-1")):
            if len(betas) == int(os.environ["KILL_AT_STEP"]):
                os.kill(os.getpid(), getattr(signal, os.environ.get("KILL_SIGNAL", "SIGKILL")))
    return out


def dump() -> None:
    trace = os.environ.get("TRACE_DIR")
    if trace:
        record = {"betas": betas, "written": sorted(written)}
        Path(trace, f"rank{RANK}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    ELBOLoss.forward = traced_forward
    atexit.register(dump)
    sys.addaudithook(audit)
    main(sys.argv[1:])
