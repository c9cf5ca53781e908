"""GECO and ControlVAE at their defaults: do they reach targets across a wide range?

For each data set, a β = 1 run of the default model measures the rate R₁ (nats) and MSE₁ the
model reaches with the plain ELBO; then GECO aims at MSE targets of ½, 1, 2 and 4 × MSE₁ and
ControlVAE at KL targets of ¼, ½, 1 and 1½ × R₁, every run with the same budget and only the
target given. "Reached" is the controlled quantity's training mean over the last 5% of the run
(what the controller sees); "within ±3% from" is the first step after which that running mean
(over 5% of the run) stays within ±3% of the target. Runs of fewer than 20 epochs (Fashion-MNIST)
report the balancer's own 100-step moving average at the end instead, and no step. Writes a markdown table and JSON under bench/results/.

    PYTHONPATH=src .venv/bin/python bench/controllers.py [--data digits fashion-mnist]
        [--epochs 100] [--jobs 1] [--only geco] [--mse-factors 0.5 0.6]
        [--kl-factors 0.25] [--set balancer.kp=0.1 ...]

Digits (the default MLP, 100 epochs = 2500 steps, one thread): ~2.5 minutes for all nine runs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from vaebalance.config import build_config
from vaebalance.runs import HISTORY, train
from vaebalance.schema import EpochRecord
from vaebalance.storage import read_csv

FASHION = Path("/usr/share/datasets/fashion-mnist")
MSE_FACTORS = (0.5, 1.0, 2.0, 4.0)
KL_FACTORS = (0.25, 0.5, 1.0, 1.5)
TOLERANCE = 0.03
# Short runs on the larger set: (epochs, train.steps) per data set, and its model.
BUDGET = {"digits": ["train.epochs={epochs}"], "fashion-mnist": ["train.steps={steps}"]}


def train_history(data: str, overrides: list[str], args, out: Path) -> list[EpochRecord]:
    budget = [b.format(epochs=args.epochs, steps=args.steps) for b in BUDGET[data]]
    cfg = build_config(
        None,
        [f"data.name={data}", *budget, "train.threads=1", "train.tensorboard=false",
         "eval.iw_samples=0", *overrides],
    )  # fmt: skip
    _, metrics = train(cfg, out)
    rows = [EpochRecord.from_json(r) for r in read_csv(out / HISTORY)]
    return [r for r in rows if r.split == "train"], metrics.target_status


def one_case(case: dict) -> dict:
    """Train one case; the last epoch's training means and when the target was held."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        hist, status = train_history(case["data"], case["overrides"], case["args"],
                                     Path(tmp) / "run")  # fmt: skip
    out = {k: v for k, v in case.items() if k != "args"}
    last = hist[-1]
    out.update(rate=last.rate_nats, mse=last.mse_per_element, beta=last.beta,
               steps=last.step, seconds=time.perf_counter() - start)  # fmt: skip
    if case.get("key"):
        values = [getattr(r, case["key"]) for r in hist]
        n = max(1, len(values) // 20)  # the last 5% of the run
        means = [sum(values[max(0, i - n + 1) : i + 1]) / len(values[max(0, i - n + 1) : i + 1])
                 for i in range(len(values))]  # fmt: skip
        out["reached"] = means[-1]
        if len(values) < 20:  # too few epochs: the balancer's own 100-step average instead
            out["reached"] = status["reached"]
        out["relative_error"] = out["reached"] / case["target"] - 1
        held = None
        for r, value in zip(reversed(hist), reversed(means) if len(values) >= 20 else []):
            if abs(value / case["target"] - 1) > TOLERANCE:
                break
            held = r.step
        out["held_from_step"] = held
    return out


def cases(data: str, base: dict, args) -> list[dict]:
    extra = list(args.set)
    mse_factors, kl_factors = args.mse_factors or MSE_FACTORS, args.kl_factors or KL_FACTORS
    geco = [("geco", "mse", "mse_per_element", f, f * base["mse"]) for f in mse_factors]
    ctrl = [("control", "kl", "rate_nats", f, f * base["rate"]) for f in kl_factors]
    out = []
    for name, what, key, factor, target in geco + ctrl:
        if args.only and name != args.only:
            continue
        param = "target_mse" if name == "geco" else "target_kl"
        overrides = [f"balancer.name={name}", f"balancer.{param}={target:.6g}", *extra]
        out.append(dict(data=data, balancer=name, what=what, key=key, factor=factor,
                        target=float(f"{target:.6g}"), overrides=overrides, args=args))  # fmt: skip
    return out


def table(rows: list[dict]) -> str:
    head = (
        "| data | balancer | target | reached (last 5%) | error | within ±3% | "
        "within ±3% from step | steps | final β |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        unit = "MSE" if r["what"] == "mse" else "KL"
        fmt = ".4g" if r["what"] == "mse" else ".2f"
        ok = "yes" if abs(r["relative_error"]) <= TOLERANCE else "**no**"
        held = "—" if r["held_from_step"] is None else str(r["held_from_step"])
        lines.append(
            f"| {r['data']} | {r['balancer']} | {unit} {r['target']:{fmt}} "
            f"({r['factor']:g}× β=1) | {r['reached']:{fmt}} | {100 * r['relative_error']:+.1f}% "
            f"| {ok} | {held} | {r['steps']} | {r['beta']:.3g} |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["digits"])
    parser.add_argument("--epochs", type=int, default=100, help="digits: epochs per run")
    parser.add_argument("--steps", type=int, default=3000, help="fashion-mnist: steps per run")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--only", choices=["geco", "control"])
    parser.add_argument("--mse-factors", type=float, nargs="+", help="GECO's targets × MSE₁")
    parser.add_argument("--kl-factors", type=float, nargs="+", help="ControlVAE's targets × R₁")
    parser.add_argument("--set", nargs="*", default=[], help="extra overrides for every run")
    parser.add_argument("--name", default="controllers", help="results file stem")
    args = parser.parse_args()
    data = [d for d in args.data if d != "fashion-mnist" or FASHION.is_dir()]
    rows, bases = [], {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for d in data:
            b = one_case(dict(data=d, overrides=["balancer.name=constant"], args=args))
            bases[d] = b
            print(f"{d}: β = 1 reaches rate {b['rate']:.3f} nats, MSE {b['mse']:.5g}", flush=True)
            for r in pool.map(one_case, cases(d, b, args)):
                print(f"  {r['balancer']:8} {r['target']:<10.4g} reached {r['reached']:<10.4g} "
                      f"{100 * r['relative_error']:+5.1f}%  held from {r['held_from_step']}  "
                      f"β {r['beta']:.3g}  {r['seconds']:.0f} s", flush=True)  # fmt: skip
                rows.append(r)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{args.name}.md").write_text(table(rows))
    (out / f"{args.name}.json").write_text(json.dumps({"baselines": bases, "rows": rows},
                                                      indent=2, default=str))  # fmt: skip
    print(table(rows))


if __name__ == "__main__":
    main()
