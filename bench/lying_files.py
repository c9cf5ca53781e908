"""How fast files that lie about their size are refused (issue 18), in process and by the CLI.

Builds the hostile files of the error catalogue (a 4 kB .npy claiming 373 GiB, a 2 MB .npz
member claiming 38 GiB, a deflate bomb, a nested archive, a gzipped idx bomb, a PNG bomb),
times ``load_dataset`` refusing each (best of 5, after imports), and runs the CLI once per
file under a 6 GB address-space limit, timing the whole process (Python and torch imports
included). Writes JSON under bench/results/.

    .venv/bin/python bench/lying_files.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vaebalance.data import load_dataset
from vaebalance.errors import UserError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.reliability.catalogue import CASES  # noqa: E402

IDS = [
    "data-npy-claims-too-much",
    "data-npz-member-claims-too-much",
    "data-npz-bomb",
    "data-npz-nested",
    "data-npy-header-too-long",
    "data-idx-gzip-bomb",
    "data-png-bomb",
]
SIX_GB = 6 * 10**9


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (SIX_GB, SIX_GB))


def main() -> None:
    results = []
    for case in [c for c in CASES if c.id in IDS]:
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            case.setup(cwd, cwd)
            data = case.command.split("--data ")[1].split()[0]
            times = []
            for _ in range(5):
                start = time.perf_counter()
                try:
                    load_dataset(str(cwd / data))
                except UserError:
                    pass
                times.append(time.perf_counter() - start)
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "vaebalance", "train", "--data", data],
                cwd=cwd, capture_output=True, text=True, preexec_fn=_limit,
            )  # fmt: skip
            cli = time.perf_counter() - start
        row = {
            "case": case.id,
            "refusal_ms": round(min(times) * 1000, 2),
            "cli_s": round(cli, 2),
            "exit": proc.returncode,
            "stderr_lines": proc.stderr.count("\n"),
        }
        results.append(row)
        print(row)
    out = Path(__file__).parent / "results" / "lying_files.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
