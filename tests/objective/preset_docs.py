"""``docs/presets.md`` is rendered from the preset catalogue; after changing a preset run::

.venv/bin/python -m tests.objective.preset_docs --write
"""

from __future__ import annotations

import sys
from pathlib import Path

from vaebalance.objective.presets import UNITS, explain_preset, names

DOC = Path(__file__).resolve().parents[2] / "docs" / "presets.md"

INTRO = f"""# Presets: the loss conventions people copy

`vaebalance explain --preset NAME` and `vaebalance.explain_preset(NAME, input_shape, latent_dim,
batch_size, dataset_size)` explain a loss copied from a known repository: the weight it puts on
the KL summed over the J latent dims against the reconstruction summed over the K input
elements, what that means as a decoder σ (squared error) or a β (BCE, NLL), and the vaebalance
settings that train the same objective. Each number is given at the original's data and at
yours: a mean over pixels multiplies the KL's weight by K, a mean over latent dims divides it
by J, and a batch mean (applied to both terms) changes nothing.

Units: {UNITS}.

How the numbers follow from a convention `c · Rec + w · KL` (`vaebalance/objective/explain.py`):

- β_S = w · ρ_K / (c · ρ_J), with ρ_K = K if Rec is a mean over elements (else 1) and ρ_J = J if
  the KL is a mean over latent dims (else 1);
- squared error: exactly the β = 1 ELBO of a Gaussian decoder with σ² = β_S / 2, or the β-ELBO
  with β = σ² at σ = 1;
- BCE (summed): the Bernoulli β-ELBO with β = β_S; a likelihood's own NLL summed: β = w.

Every preset is tested against a literal re-implementation of the lines described below, on
random tensors, at the original's data and at other shapes: the loss must be a positive
multiple of the stated β-ELBO plus a constant (`tests/objective/test_presets.py`). The
descriptions are in our words; follow the links for the code itself. A repository may have
changed since the version named: to check the code you actually have, hand its loss function
to `vaebalance.explain_loss` (or `vaebalance explain --loss-file`), which reads the objective off
the function itself.
"""


def _numbers(s, where: str) -> str:
    if s.sigma is None:
        return f"{where}: β = {s.beta:.6g}. The same objective: `{s.python}`."
    return (
        f"{where}: weight {s.beta_summed:.6g} on the summed KL against the summed squared "
        f"error, i.e. the ELBO of a Gaussian decoder with σ = {s.sigma:.6g} (β = {s.beta:.6g} "
        f"at σ = 1). The same objective: `{s.python}`."
    )


def section(name: str) -> list[str]:
    e = explain_preset(name)
    p, o = e.preset, e.original
    shape = " × ".join(map(str, o.input_shape))
    mnist = explain_preset(name, (1, 28, 28), 16).yours
    return [
        f"## `{name}` — {p.title}",
        "",
        f"Source: <{p.url}>, read from {p.version}.",
        "",
        "What the preset encodes:",
        "",
        *(f"- {line}" for line in p.encodes),
        "",
        f"Weight: {p.weight_rule}.",
        "",
        _numbers(o, f"At the original's data ({shape}, K = {o.input_dim}, J = {o.latent_dim})"),
        "",
        *(f"{note}\n" for note in p.notes),
        "```console",
        f"$ vaebalance explain --preset {name} --input-shape 1,28,28 --latent-dim 16",
        "```",
        "",
        _numbers(mnist, "At 1 × 28 × 28 and J = 16"),
        "",
    ]


def render() -> str:
    lines = [INTRO]
    for name in names():
        lines += section(name)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(render())
    else:
        print(render())
