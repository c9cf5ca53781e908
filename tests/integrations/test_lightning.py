"""The Lightning integration: a tiny VAE really trains, GECO meets its target as in vaebalance's
own trainer, the terms are logged with units, and Lightning's checkpoints restore the
balancer's state bit for bit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

pytest.importorskip("lightning")
import lightning as L  # noqa: E402

from vaebalance import ELBOLoss  # noqa: E402
from vaebalance.balancers import GECO, Warmup, chain  # noqa: E402
from vaebalance.integrations.lightning import ActiveUnits, VAEModule, split_posterior  # noqa: E402

README = Path(__file__).parents[2] / "README.md"
# Lightning's advice for production runs (more dataloader workers, a logger) is not a failure.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers.*"),
    pytest.mark.filterwarnings("ignore:.*log_every_n_steps.*"),
    pytest.mark.filterwarnings("ignore:.*GPU available but not used.*"),
    pytest.mark.filterwarnings("ignore:.*but have no `val_dataloader`.*"),
    # Lightning 2.6 on torch 2.13: its pytree use trips torch's deprecation of LeafSpec.
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*:FutureWarning"),
]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # faster for these tiny models, and kind to shared cores
    yield
    torch.set_num_threads(threads)


def digits() -> torch.Tensor:
    from sklearn.datasets import load_digits

    return torch.tensor(load_digits().data / 16.0, dtype=torch.float32)


def tiny(loss_fn, j=4):
    encoder = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2 * j))
    decoder = nn.Sequential(nn.Linear(j, 32), nn.ReLU(), nn.Linear(32, 64))
    return VAEModule(encoder, decoder, loss_fn, lr=2e-3)


def trainer(**kwargs):
    defaults = dict(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
                    enable_model_summary=False, enable_checkpointing=False)  # fmt: skip
    return L.Trainer(**{**defaults, **kwargs})


def loader(x, shuffle=True):
    return DataLoader(TensorDataset(x), batch_size=64, shuffle=shuffle)


def readme_snippet() -> str:
    match = re.search(
        r"<!-- readme-snippet: lightning -->\n```python\n(.*?)```", README.read_text(), re.S
    )
    assert match, "the README's Lightning snippet is missing"
    return match.group(1)


@pytest.mark.slow
def test_readme_example_meets_the_geco_target_on_digits(capsys):
    scope: dict = {}
    exec(compile(readme_snippet(), "README.md", "exec"), scope)
    module, fitted = scope["module"], scope["trainer"]
    report = module.loss_fn.balancer.report()
    assert report["mse_ma"] == pytest.approx(0.02, rel=0.05)  # GECO's target, ±5%
    assert module.loss_fn.balancer.status().met is True and report["at_clamp_steps"] == 0
    assert 0 < report["beta"] < 1  # a plain VAE sits at MSE ≈ 0.036 here: β had to drop
    metrics = fitted.callback_metrics
    for key in ("train/rate_nats_epoch", "train/distortion_nats_epoch", "train/elbo_nats_epoch",
                "train/mse_per_element_epoch", "train/beta_epoch", "balancer/lambda",
                "active_units"):  # fmt: skip
        assert key in metrics, key
    assert 1 <= metrics["active_units"] <= 8
    rate, distortion = (
        float(metrics[f"train/{k}_epoch"]) for k in ("rate_nats", "distortion_nats")
    )
    assert float(metrics["train/elbo_nats_epoch"]) == pytest.approx(-(rate + distortion), rel=1e-5)
    assert "mse_ma" in capsys.readouterr().out


def test_training_lowers_the_loss_and_validation_leaves_the_balancer_alone():
    x = digits()[:512]
    L.seed_everything(0)
    module = tiny(ELBOLoss("bernoulli", balancer=GECO(target_mse=0.03)))
    first = trainer(max_steps=1)
    first.fit(module, loader(x))
    start = float(first.callback_metrics["train/loss_step"])
    t = trainer(max_steps=60)
    t.fit(module, loader(x))
    assert float(t.callback_metrics["train/loss_epoch"]) < start
    before = {k: v.clone() for k, v in module.loss_fn.state_dict().items()}
    t.validate(module, loader(x, shuffle=False), verbose=False)
    assert "val/rate_nats" in t.callback_metrics
    after = module.loss_fn.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_balancer_is_told_the_run_length():
    module = tiny(ELBOLoss("bernoulli", balancer=GECO(target_mse=0.03)))
    trainer(max_steps=7).fit(module, loader(digits()[:256]))
    assert module.loss_fn.balancer.context.total_steps == 7
    assert module.loss_fn.balancer.context.input_dim == 64
    assert module.loss_fn.balancer.context.latent_dim == 4


def test_checkpoint_round_trip_restores_the_balancer_bit_for_bit(tmp_path):
    x = digits()[:512]

    def make():
        balancer = chain(Warmup(steps=50), GECO(target_mse=0.03))
        return tiny(ELBOLoss("gaussian-learned", balancer=balancer))

    L.seed_everything(0)
    module = make()
    t = trainer(max_steps=40)
    t.fit(module, loader(x))
    path = tmp_path / "vae.ckpt"
    t.save_checkpoint(path)
    saved = {k: v.clone() for k, v in module.loss_fn.state_dict().items()}
    geco = module.loss_fn.balancer.balancers[1]
    assert int(module.loss_fn.step) == 40 and float(geco.log_lambda) != 0.0  # state moved

    restored = make()  # fresh weights, fresh balancer state
    assert not torch.equal(restored.loss_fn.balancer.balancers[1].log_lambda, geco.log_lambda)
    trainer(max_steps=40).fit(restored, loader(x), ckpt_path=path)
    state = restored.loss_fn.state_dict()
    assert set(state) == set(saved)
    for key, value in saved.items():
        assert torch.equal(state[key], value), key  # bit for bit, learned σ included
    for a, b in zip(module.parameters(), restored.parameters()):
        assert torch.equal(a, b)

    # and training goes on from there: the step counts on, the schedule continues
    trainer(max_steps=45).fit(restored, loader(x), ckpt_path=path)
    assert int(restored.loss_fn.step) == 45


def test_split_posterior():
    mu, lv = torch.zeros(3, 2), torch.ones(3, 2)
    assert split_posterior((mu, lv))[1] is lv
    a, b = split_posterior(torch.cat([mu, lv], 1))
    assert torch.equal(a, mu) and torch.equal(b, lv)
    with pytest.raises(ValueError, match="must return"):
        split_posterior(torch.zeros(3, 5))


def test_active_units_callback_counts_what_evaluation_counts():
    from vaebalance.evaluation import active_units

    x = digits()[:300]
    module = tiny(ELBOLoss("bernoulli"))
    callback = ActiveUnits(x)
    trainer(max_steps=10, callbacks=[callback]).fit(module, loader(x))
    module.eval()
    with torch.no_grad():
        expected, _ = active_units(module.encode(x)[0])
    assert callback.history[-1] == expected
