import pytest
import torch

import vaebalance
from vaebalance.balancers import FreeBits, Weights
from vaebalance.balancers.base import rate_term
from vaebalance.errors import UserError


def test_per_dimension_by_hand(stats):
    w = FreeBits(free_bits=0.25)(stats(), Weights(beta=2.0), True)
    kl = torch.tensor([0.1, 0.5, 1.0], requires_grad=True)
    loss = rate_term(kl, w)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(2.0 * (0.25 + 0.5 + 1.0))
    assert kl.grad.tolist() == [0.0, 2.0, 2.0]  # below the threshold: no KL gradient at all


def test_groups_by_hand(stats, bound):
    fb = bound(FreeBits(free_bits=0.25, groups=2), latent_dim=4)
    w = fb(stats(), Weights(), True)
    kl = torch.tensor([0.1, 0.1, 0.2, 0.5], requires_grad=True)  # group sums 0.2 and 0.7
    loss = rate_term(kl, w)
    loss.backward()
    assert float(loss.detach()) == pytest.approx(0.25 + 0.7)
    assert kl.grad.tolist() == [0.0, 0.0, 1.0, 1.0]


def test_groups_must_divide_latent_dim(bound):
    with pytest.raises(UserError, match="divide"):
        bound(FreeBits(groups=4), latent_dim=6)


def test_loss_gradient_is_zero_through_the_kl_below_threshold():
    loss_fn = vaebalance.ELBOLoss("bernoulli", FreeBits(free_bits=0.5))
    x = torch.rand(16, 6)
    mu = torch.zeros(16, 2)
    mu[:, 1] = 2.0  # dim 0: KL 0 (< 0.5); dim 1: KL 2 nats (> 0.5)
    mu.requires_grad_(True)
    logvar = torch.zeros(16, 2, requires_grad=True)
    out = loss_fn(x, torch.zeros(16, 6), mu, logvar)  # the decoder ignores z: only KL gradients
    out.loss.backward()
    assert mu.grad[:, 0].abs().max() == 0 and logvar.grad[:, 0].abs().max() == 0
    assert mu.grad[:, 1].abs().min() > 0
    assert float(out.rate.detach()) == pytest.approx(2.0)  # the reported rate is the true KL
    assert float((out.loss - out.distortion).detach()) == pytest.approx(2.5)


def test_keeps_every_dimension_at_the_threshold_where_plain_vae_collapses(train):
    threshold = 0.5
    _, plain = train(None, epochs=40)
    _, freebits = train(FreeBits(free_bits=threshold), epochs=40)
    per_dim = {k: torch.stack([s.kl_per_dim for s in h[-29:]]).mean(0) for k, h in
               (("plain", plain), ("free", freebits))}  # fmt: skip
    assert per_dim["plain"].min() < 0.1 * threshold  # some dims collapse without free bits
    assert per_dim["free"].min() >= 0.95 * threshold, per_dim["free"]


def test_state_round_trip(roundtrip):
    def make():
        return vaebalance.ELBOLoss("bernoulli", FreeBits(free_bits=1.0))

    _, continued, resumed = roundtrip(make)
    assert torch.equal(continued, resumed)
