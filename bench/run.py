"""vaebalance against its competitors, on the paths users run, in one invocation.

    python bench/run.py --suite all --quick --with-pythae     # ≈ 10 minutes on a quiet machine
    python bench/run.py --suite training --repeats 5 --epochs 3 --with-pythae

Suites (every competitor runs in its own fresh process, the competitors interleaved round by
round so that a change of machine load hits them alike; each number is a median over
``--repeats`` rounds and the ratios are ratios of medians):

- ``training``: the reference model (MLP 784-512-256 → J = 16, Bernoulli, Adam 1e-3, batch 128,
  2 threads, Fashion-MNIST) trained through ``vaebalance train`` in fp32 and bf16 (per-epoch
  wall time from the epoch lines it prints, so TensorBoard, history and checkpoint are counted;
  train-only time from ``history.csv``), a plain PyTorch loop, and pythae 0.1.2 through its own
  ``BaseTrainer`` (``--with-pythae``); then the per-step time of a tiny model (linear 12 → 2J)
  through ``vaebalance train`` against a plain loop.
- ``evaluation``: IWAE (k = 1000) on the test images: vaebalance's evaluator, pythae's
  ``get_nll`` and the fp32 decoder-only roofline.
- ``sweep``: a 2-run ``vaebalance sweep`` against 2 × one run's training time.
- ``startup``: ``--version``, ``--help``, ``explain`` (plain and preset), and ``diagnose`` and
  ``report`` on an existing run (``report`` also of a copy whose charts are not yet drawn, and
  of one that keeps no pictures at all, as a run from before pictures were kept, which decodes
  them with the model); ``import torch`` alone for scale.

Peak RSS of every process is read from the kernel (``wait4``). pythae is installed on request
into its own virtual environment (``bench/.venvs/pythae``: torch 2.13.0 first, so that pip does
not pull a CUDA build, then pythae 0.1.2) and skipped with a note where that fails. Results go
to ``bench/results/run-<suite>.json`` and ``.md``; ``BENCHMARKS.md`` keeps the latest table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
VENVS = BENCH / ".venvs"
PYTHAE_PY = VENVS / "pythae" / "bin" / "python"
REFERENCE = ["--data", "fashion-mnist", "--likelihood", "bernoulli", "--latent-dim", "16",
             "--set", "model.hidden=[512, 256]", "--batch-size", "128", "--lr", "1e-3",
             "--threads", "2", "--iw-samples", "0", "--no-report",
             # All 60,000 training images, as pythae and the plain loop train on, and the test
             # pass on the 10,000 test images: no validation split held out.
             "--set", "data.val_fraction=0"]  # fmt: skip
EXPLAIN = ["explain", "--recon", "mse", "--recon-reduction", "mean", "--kl-reduction", "mean",
           "--kl-weight", "0.1", "--input-dim", "784", "--latent-dim", "32"]  # fmt: skip
PRESET = ["explain", "--preset", "pytorch-vae", "--input-shape", "1,28,28", "--latent-dim", "16"]


# ---------------------------------------------------------------- processes and statistics


def run(cmd: list[str], timeout: float = 1800, src: Path | None = None) -> dict:
    """Run ``cmd``; its wall time, peak RSS, stdout and the perf_counter time of each line.
    vaebalance is imported from ``src`` (default: this checkout's)."""
    env = {**os.environ, "PYTHONPATH": str(src or ROOT / "src")}
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=ROOT)  # fmt: skip
    lines = []
    for line in p.stdout:  # timestamps as lines arrive: the epoch cadence of `vaebalance train`
        lines.append((time.perf_counter() - start, line.rstrip("\n")))
    stderr = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {stderr[-2000:]}")
    result = None
    for _, line in lines:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "lines": lines,
            "result": result}  # fmt: skip


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rounds(competitors: dict, repeats: int) -> dict[str, list[dict]]:
    """Each competitor once per round, the order rotated every round; name → its measurements."""
    names = list(competitors)
    out = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            t0 = time.perf_counter()
            try:
                out[name].append(competitors[name]())
            except Exception as e:  # one competitor failing must not lose the others' numbers
                out[name].append({"error": str(e)[-500:]})
                print(f"  {name} failed: {type(e).__name__}: {str(e)[-300:]}", flush=True)
            print(f"  round {r + 1}/{repeats} {name}: {time.perf_counter() - t0:.1f} s", flush=True)
    return out


