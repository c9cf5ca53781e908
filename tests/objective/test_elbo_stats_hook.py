"""``ELBOLoss.stats_hook``: shards of a batch whose statistics are replaced by the whole
batch's give, averaged, the whole batch's gradients, also through a non-linear rate term.

Data-parallel training (vaebalance.training.distributed) relies on it; here the two
"processes" are two slices of one batch in one process, and the reference is the loss of the
whole batch."""

import pytest
import torch

import vaebalance.balancers  # noqa: F401  (registers the balancers)
from vaebalance.objective.balancer import get
from vaebalance.objective.elbo import ELBOLoss
from vaebalance.objective.terms import Stats

B, K, J = 8, 6, 3


def batch():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(B, K, generator=g).round()
    logits = torch.randn(B, K, generator=g)
    mu = torch.randn(B, J, generator=g) * 0.1
    mu[B // 2 :, 0] += 2.0  # dim 0: KL ≈ 0 in the first half, ≈ 2 nats in the second
    logvar = torch.randn(B, J, generator=g) * 0.1
    return x, logits, mu, logvar


def grads(loss_fn, x, *leaves):
    leaves = [t.clone().requires_grad_(True) for t in leaves]
    loss_fn.step.fill_(1)  # every call is step 1 (a capacity schedule of 1 step is at C_max)
    out = loss_fn(x, *leaves)
    out.loss.backward()
    return out, [t.grad for t in leaves]


def whole_batch_stats(loss_fn, x, logits, mu, logvar) -> Stats:
    """The statistics ELBOLoss forms for the whole batch (evaluation mode: no state update)."""
    seen = {}
    loss_fn.eval()
    loss_fn.step.fill_(1)
    loss_fn.balancer.forward, original = (
        lambda stats, term, training: seen.setdefault("stats", stats) and term,
        loss_fn.balancer.forward,
    )
    loss_fn(x, logits, mu, logvar)
    loss_fn.balancer.forward = original
    loss_fn.train()
    return seen["stats"]


@pytest.mark.parametrize(
    "balancer, params",
    [("free-bits", {"free_bits": 1.0}), ("capacity", {"c_max": 1.5, "steps": 1})],
)
def test_shards_with_whole_batch_stats_average_to_the_whole_batch_gradient(balancer, params):
    x, logits, mu, logvar = batch()
    whole_fn = ELBOLoss("bernoulli", balancer=get(balancer, **params))
    whole_out, whole = grads(whole_fn, x, logits, mu, logvar)

    shard_fn = ELBOLoss("bernoulli", balancer=get(balancer, **params))
    stats = whole_batch_stats(shard_fn, x, logits, mu, logvar)
    shard_fn.stats_hook = lambda local: Stats(stats.rate, stats.distortion, stats.kl_per_dim,
                                              stats.mse_per_element, local.step)  # fmt: skip
    for rows in (slice(0, B // 2), slice(B // 2, B)):
        out, parts = grads(shard_fn, x[rows], logits[rows], mu[rows], logvar[rows])
        # The loss's value is the whole batch's; each shard's gradient, averaged over the
        # 2 processes (halved), is the whole batch's gradient for its rows.
        assert out.loss.item() == pytest.approx(whole_out.loss.item(), rel=1e-6)
        for part, ref in zip(parts, whole):
            torch.testing.assert_close(part / 2, ref[rows], rtol=1e-5, atol=1e-7)


def test_without_the_hook_a_shard_clamps_its_own_kl():
    """The hook matters: alone, the first shard's dim 0 sits below λ and gets no KL gradient."""
    x, logits, mu, logvar = batch()
    loss_fn = ELBOLoss("bernoulli", balancer=get("free-bits", free_bits=1.0))
    _, whole = grads(ELBOLoss("bernoulli", balancer=get("free-bits", free_bits=1.0)),
                     x, logits, mu, logvar)  # fmt: skip
    _, alone = grads(loss_fn, x[: B // 2], logits[: B // 2], mu[: B // 2], logvar[: B // 2])
    assert torch.all(alone[1][:, 0] == 0)
    assert torch.all(whole[1][: B // 2, 0] != 0)
