"""The trainer's fast paths change no result: it trains exactly as a plain loop would, and bf16
stays close to fp32.

The plain loop below is the textbook one (forward, the ELBO loss, backward, fused Adam over the
model's then the loss's parameters) on the batches the trainer draws; everything the trainer
adds for speed (statistics kept on the device, the non-finite check through ``found_inf``, the
oneDNN products, the size rule that sends small products to ``nn.Linear``) must leave the
weights bit for bit where the plain loop leaves them.
"""

import copy

import pytest
import torch

from vaebalance.config import build_config, resolve
from vaebalance.data import load_dataset
from vaebalance.training import Trainer, build, evaluate_split, runtime

TINY = ["model.hidden=[32]", "model.latent_dim=3", "train.epochs=2", "train.threads=1",
        "train.tensorboard=false", "train.batch_size=64"]  # fmt: skip


def setup(*extra):
    cfg = build_config(None, [*TINY, *extra])
    device = runtime.configure(cfg.train.threads, cfg.train.seed, cfg.train.device)
    data = load_dataset(cfg.data.name, cfg.data.data_dir, cfg.data.test_fraction, cfg.train.seed)
    cfg = resolve(cfg, data)
    model, loss_fn = build(cfg, data)
    return cfg, data, model, loss_fn, device


def plain_loop(cfg, data, model, loss_fn, epochs: int):
    """The reference: per-step statistics as plain Python floats, weights updated in place."""
    params = [*model.parameters(), *loss_fn.parameters()]
    opt = torch.optim.Adam(params, lr=cfg.train.lr, betas=tuple(cfg.train.betas), fused=True)
    rng = torch.Generator().manual_seed(cfg.train.seed)
    b = cfg.train.batch_size
    model.train()
    loss_fn.train()
    means = []
    for _ in range(epochs):
        perm = torch.randperm(len(data.train), generator=rng)
        rows = []
        for i in range(len(data.train) // b):
            x = data.to_float(data.train[perm[i * b : (i + 1) * b]])
            out = loss_fn(x, *model(x))
            opt.zero_grad()
            out.loss.backward()
            opt.step()
            parts = (out.loss, out.elbo, out.rate, out.distortion)
            rows.append([float(p.detach()) for p in parts])
        means.append(torch.tensor(rows, dtype=torch.float64).mean(0))
    return means


@pytest.mark.parametrize("balancer", ["constant", "geco"])
def test_trainer_trains_bit_for_bit_as_a_plain_loop(balancer):
    extra = ["balancer.target_mse=0.05"] if balancer == "geco" else []
    cfg, data, model, loss_fn, device = setup(f"balancer.name={balancer}", *extra)
    ref_model, ref_loss = copy.deepcopy(model), copy.deepcopy(loss_fn)
    rng_state = torch.get_rng_state()  # the reparameterisation noise: the same stream for both
    trainer = Trainer(cfg, data, model, loss_fn, device)
    epochs = [trainer.train_epoch()[0] for _ in range(2)]
    torch.set_rng_state(rng_state)
    ref_means = plain_loop(cfg, data, ref_model, ref_loss, 2)

    for (name, a), b in zip(model.state_dict().items(), ref_model.state_dict().values()):
        assert torch.equal(a, b), name
    for name, a in loss_fn.state_dict().items():
        assert torch.equal(a, ref_loss.state_dict()[name]), name
    for stats, ref in zip(epochs, ref_means):  # summed in another order: float32 rounding only
        got = torch.tensor([stats.loss, stats.elbo_nats, stats.rate_nats, stats.distortion_nats],
                           dtype=torch.float64)  # fmt: skip
        torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-4)


def test_bf16_training_stays_close_to_fp32():
    """The same start and batches in fp32 and in bf16 autocast: the test −ELBO after two epochs
    on digits agrees to a small fraction of the gap that training itself closed."""
    results = {}
    for precision in ("fp32", "bf16"):
        cfg, data, model, loss_fn, device = setup(f"train.precision={precision}")
        torch.manual_seed(1)
        trainer = Trainer(cfg, data, model, loss_fn, device)
        before = -evaluate_split(model, loss_fn, data, trainer.held_out_x, cfg).elbo_nats
        trainer.train_epoch()
        trainer.train_epoch()
        after = -evaluate_split(model, loss_fn, data, trainer.held_out_x, cfg).elbo_nats
        results[precision] = (before, after)
    (b32, a32), (b16, a16) = results["fp32"], results["bf16"]
    assert b32 == b16  # same initial weights, evaluated in fp32
    assert a32 < b32 - 5  # training did something measurable
    assert abs(a16 - a32) < 0.05 * (b32 - a32)
