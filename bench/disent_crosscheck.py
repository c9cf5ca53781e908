"""Cross-check the factor metrics against disent's PyTorch/sklearn ports of disentanglement_lib.

disent (nmichlo/disent, 0.8.0 here; not a dependency) is installed in a scratch environment
without its heavy dependencies; only its metric modules are loaded, from their files, with the
dataset classes they import stubbed out. Both implementations get the same codes, factors and
train/test split; MIG is deterministic and must agree to rounding, DCI and SAP to the noise of
their classifiers' seeds.

    python -m venv /tmp/disentenv && /tmp/disentenv/bin/pip install --no-deps disent==0.8.0 tqdm
    PYTHONPATH=src:/tmp/disentenv/lib/python3.11/site-packages \\
        .venv/bin/python bench/disent_crosscheck.py
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np

from vaebalance.evaluation.disentangle.dci import dci
from vaebalance.evaluation.disentangle.mig import mig
from vaebalance.evaluation.disentangle.sap import sap

SIZES = (3, 6, 10, 8)
N_TRAIN, N_TEST = 1500, 750


def load_disent_metrics() -> dict[str, types.ModuleType]:
    root = Path(importlib.util.find_spec("disent").submodule_search_locations[0])
    stub = types.ModuleType
    for name in ("disent", "disent.metrics", "disent.dataset", "disent.util",
                 "disent.util.function"):  # fmt: skip
        sys.modules[name] = stub(name)
        sys.modules[name].__path__ = []
    sys.modules["disent.dataset"].DisentDataset = type("DisentDataset", (), {})
    sys.modules["disent.util"].to_numpy = np.asarray
    sys.modules["disent.util.function"].wrapped_partial = functools.partial
    modules = {}
    for name in ("utils", "_mig", "_dci", "_sap"):
        spec = importlib.util.spec_from_file_location(f"disent.metrics.{name}",
                                                      root / "metrics" / f"{name}.py")  # fmt: skip
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        setattr(sys.modules["disent.metrics"], name, module)
        spec.loader.exec_module(module)
        modules[name] = module
    return modules


def codes_of(kind: str, factors: np.ndarray, rng) -> np.ndarray:
    scaled = factors / np.array(SIZES)
    if kind == "perfect":
        return scaled + 0.02 * rng.normal(size=scaled.shape)
    if kind == "rotated":
        return scaled @ np.linalg.qr(rng.normal(size=(len(SIZES),) * 2))[0]
    return rng.normal(size=scaled.shape)


def main() -> None:
    disent = load_disent_metrics()
    rng = np.random.default_rng(0)
    n = N_TRAIN + N_TEST
    factors = np.stack([rng.integers(0, s, n) for s in SIZES], axis=1)
    print("| code | MIG ours | MIG disent | DCI-D ours | DCI-D disent | DCI-I ours | DCI-I disent "
          "| SAP ours | SAP disent |")  # fmt: skip
    print("|---" * 9 + "|")
    for kind in ("perfect", "rotated", "random"):
        codes = codes_of(kind, factors, rng)
        ztr, zte, vtr, vte = codes[:N_TRAIN], codes[N_TRAIN:], factors[:N_TRAIN], factors[N_TRAIN:]
        theirs_mig = disent["_mig"]._compute_mig(ztr.T, vtr.T)["mig.discrete_score"]
        theirs_dci = disent["_dci"]._compute_dci(ztr.T, vtr.T, zte.T, vte.T)
        theirs_sap = disent["_sap"]._compute_sap(ztr.T, vtr.T, zte.T, vte.T, False)
        ours_dci = dci(ztr, vtr, zte, vte)
        row = [
            mig(ztr, vtr), theirs_mig,
            ours_dci["disentanglement"], theirs_dci["dci.disentanglement"],
            ours_dci["informativeness_test"], theirs_dci["dci.informativeness_test"],
            sap(ztr, vtr, zte, vte), theirs_sap["sap.score"],
        ]  # fmt: skip
        print(f"| {kind} | " + " | ".join(f"{v:.4f}" for v in row) + " |", flush=True)


if __name__ == "__main__":
    main()