def summarize(measurements: dict[str, list[dict]]) -> dict[str, dict]:
    """Medians of every numeric key over the rounds (errors counted, not averaged)."""
    out = {}
    for name, runs in measurements.items():
        ok = [m for m in runs if "error" not in m]
        keys = {k for m in ok for k, v in m.items() if isinstance(v, (int, float))}
        out[name] = {k: median([m.get(k) for m in ok]) for k in sorted(keys)}
        out[name]["rounds"] = len(ok)
        if len(ok) < len(runs):
            out[name]["errors"] = [m["error"] for m in runs if "error" in m]
    return out


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


# ---------------------------------------------------------------- pythae's environment


def ensure_pythae(install: bool) -> str | None:
    """The pythae venv's python, installing it if asked; None (and a note) when unavailable."""
    if PYTHAE_PY.exists() and _pythae_works():
        return str(PYTHAE_PY)
    if not install:
        return None
    print("installing pythae 0.1.2 into bench/.venvs/pythae (torch 2.13.0 first) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PYTHAE_PY.parent.parent)], check=True)
        pip = [str(PYTHAE_PY), "-m", "pip", "install", "-q"]
        # torch pinned FIRST: unpinned, pip would pull a multi-GB CUDA build as pythae's dep.
        subprocess.run([*pip, "torch==2.13.0"], check=True, timeout=1800)
        subprocess.run([*pip, "pythae==0.1.2"], check=True, timeout=1800)
    except (subprocess.SubprocessError, OSError) as e:
        print(f"note: pythae could not be installed ({e}); skipping it", flush=True)
        return None
    return str(PYTHAE_PY) if _pythae_works() else None


def _pythae_works() -> bool:
    code = "import pythae, torch; assert torch.__version__.startswith('2.13.0')"
    return subprocess.run([str(PYTHAE_PY), "-c", code], capture_output=True).returncode == 0


# ---------------------------------------------------------------- the competitors


def vaebalance_cmd(*args: str) -> list[str]:
    return [PY, "-m", "vaebalance", *args]


def vaebalance_train(precision: str, epochs: int, workdir: Path, extra=(), fraction=1.0,
                     src: Path | None = None) -> dict:  # fmt: skip
    out = workdir / f"run-{precision}-{time.monotonic_ns()}"
    # A fraction of an epoch (for a loaded machine): one run of that many steps.
    length = ["--epochs", str(epochs)] if fraction >= 1 else ["--steps", str(steps_of(fraction))]
    m = run(vaebalance_cmd("train", *REFERENCE, *length, "--precision", precision, "--out",
                           str(out), *extra), src=src)  # fmt: skip
    history = read_history(out / "history.csv")
    train_rows = [r for r in history if r["split"] == "train"]
    test_rows = [r for r in history if r["split"] == "test"]
    # Epoch lines are printed when an epoch's records are ready, before its trackers and
    # checkpoint: the interval between two lines is one whole epoch as the user waits for it.
    marks = [t for t, line in m["lines"] if line.startswith("epoch ")]
    cadence = [b - a for a, b in zip(marks, marks[1:])]
    seconds = [float(r["seconds"]) for r in train_rows]
    train_s = [float(r["train_seconds"]) for r in train_rows]
    epoch_s = median(cadence) if cadence else median(seconds)
    if fraction < 1:  # the whole epoch it stands for: train time scaled up, one test pass
        epoch_s = median(train_s) / fraction + median([s - t for s, t in zip(seconds, train_s)])
    logging_s = median([c - s for c, s in zip(cadence, seconds[1:])]) if cadence else None
    shutil.rmtree(out, ignore_errors=True)
    return {
        "epoch_s": epoch_s,
        "train_s": median(train_s),
        "test_pass_s": median([s - t for s, t in zip(seconds, train_s)]),
        "logging_s": logging_s,
        "logging_fraction": ratio(logging_s, epoch_s),
        "samples_per_s": ratio(128 * steps_of(fraction), median(train_s)),
        "test_neg_elbo_nats": -float(test_rows[-1]["elbo_nats"]),
        "wall_s": m["wall_s"],
        "peak_rss_mb": m["peak_rss_mb"],
    }


def steps_of(fraction: float) -> int:
    """Optimizer steps in ``fraction`` of a Fashion-MNIST epoch at batch 128."""
    return max(1, round(fraction * (60000 // 128)))


def read_history(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plain_train(epochs: int, fraction: float = 1.0) -> dict:
    m = run([PY, str(BENCH / "workers" / "plain_worker.py"), "train", "--epochs", str(epochs),
             "--fraction", str(fraction)])  # fmt: skip
    r = m["result"]
    train_s = median(r["train_seconds"][1:] or r["train_seconds"])
    test_s = median(r["test_seconds"])
    return {"epoch_s": train_s / min(fraction, 1) + test_s, "train_s": train_s,
            "test_pass_s": test_s, "samples_per_s": 128 * steps_of(fraction) / train_s,
            "test_neg_elbo_nats": r["test_neg_elbo_nats"], "peak_rss_mb": m["peak_rss_mb"]}  # fmt: skip


def pythae_train(python: str, epochs: int, fraction: float = 1.0) -> dict:
    m = run([python, str(BENCH / "workers" / "pythae_worker.py"), "train", "--epochs",
             str(epochs), "--fraction", str(fraction)])  # fmt: skip
    r = m["result"]
    train_s = median(r["train_seconds"][1:] or r["train_seconds"])
    eval_s = median(r["eval_seconds"][1:] or r["eval_seconds"])
    epoch_s = median(r["epoch_seconds"][1:] or r["epoch_seconds"])
    if fraction < 1:  # the train part scaled up to a whole epoch
        epoch_s += train_s * (1 / fraction - 1)
    return {"epoch_s": epoch_s, "train_s": train_s, "test_pass_s": eval_s,
            "samples_per_s": 128 * steps_of(fraction) / train_s,
            "test_neg_elbo_nats": r["test_neg_elbo_nats"], "peak_rss_mb": m["peak_rss_mb"]}  # fmt: skip


def tiny_dataset(workdir: Path) -> Path:
    """8192 examples × 12 features (float32 .npy), for the tiny linear model."""
    import numpy as np

    path = workdir / "tiny12.npy"
    if not path.exists():
        np.save(path, np.random.default_rng(0).standard_normal((8192, 12)).astype(np.float32))
    return path


def vaebalance_tiny(workdir: Path, steps: int, src: Path | None = None) -> dict:
    out = workdir / f"tiny-{time.monotonic_ns()}"
    run(vaebalance_cmd("train", "--data", str(tiny_dataset(workdir)), "--likelihood", "gaussian",
                       "--latent-dim", "2", "--set", "model.hidden=[]", "--batch-size", "128",
                       "--threads", "2", "--steps", str(steps), "--iw-samples", "0",
                       "--quiet", "--no-report", "--set", "train.tensorboard=false",
                       "--out", str(out)), src=src)  # fmt: skip
    rows = [r for r in read_history(out / "history.csv") if r["split"] == "train"]
    n_steps = int(rows[-1]["step"])
    shutil.rmtree(out, ignore_errors=True)
    return {"step_ms": 1000 * sum(float(r["train_seconds"]) for r in rows) / n_steps}


def plain_tiny(steps: int) -> dict:
    m = run([PY, str(BENCH / "workers" / "plain_worker.py"), "tiny", "--steps", str(steps)])
    return {"step_ms": 1000 * m["result"]["seconds_per_step"]}


# ---------------------------------------------------------------- suites


def suite_training(args, workdir: Path, pythae: str | None) -> dict:
    epochs, f = (args.epochs, 1.0) if args.fraction >= 1 else (1, args.fraction)
    competitors = {
        "vaebalance fp32": lambda: vaebalance_train("fp32", epochs, workdir, fraction=f),
        "vaebalance bf16": lambda: vaebalance_train("bf16", epochs, workdir, fraction=f),
        "plain PyTorch loop": lambda: plain_train(epochs, f),
    }
    if pythae:
        competitors["pythae 0.1.2"] = lambda: pythae_train(pythae, epochs, f)
    if args.baseline_src:  # the same checkout before the optimizations, for what they gave
        for p in ("fp32", "bf16"):
            competitors[f"vaebalance {p} @baseline"] = lambda p=p: vaebalance_train(
                p, epochs, workdir, fraction=f, src=args.baseline_src
            )
    s = summarize(rounds(competitors, args.repeats))
    base = s.get("pythae 0.1.2", {}).get("epoch_s")
    for row in s.values():
        row["speedup_vs_pythae"] = ratio(base, row.get("epoch_s"))
        row["speedup_vs_plain_train"] = ratio(s["plain PyTorch loop"].get("train_s"),
                                              row.get("train_s"))  # fmt: skip
    steps = 300 if args.quick else 1000
    tiny_competitors = {"vaebalance tiny (linear 12→2J)": lambda: vaebalance_tiny(workdir, steps),
                        "plain loop tiny": lambda: plain_tiny(steps)}  # fmt: skip
    if args.baseline_src:
        tiny_competitors["vaebalance tiny @baseline"] = lambda: vaebalance_tiny(
            workdir, steps, args.baseline_src
        )
    tiny = summarize(rounds(tiny_competitors, args.repeats))
    tiny["vaebalance tiny (linear 12→2J)"]["ratio_to_plain"] = ratio(
        tiny["vaebalance tiny (linear 12→2J)"].get("step_ms"),
        tiny["plain loop tiny"].get("step_ms"),
    )
    return {"training": s, "tiny_step": tiny, "memory": memory(workdir), "epochs": epochs,
            "fraction": f}  # fmt: skip


def memory(workdir: Path) -> dict:
    """Peak RSS of a short 64×64 sprites run (once: memory barely varies between rounds); the
    Fashion-MNIST runs' peaks are in the training table."""
    out = workdir / "sprites"
    m = run(vaebalance_cmd("train", "--data", "sprites", "--steps", "10", "--batch-size", "64",
                           "--threads", "2", "--iw-samples", "0", "--quiet", "--no-report",
                           "--set", "train.tensorboard=false", "--set", "eval.factor_metrics=false",
                           "--set", "eval.intervention_batches=0", "--out", str(out)))  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    return {"sprites 64×64, 10 steps + evaluation": {"peak_rss_mb": m["peak_rss_mb"],
                                                     "wall_s": m["wall_s"]}}  # fmt: skip


def suite_evaluation(args, workdir: Path, pythae: str | None) -> dict:
    examples = 2000 if args.quick else 10000
    k = 1000
    worker = [PY, str(BENCH / "workers" / "plain_worker.py"), "iwae", "--k", str(k)]
    competitors = {
        "vaebalance IWAE fp32": lambda: run([*worker, "--examples", str(examples)])["result"],
        "vaebalance IWAE bf16": lambda: run(
            [*worker, "--examples", str(examples), "--precision", "bf16"])["result"],
    }  # fmt: skip
    if pythae:
        n = 50 if args.quick else 200  # per-example cost is what counts; pythae is slow
        competitors["pythae get_nll"] = lambda: run(
            [pythae, str(BENCH / "workers" / "pythae_worker.py"), "nll", "--examples", str(n),
             "--k", str(k)])["result"]  # fmt: skip
    s = summarize(rounds(competitors, args.repeats))
    roof = median([s[n].get("decoder_only_fp32_example_k_per_second") for n in s if "IWAE" in n])
    base = s.get("pythae get_nll", {}).get("example_k_per_second")
    for row in s.values():
        row["speedup_vs_pythae"] = ratio(row.get("example_k_per_second"), base)
        row["fraction_of_fp32_roofline"] = ratio(row.get("example_k_per_second"), roof)
    return {"iwae": s, "examples": examples, "k": k, "decoder_only_fp32": roof}


def suite_sweep(args, workdir: Path, pythae: str | None) -> dict:
    epochs = 1 if args.quick else 2
    f = min(args.fraction, 1.0)
    length = ["--epochs", str(epochs)] if f >= 1 else ["--steps", str(steps_of(f))]

    def one_run():
        r = vaebalance_train("fp32", epochs, workdir, ("--quiet",), fraction=f)
        # training time as the sweep's runs spend it: train passes and test passes, unscaled
        training = r["train_s"] * (epochs if f >= 1 else 1) + r["test_pass_s"] * epochs
        return {"wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"], "training_s": training}

    def sweep(workers: int):
        out = workdir / f"sweep-{time.monotonic_ns()}"
        args_ = [a for a in REFERENCE if a not in ("--threads", "2")]
        m = run(vaebalance_cmd("sweep", "--grid", "balancer.beta=0.5,1", *args_, *length,
                               "--workers", str(workers), "--quiet", "--out", str(out)))  # fmt: skip
        shutil.rmtree(out, ignore_errors=True)
        return {"wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"]}

    s = summarize(rounds({"one run": one_run, "sweep of 2, 1 worker × 2 threads":
                          lambda: sweep(1), "sweep of 2, 2 workers × 1 thread": lambda: sweep(2)},
                         args.repeats))  # fmt: skip
    two = 2 * (s["one run"].get("training_s") or 0)
    for name, row in s.items():
        if name.startswith("sweep"):
            row["ratio_to_2x_training"] = ratio(row.get("wall_s"), two)
    return {"sweep": s, "epochs": epochs, "fraction": f}


def suite_startup(args, workdir: Path, pythae: str | None) -> dict:
    run_dir = workdir / "startup-run"
    if not run_dir.exists():
        run(vaebalance_cmd("train", "--epochs", "1", "--iw-samples", "0", "--quiet",
                           "--no-report", "--out", str(run_dir)))  # fmt: skip
    commands = {
        "vaebalance --version": vaebalance_cmd("--version"),
        "vaebalance --help": vaebalance_cmd("--help"),
        "vaebalance explain (convention)": vaebalance_cmd(*EXPLAIN),
        "vaebalance explain --preset": vaebalance_cmd(*PRESET),
        "vaebalance diagnose RUN": vaebalance_cmd("diagnose", str(run_dir)),
        "vaebalance report RUN": vaebalance_cmd("report", str(run_dir)),
        "python -c 'import torch' (for scale)": [PY, "-c", "import torch"],
    }
    competitors = {name: (lambda c=c: {"wall_s": run(c)["wall_s"]}) for name, c in commands.items()}
    # A report's pictures are kept in the run's pictures/: the model's by training, the charts
    # by the first report. These two start each round from a copy without some of them.
    competitors["vaebalance report RUN (charts not yet drawn)"] = lambda: report_of_a_copy(
        run_dir, workdir, keep_model_pictures=True
    )
    competitors["vaebalance report RUN (nothing kept: decodes)"] = lambda: report_of_a_copy(
        run_dir, workdir, keep_model_pictures=False
    )
    if args.baseline_src:
        for name in ("vaebalance explain (convention)", "vaebalance diagnose RUN",
                     "vaebalance report RUN"):  # fmt: skip
            competitors[f"{name} @baseline"] = lambda c=commands[name]: {
                "wall_s": run(c, src=args.baseline_src)["wall_s"]
            }
    s = summarize(rounds(competitors, max(args.repeats, 5)))
    torch_s = s["python -c 'import torch' (for scale)"].get("wall_s")
    for row in s.values():  # load-robust-ish: a loaded machine slows both alike
        row["vs_import_torch"] = ratio(row.get("wall_s"), torch_s)
    return {"startup": s}


def report_of_a_copy(run_dir: Path, workdir: Path, keep_model_pictures: bool) -> dict:
    """``vaebalance report`` of a copy of ``run_dir`` without its report, its charts and, unless
    ``keep_model_pictures``, the model's pictures (as a run written before they were kept)."""
    copy = workdir / f"report-copy-{time.monotonic_ns()}"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("report.html", "tensorboard"))
    for png in (copy / "pictures").glob("*.png"):
        if not (keep_model_pictures and png.name.startswith(("samples-", "traversals-",
                                                              "reconstructions-"))):  # fmt: skip
            png.unlink()
    try:
        return {"wall_s": run(vaebalance_cmd("report", str(copy)))["wall_s"]}
    finally:
        shutil.rmtree(copy, ignore_errors=True)


SUITES = {"training": suite_training, "evaluation": suite_evaluation, "sweep": suite_sweep,
          "startup": suite_startup}  # fmt: skip


# ---------------------------------------------------------------- output


def machine() -> dict:
    cpu = platform.processor()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        cpu = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                   if line.startswith("Model name"))  # fmt: skip
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "load_average_1_5_15": os.getloadavg(),
            "python": platform.python_version()}  # fmt: skip


