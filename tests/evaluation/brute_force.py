"""Deliberately slow, obviously correct references: one example, one sample, one dim at a time.

They share nothing with the code under test except the model and the likelihood's
``distribution`` (a ``torch.distributions`` object, not the fast ``nll`` path), and they draw the
noise in the order ``evaluate_model`` documents: ``randn(N, J)`` for the latent statistics, then
``randn(max(k, 1), J)`` per example.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.distributions import Normal, kl_divergence


def logsumexp(values: list[float]) -> float:
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


def normal_logpdf(z: float, mean: float, std: float) -> float:
    return -0.5 * ((z - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)


@torch.no_grad()
def posterior(model, x):
    """μ and σ per example, as nested Python lists, one encoder call per example."""
    mus, stds = [], []
    for n in range(len(x)):
        mu, logvar = model.encode(x[n : n + 1])
        mus.append([float(v) for v in mu[0]])
        stds.append([math.exp(0.5 * float(v)) for v in logvar[0]])
    return mus, stds


@torch.no_grad()
def reference(model, likelihood, x, k, seed=0, discretization_bits=None):
    """Every metric of ``evaluate_model`` by loops."""
    model.eval()
    n_examples, input_dim = len(x), x[0].numel()
    mus, stds = posterior(model, x)
    latent_dim = len(mus[0])
    g = torch.Generator().manual_seed(seed)
    eps_latent = torch.randn(n_examples, latent_dim, generator=g).double().tolist()
    nll_iw, distortion = [], []
    for n in range(n_examples):
        eps = torch.randn(max(k, 1), latent_dim, generator=g).tolist()
        log_w, log_px = [], []
        for s in range(max(k, 1)):
            z = [mus[n][j] + stds[n][j] * eps[s][j] for j in range(latent_dim)]
            output = model.decode(torch.tensor([z]))
            lp = float(likelihood.distribution(output).log_prob(x[n : n + 1]).double())
            log_pz = sum(normal_logpdf(z[j], 0.0, 1.0) for j in range(latent_dim))
            log_qz = sum(normal_logpdf(z[j], mus[n][j], stds[n][j]) for j in range(latent_dim))
            log_w.append(lp + log_pz - log_qz)
            log_px.append(lp)
        nll_iw.append(math.log(len(log_w)) - logsumexp(log_w))
        distortion.append(-sum(log_px) / len(log_px))

    kl = [
        [
            float(kl_divergence(Normal(mus[n][j], stds[n][j]), Normal(0.0, 1.0)))
            for j in range(latent_dim)
        ]
        for n in range(n_examples)
    ]
    rate = sum(sum(row) for row in kl) / n_examples
    dist = sum(distortion) / n_examples
    extra = discretization_bits or 0

    def bpd(nats, add=extra):
        return nats / (input_dim * math.log(2)) + add

    # Aggregate posterior by explicit double loops.
    zs = [
        [mus[n][j] + stds[n][j] * eps_latent[n][j] for j in range(latent_dim)]
        for n in range(n_examples)
    ]
    mi = tc = agg = 0.0
    for n in range(n_examples):
        joint = []
        per_dim = [[] for _ in range(latent_dim)]
        for m in range(n_examples):
            terms = [normal_logpdf(zs[n][j], mus[m][j], stds[m][j]) for j in range(latent_dim)]
            joint.append(sum(terms))
            for j in range(latent_dim):
                per_dim[j].append(terms[j])
        log_qz = logsumexp(joint) - math.log(n_examples)
        log_marg = sum(logsumexp(per_dim[j]) - math.log(n_examples) for j in range(latent_dim))
        own = sum(normal_logpdf(zs[n][j], mus[n][j], stds[n][j]) for j in range(latent_dim))
        prior = sum(normal_logpdf(zs[n][j], 0.0, 1.0) for j in range(latent_dim))
        mi += (own - log_qz) / n_examples
        tc += (log_qz - log_marg) / n_examples
        agg += (log_qz - prior) / n_examples

    variances = np.var(np.array(mus), axis=0, ddof=1)
    sse = 0.0
    for n in range(n_examples):
        x_hat = likelihood.mean(model.decode(torch.tensor([mus[n]])))[0].flatten().tolist()
        for a, b in zip(x_hat, x[n].flatten().tolist()):
            sse += (a - b) ** 2
    mse = sse / (n_examples * input_dim)
    out = {
        "rate_nats": rate,
        "distortion_nats": dist,
        "neg_elbo_nats": rate + dist,
        "elbo_nats": -(rate + dist),
        "bits_per_dim": bpd(rate + dist),
        "rate_bits_per_dim": bpd(rate, 0),
        "distortion_bits_per_dim": bpd(dist),
        "active_units": int((variances > 0.01).sum()),
        "kl_per_dim": [
            sum(kl[n][j] for n in range(n_examples)) / n_examples for j in range(latent_dim)
        ],
        "mutual_info_nats": mi,
        "total_correlation_nats": tc,
        "aggregate_kl_nats": agg,
        "mse_per_element": mse,
        "psnr_db": 10 * math.log10(1 / mse),
    }
    if k > 0:
        out["nll_iw_nats"] = sum(nll_iw) / n_examples
        out["nll_iw_bits_per_dim"] = bpd(out["nll_iw_nats"])
    return out
