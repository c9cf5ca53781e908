"""`vaebalance study dims --quick` as CI runs it, and the conventions' weights against closed forms
derived here by hand (not with explain's code, which the study uses)."""

from __future__ import annotations

import math

import pytest

from vaebalance.cli import main
from vaebalance.config import build_config
from vaebalance.schema import RunMetrics
from vaebalance.sweeps.conventions import CONVENTIONS, Targets, effective_beta, fixed_beta
from vaebalance.sweeps.grid import Point
from vaebalance.sweeps.study import QUICK, cell_config, read_study, study_plan

NAMES = ("normalized", "mean-sum", "elbo-unit-sigma", "sigma-vae", "geco", "controlvae",
         "continuous-bernoulli")  # fmt: skip


def closed_form(convention: str, k: int, j: int) -> float:
    """β against SSE/2 (the unit-σ Gaussian NLL up to a constant), KL summed over J.

    normalized:  (1/K)·SSE + 0.1·(1/J)·KL  =  (2/K)·[SSE/2 + 0.05·(K/J)·KL]  → 0.05·K/J
    mean-sum:    (1/K)·SSE + KL            =  (2/K)·[SSE/2 + (K/2)·KL]       → K/2
    elbo-unit-sigma: SSE/2 + KL                                               → 1
    A positive factor in front rescales the gradient only, so β is the bracket's KL weight.
    """
    return {"normalized": 0.05 * k / j, "mean-sum": k / 2, "elbo-unit-sigma": 1.0}[convention]


def exit_code(argv) -> int:
    try:
        main(argv)
    except SystemExit as e:
        return e.code
    return 0


@pytest.mark.parametrize("k,j", [(16, 2), (784, 32), (3136, 64), (4096, 4)])
@pytest.mark.parametrize("convention", ["normalized", "mean-sum", "elbo-unit-sigma"])
def test_fixed_weights_match_the_closed_form(convention, k, j):
    assert math.isclose(fixed_beta(convention, k, j), closed_form(convention, k, j), rel_tol=1e-12)
    assert math.isclose(effective_beta(convention, k, j, None), closed_form(convention, k, j))


def test_adaptive_weights_are_read_from_the_end_of_training():
    m = RunMetrics(decoder_scale=0.2, balancer_state={"beta": 0.03})
    # σ-VAE: SSE/(2σ²) + KL = (1/σ²)·[SSE/2 + σ²·KL]
    assert math.isclose(effective_beta("sigma-vae", 784, 16, m), 0.04)
    assert math.isclose(effective_beta("geco", 784, 16, m), 0.03)  # NLL(σ=1) + β·KL
    assert math.isclose(effective_beta("controlvae", 784, 16, m), 0.03)
    assert effective_beta("continuous-bernoulli", 784, 16, m) is None
    assert effective_beta("geco", 784, 16, RunMetrics()) is None  # not recorded


def test_each_cell_config_is_the_convention_at_that_k_and_j():
    base = build_config(None, ["data.name=digits"])
    targets = Targets(mse_per_element=0.02, kl_nats_per_dim=1.5)

    def cfg(convention, side, j):
        values = {"convention": convention, "data.size": str(side), "model.latent_dim": str(j)}
        return cell_config(targets, 1, base, Point("p", values))

    c = cfg("normalized", 8, 4)
    assert (c.data.size, c.model.latent_dim, c.likelihood.name) == (8, 4, "gaussian")
    assert c.likelihood.params["sigma"] == 1
    assert math.isclose(c.balancer.params["beta"], closed_form("normalized", 64, 4))
    assert cfg("controlvae", 4, 8).balancer.params["target_kl"] == 1.5 * 8
    assert cfg("geco", 4, 8).balancer.params["target_mse"] == 0.02
    assert cfg("sigma-vae", 4, 8).likelihood.name == "gaussian-learned"
    assert cfg("continuous-bernoulli", 4, 8).likelihood.name == "continuous-bernoulli"
    assert CONVENTIONS == NAMES


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The quick study, once, as the command line runs it (two workers, as on CI's two cores)."""
    out = tmp_path_factory.mktemp("study") / "quick"
    code = exit_code(["study", "dims", "--quick", "--out", str(out), "--workers", "2", "--quiet"])
    return out, code


@pytest.mark.slow
def test_quick_study_has_every_cell_with_its_weight_and_units(quick):
    out, code = quick
    assert code == 0
    rows = read_study(out)
    sides, latents = QUICK.sizes, QUICK.latent_dims
    cells = [(r.convention, r.image_side, r.latent_dim) for r in rows]
    assert sorted(cells) == sorted((c, s, j) for c in NAMES for s in sides for j in latents)
    for r in rows:
        assert r.status == "finished", r.error
        assert r.input_dim == r.image_side**2  # digits: one channel
        assert 0 < r.mse_per_element < 1  # digits lie in [0, 1]
        assert math.isclose(r.psnr_db, -10 * math.log10(r.mse_per_element), rel_tol=1e-6)
        assert r.rate_nats >= 0 and isinstance(r.active_units, int)
        assert 0 <= r.active_units <= r.latent_dim
        if r.convention in ("normalized", "mean-sum", "elbo-unit-sigma"):
            expected = closed_form(r.convention, r.input_dim, r.latent_dim)
            assert math.isclose(r.effective_beta, expected, rel_tol=1e-9), r
        elif r.convention == "sigma-vae":
            assert math.isclose(r.effective_beta, r.decoder_scale**2, rel_tol=1e-9)
        elif r.convention == "continuous-bernoulli":
            assert r.effective_beta is None
        else:
            assert r.effective_beta > 0 and r.target_met in (True, False)


@pytest.mark.slow
def test_quick_study_writes_its_plots_pictures_and_report_and_resumes(quick, capsys):
    out, _ = quick
    for name in ("versus_K.png", "versus_J.png", "report.html", "study.json", "study.md"):
        assert (out / name).is_file(), name
    pictures = sorted(p.name for p in (out / "pictures").iterdir())
    assert pictures == sorted(
        f"cell_{s}x{s}_J{j}.png" for s in QUICK.sizes for j in QUICK.latent_dims
    )
    before = (out / "study.csv").read_text()
    assert exit_code(["study", "dims", "--quick", "--out", str(out)]) == 0
    assert "0 to run" in capsys.readouterr().err  # every cell was finished: nothing retrained
    assert (out / "study.csv").read_text() == before


def test_bad_study_arguments_are_one_line_errors(tmp_path, capsys):
    for argv, words in (
        (["--data", "cifar"], ("study dataset", "fashion-mnist")),
        (["--data", "sprites", "--quick"], ("--quick",)),
        (["--quick", "--workers", "0"], ("--workers",)),
    ):
        assert exit_code(["study", "dims", *argv, "--out", str(tmp_path / "s")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err, err
        assert all(w in err for w in words), err
    assert study_plan("digits", quick=True) is QUICK