COLUMNS = {  # key → (header, format)
    "epoch_s": ("epoch s", ".2f"), "train_s": ("train-only s", ".2f"),
    "test_pass_s": ("test pass s", ".2f"), "logging_s": ("logging s", ".2f"),
    "logging_fraction": ("logging / epoch", ".1%"), "speedup_vs_pythae": ("× pythae", ".2f"),
    "speedup_vs_plain_train": ("× plain (train)", ".2f"), "samples_per_s": ("samples/s", ".0f"),
    "test_neg_elbo_nats": ("test −ELBO nats", ".2f"), "step_ms": ("ms/step", ".3f"),
    "ratio_to_plain": ("÷ plain", ".2f"), "example_k_per_second": ("example·k/s", ".0f"),
    "fraction_of_fp32_roofline": ("of fp32 roofline", ".0%"), "wall_s": ("wall s", ".3f"),
    "training_s": ("training s", ".2f"), "ratio_to_2x_training": ("÷ 2 × training", ".2f"),
    "vs_import_torch": ("÷ import torch", ".2f"),
    "peak_rss_mb": ("peak RSS MB", ".0f"), "rounds": ("rounds", "d"),
}  # fmt: skip


def markdown(results: dict) -> str:
    lines = []
    for suite, body in results["suites"].items():
        for table, rows in body.items():
            if not isinstance(rows, dict):
                continue
            keys = [k for k in COLUMNS if any(r.get(k) is not None for r in rows.values())]
            lines += [f"\n**{suite}: {table}**\n", "| | " + " | ".join(COLUMNS[k][0] for k in keys)
                      + " |", "|---" * (len(keys) + 1) + "|"]  # fmt: skip
            for name, r in rows.items():
                cells = [format(r[k], COLUMNS[k][1]) if r.get(k) is not None else "" for k in keys]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", default="all", choices=[*SUITES, "all"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="fewer epochs and examples")
    p.add_argument("--epochs", type=int, default=None, help="training suite (default 2; 3 full)")
    p.add_argument(
        "--fraction",
        type=float,
        default=1.0,
        help="train on this fraction of an epoch and scale up (a loaded machine)",
    )
    p.add_argument("--with-pythae", action="store_true", help="install pythae if needed, run it")
    p.add_argument("--out", default=str(BENCH / "results"))
    p.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="also run vaebalance from this src/ (e.g. a checkout before a change)",
    )
    args = p.parse_args()
    args.epochs = args.epochs or (2 if args.quick else 3)
    pythae = ensure_pythae(install=True) if args.with_pythae else None
    if args.with_pythae and pythae is None:
        print("note: pythae unavailable; its columns are left out", flush=True)
    names = list(SUITES) if args.suite == "all" else [args.suite]
    results = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
               "command": " ".join([Path(sys.executable).name, *sys.argv]),
               "machine": machine(), "repeats": args.repeats, "quick": args.quick,
               "pythae": bool(pythae), "suites": {}}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="vaebalance-bench-") as tmp:
        for name in names:
            print(f"suite {name}", flush=True)
            start = time.perf_counter()
            results["suites"][name] = SUITES[name](args, Path(tmp), pythae)
            print(f"suite {name}: {time.perf_counter() - start:.0f} s", flush=True)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"run-{args.suite}.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    header = (f"{results['date']} · {results['machine']['cpu']} ({results['machine']['cores']} "
              f"cores, load {results['machine']['load_average_1_5_15'][0]:.1f} at start) · "
              f"`{results['command']}`\n")  # fmt: skip
    (out / f"run-{args.suite}.md").write_text(header + table)
    print(header + table)


if __name__ == "__main__":
    main()
