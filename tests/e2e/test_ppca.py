"""A linear VAE on real-valued probabilistic-PCA data reaches the exact PPCA optimum.

Data: x = W z + μ + ε, z ~ N(0, I_J), ε ~ N(0, σ² I_D), values far outside [0, 1]. The
maximum-likelihood PPCA model (Tipping & Bishop 1999, eqs. 7–8) has a closed form from the
eigendecomposition S = U Λ Uᵀ of the training sample covariance (with the sample mean μ̂):

    σ²_ML = (1 / (D − J)) Σ_{j > J} λ_j,     W_ML = U_J (Λ_J − σ²_ML I)^{1/2}   (up to rotation),

and x ~ N(μ̂, W_ML W_MLᵀ + σ²_ML I). A VAE with a linear decoder and a shared learned σ
(``gaussian-learned``) is PPCA; its global optimum is the ML solution, where a diagonal Gaussian
posterior is exact (Lucas et al. 2019), so the IWAE NLL it reports on test data must equal the
test NLL of the closed form. The test trains and evaluates through the command line only.

Budget: the defaults (lr 1e-3, 100 epochs) converge too, but slowly; this test documents the
small budget ``--epochs 20 --lr 0.01`` on 4000 training examples (measured: within 0.01 nats of
the optimum, both latent dims active, about 15 s on one thread).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.distributions import MultivariateNormal

from vaebalance.cli import main
from vaebalance.data import load_from_source

D, J, N, HELD_OUT, SIGMA = 10, 2, 5000, 2000, 1.0
FRACTION = 0.2  # of data.npy held out as the run's own test split
BUDGET = ["--epochs", "20", "--lr", "0.01"]


def ppca_sample(rng: np.random.Generator, n: int, w: np.ndarray, mu: np.ndarray) -> np.ndarray:
    z = rng.normal(size=(n, J))
    return z @ w.T + mu + SIGMA * rng.normal(size=(n, D))


def ml_ppca(train: np.ndarray) -> MultivariateNormal:
    """The maximum-likelihood PPCA density with J latent dims, in closed form."""
    mean = train.mean(0)
    cov = np.cov(train.T, bias=True)  # the ML covariance: divide by N
    lam, u = np.linalg.eigh(cov)
    lam, u = lam[::-1], u[:, ::-1]  # descending
    sigma2 = lam[J:].mean()
    w = u[:, :J] * np.sqrt(lam[:J] - sigma2)
    c = w @ w.T + sigma2 * np.eye(D)
    return MultivariateNormal(torch.from_numpy(mean), torch.from_numpy(c))


def nll(model: MultivariateNormal, x: np.ndarray) -> float:
    return -float(model.log_prob(torch.from_numpy(np.asarray(x, np.float64))).mean())


@pytest.fixture(scope="module")
def ppca(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ppca")
    rng = np.random.default_rng(0)
    w = rng.normal(size=(D, J)) * np.array([1.5, 0.75])  # one strong, one weak direction
    mu = rng.normal(0, 2, D)
    np.save(tmp / "data.npy", ppca_sample(rng, N, w, mu).astype(np.float32))
    held_out = ppca_sample(rng, HELD_OUT, w, mu).astype(np.float32)
    np.save(tmp / "heldout.npy", held_out)
    run = tmp / "run"
    main(["train", "--data", str(tmp / "data.npy"), "--set", f"data.test_fraction={FRACTION}",
          "--set", "model.hidden=[]", "--set", "model.decoder=linear", "--latent-dim", str(J),
          "--likelihood", "gaussian-learned", *BUDGET, "--threads", "1", "--quiet",
          "--no-report", "--set", "train.tensorboard=false", "--out", str(run)])  # fmt: skip
    own = (run / "metrics.json").read_text()
    main(["evaluate", str(run), "--data", str(tmp / "heldout.npy"), "--iw-samples", "1000"])
    assert (run / "metrics.json").read_text() == own  # the run's own metrics are untouched
    split = run_split(run)
    return {
        "run": run,
        "train": split.train.double().numpy(),
        "test": split.test.double().numpy(),
        "held_out": held_out,
    }


def run_split(run):
    """The run's own splits (the examples it trained on, validation held out), as it
    recorded them in run.json."""
    return load_from_source(json.loads((run / "run.json").read_text())["dataset"]["source"])


def test_data_are_real_valued_not_in_the_unit_interval(ppca):
    assert ppca["train"].min() < -1 and ppca["train"].max() > 2


def test_iwae_nll_on_held_out_data_is_the_exact_ppca_optimum(ppca):
    exact = nll(ml_ppca(ppca["train"]), ppca["held_out"])
    metrics = json.loads((ppca["run"] / "metrics-heldout.json").read_text())
    assert metrics["examples"] == HELD_OUT and metrics["iw_samples"] == 1000
    assert abs(metrics["nll_iw_nats"] - exact) < 0.1, (metrics["nll_iw_nats"], exact)
    assert metrics["active_units"] == J
    # The ELBO is tight at the PPCA optimum too (the true posterior is a diagonal Gaussian).
    assert metrics["neg_elbo_nats"] - exact < 0.2


def test_the_runs_own_test_split_reaches_it_too(ppca):
    exact = nll(ml_ppca(ppca["train"]), ppca["test"])
    metrics = json.loads((ppca["run"] / "metrics.json").read_text())
    assert abs(metrics["nll_iw_nats"] - exact) < 0.1, (metrics["nll_iw_nats"], exact)
    assert metrics["active_units"] == J
    assert metrics["likelihood"] == "gaussian-learned"


@pytest.fixture(scope="module")
def standardized_csv(tmp_path_factory):
    """The same kind of data as a CSV with a header, on column scales from 0.1 to 30, trained
    with ``data.standardize``."""
    tmp = tmp_path_factory.mktemp("ppca_csv")
    rng = np.random.default_rng(1)
    w = rng.normal(size=(D, J)) * np.array([1.5, 0.75])
    mu = rng.normal(0, 2, D)
    scales = np.geomspace(0.1, 30, D)
    x = ppca_sample(rng, N, w, mu) * scales
    header = ",".join(f"f{d}" for d in range(D))
    np.savetxt(tmp / "data.csv", x, delimiter=",", header=header, comments="", fmt="%.9g")
    run = tmp / "run"
    main(["train", "--data", str(tmp / "data.csv"), "--set", f"data.test_fraction={FRACTION}",
          "--set", "data.standardize=true", "--set", "model.hidden=[]", "--set",
          "model.decoder=linear", "--latent-dim", str(J), "--likelihood", "gaussian-learned",
          *BUDGET, "--threads", "1", "--quiet", "--no-report", "--set",
          "train.tensorboard=false", "--iw-samples", "1000", "--out", str(run)])  # fmt: skip
    split = run_split(run)
    return run, split.train.double().numpy(), split.test.double().numpy()


def test_standardized_csv_reaches_the_ppca_optimum_in_the_datas_units(standardized_csv):
    """PPCA on y = (x − m) / s, then the change of variables: −log p(x) = −log p(y) + Σ log s_d.
    The run reports the NLL of x, not of y (they differ here by about 8 nats)."""
    run, train_x, test_x = standardized_csv
    m, s = train_x.mean(0), train_x.std(0)
    log_det = float(np.log(s).sum())
    exact = nll(ml_ppca((train_x - m) / s), (test_x - m) / s) + log_det
    metrics = json.loads((run / "metrics.json").read_text())
    assert abs(log_det) > 5
    assert metrics["log_det_nats"] == pytest.approx(log_det, rel=1e-5)
    assert abs(metrics["nll_iw_nats"] - exact) < 0.1, (metrics["nll_iw_nats"], exact)
    assert metrics["active_units"] == J
