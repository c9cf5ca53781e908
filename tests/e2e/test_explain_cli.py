"""``vaebalance explain --preset`` and ``--loss-file``: the library's numbers, as text and JSON."""

from __future__ import annotations

import json

import pytest

from vaebalance import explain_loss, explain_preset
from vaebalance.cli import main
from vaebalance.cli.explain import PRESET_NAMES
from vaebalance.objective import load_loss_function
from vaebalance.objective.presets import names

LOSS = """
import torch.nn.functional as F

def vae_loss(x, recon, mu, logvar):
    kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).mean()
    return F.mse_loss(recon, x) + 0.1 * kl
"""


def test_the_cli_lists_every_preset():
    assert tuple(names()) == PRESET_NAMES


def test_preset_json_is_the_library_explanation(capsys):
    main(["explain", "--preset", "pytorch-vae", "--input-shape", "1,28,28", "--latent-dim",
          "16", "--batch-size", "64", "--dataset-size", "60000", "--json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    expected = explain_preset("pytorch-vae", (1, 28, 28), 16, 64, 60000).to_json()
    assert out == json.loads(json.dumps(expected))
    assert out["yours"]["beta_summed"] == pytest.approx(64 / 60000 * 784)


def test_preset_text_ends_with_a_command(capsys):
    main(["explain", "--preset", "lightning-bolts"])
    text = capsys.readouterr().out
    sigma = explain_preset("lightning-bolts").sigma
    assert f"vaebalance train --likelihood gaussian --set likelihood.sigma={sigma:.6g}" in text
    assert "lightning-bolts 0.7.0" in text


def test_loss_file(tmp_path, capsys):
    f = tmp_path / "my_loss.py"
    f.write_text(LOSS)
    main(["explain", "--loss-file", str(f), "--loss-fn", "vae_loss", "--input-shape", "1,28,28",
          "--latent-dim", "32", "--json"])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    e = explain_loss(load_loss_function(f, "vae_loss"), (1, 28, 28), 32)
    assert out["sigma_squared"] == pytest.approx(0.1 * 784 / 32 / 2, rel=1e-6)
    assert out == json.loads(json.dumps(e.to_json()))
    main(["explain", "--loss-file", str(f), "--loss-fn", "vae_loss", "--input-dim", "784",
          "--latent-dim", "32"])  # fmt: skip
    assert "vaebalance train --likelihood gaussian-learned" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--preset", "pytorch_vae"], "unknown preset 'pytorch_vae'; valid: disent,"),
        (["--preset", "pythae", "--input-shape", "3,0,4"], "--input-shape must be positive"),
        (["--preset", "pythae", "--loss-file", "x.py"], "give either --preset or --loss-file"),
        (["--loss-file", "x.py", "--loss-fn", "f", "--latent-dim", "3"], "needs --input-shape"),
        (["--latent-dim", "3"], "explain needs --input-dim and --latent-dim"),
    ],
)
def test_errors_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(["explain", *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
