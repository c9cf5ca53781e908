"""Does ``torch.compile`` make a training step faster on this CPU? Eager against compiled.

    python bench/compile_step.py [--rounds 5] [--steps 50] [--threads 2]

One optimizer step as the trainer takes it — the model's forward (fp32, or bf16 under
autocast), the ELBO, backward, fused Adam — for the reference model (MLP 784-512-256 → J = 16,
Bernoulli, batch 128) and the tiny linear 12 → 2J model (J = 2, unit Gaussian). The compiled
variant compiles the forward and the loss (``torch.compile``, inductor, its backward through
AOTAutograd); Adam is fused either way. Inductor cannot compile the trainer's oneDNN products
(``models/linear.py``: its mkldnn lowering asserts on weights that are not frozen constants), so
the compiled variant runs with them off (``nn.Linear``'s path, which inductor lowers itself). Eager and compiled alternate round by round; medians of
the rounds' ms per step; the first compiled call's seconds (compilation) are reported apart.
Prints a markdown table. Nothing here is asserted by a test.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from vaebalance import balancers, likelihoods
from vaebalance.config import build_config
from vaebalance.models import build_model, linear
from vaebalance.objective.elbo import ELBOLoss
from vaebalance.training.runtime import configure

MODELS = {  # name: (input size, config overrides, likelihood)
    "reference MLP": (784, ["model.hidden=[512,256]", "model.latent_dim=16"], "bernoulli"),
    "tiny linear": (12, ["model.hidden=[]", "model.latent_dim=2"], "gaussian"),
}


onednn = linear.ENABLED


def setup(name: str, precision: str, compiled: bool):
    d, overrides, lik = MODELS[name]
    torch.manual_seed(0)
    cfg = build_config(None, overrides)
    likelihood = likelihoods.get(lik)
    model = build_model(cfg.model, (d,), likelihood.outputs_per_element)
    loss_fn = ELBOLoss(likelihood, balancers.get("constant"), validate=False)
    loss_fn.bind(d, cfg.model.latent_dim, 10_000)
    opt = torch.optim.Adam([*model.parameters(), *loss_fn.parameters()], lr=1e-3, fused=True)
    x = torch.rand(128, d).round() if lik == "bernoulli" else torch.randn(128, d)

    def forward(x):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            output, mu, logvar = model(x)
        return loss_fn(x, output.float(), mu.float(), logvar.float()).loss

    fn = torch.compile(forward) if compiled else forward

    def step():
        linear.ENABLED = onednn and not compiled
        opt.zero_grad(set_to_none=True)
        fn(x).backward()
        opt.step()
        linear.ENABLED = onednn

    return step


def ms_per_step(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return 1000 * (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    configure(args.threads, 0, "cpu")  # threads and denormal flushing, as a run sets them
    print("| model | precision | eager ms/step | compiled ms/step | compiled ÷ eager | compile s |")
    print("|---|---|---|---|---|---|")
    for name in MODELS:
        for precision in ("fp32", "bf16"):
            eager, compiled = setup(name, precision, False), setup(name, precision, True)
            start = time.perf_counter()
            compiled()  # compiles forward and backward
            compile_s = time.perf_counter() - start
            eager()
            times = {"eager": [], "compiled": []}
            for _ in range(args.rounds):
                times["eager"].append(ms_per_step(eager, args.steps))
                times["compiled"].append(ms_per_step(compiled, args.steps))
            e, c = (statistics.median(times[k]) for k in ("eager", "compiled"))
            print(f"| {name} | {precision} | {e:.3f} | {c:.3f} | {c / e:.2f} | {compile_s:.1f} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
