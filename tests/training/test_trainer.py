"""The trainer's random streams: evaluation between epochs must not touch training's."""

import math

import pytest
import torch

from vaebalance.config import build_config, resolve
from vaebalance.data import load_dataset
from vaebalance.training import Trainer, build, evaluate_split, runtime
from vaebalance.training import trainer as trainer_module

TINY = [
    "model.hidden=[16]",
    "model.latent_dim=3",
    "train.epochs=3",
    "train.threads=1",
    "train.tensorboard=false",
]


def make_trainer(*extra):
    cfg = build_config(None, [*TINY, *extra])
    device = runtime.configure(cfg.train.threads, cfg.train.seed, cfg.train.device)
    data = load_dataset(cfg.data.name, cfg.data.data_dir, cfg.data.test_fraction, cfg.train.seed)
    cfg = resolve(cfg, data)
    model, loss_fn = build(cfg, data)
    return Trainer(cfg, data, model, loss_fn, device)


def final_state(trainer):
    return {**trainer.model.state_dict(), **trainer.loss_fn.state_dict()}


def train_history(state):
    return [
        {k: v for k, v in r.items() if k not in ("seconds", "train_seconds")}
        for r in state.history
        if r["split"] == "train"
    ]


@pytest.mark.parametrize("balancer", ["constant", "control"])
def test_training_ends_the_same_with_or_without_evaluation(monkeypatch, balancer):
    """Per-epoch evaluation draws z too; with its RNG forked it changes nothing of training."""
    extra = ["balancer.name=control", "balancer.target_kl=2.0"] if balancer == "control" else []
    evaluated = make_trainer(*extra)
    evaluated.fit()

    def no_evaluation(model, loss_fn, data, x_all, cfg, parallel=None):
        return trainer_module.StepStats.of([math.nan] * 6)

    monkeypatch.setattr(trainer_module, "evaluate_split", no_evaluation)
    skipped = make_trainer(*extra)
    skipped.fit()
    a, b = final_state(evaluated), final_state(skipped)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert train_history(evaluated.state) == train_history(skipped.state)
    assert not math.isnan(evaluated.state.history[1]["loss"])  # the test row was evaluated


def test_evaluate_split_leaves_the_global_rng_where_it_was():
    trainer = make_trainer()
    before = torch.get_rng_state()
    first = evaluate_split(
        trainer.model, trainer.loss_fn, trainer.data, trainer.held_out_x, trainer.cfg
    )
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(12345)  # its own seed: the result does not depend on the caller's stream
    again = evaluate_split(
        trainer.model, trainer.loss_fn, trainer.data, trainer.held_out_x, trainer.cfg
    )
    assert first == again


def test_resume_after_a_stop_mid_epoch_with_a_stateful_balancer(tmp_path):
    """Stopped halfway through epoch 2, resumed from the epoch-1 checkpoint: the controller's
    integral, its KL average, Adam's moments and both RNGs come back, and the half epoch that
    was thrown away leaves no trace."""
    from vaebalance.runs import RunDir, resume, train
    from vaebalance.storage import read_tensors
    from vaebalance.training import Hooks

    cfg = build_config(None, [*TINY, "balancer.name=control", "balancer.target_kl=0.5",
                              "balancer.kp=0.5", "balancer.ki=0.05"])  # fmt: skip
    full, _ = train(cfg, tmp_path / "full")
    calls = []

    def stop_mid_epoch_two(batch):
        calls.append(batch)
        steps_per_epoch = RunDir(full).history()[0]["step"]
        if len(calls) == steps_per_epoch + steps_per_epoch // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "cut", Hooks(on_samples=stop_mid_epoch_two))
    cut = RunDir(tmp_path / "cut")
    assert cut.info()["status"] == "interrupted" and len(cut.history()) == 2  # epoch 1 only
    resume(cut.path)
    a, b = read_tensors(full / "model.safetensors"), read_tensors(cut.path / "model.safetensors")
    assert a.keys() == b.keys() and any("integral" in k for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    integral = [k for k in a if k.endswith("integral")][0]
    assert a[integral].item() != 0.0  # the controller did integrate

    def without_time(rows):
        return [{k: v for k, v in r.items() if k not in ("seconds", "train_seconds")} for r in rows]

    assert without_time(cut.history()) == without_time(RunDir(full).history())


@torch.no_grad()
def _codes_moment_kl(trainer, x):
    """The moment KL of ``x``'s codes, from evaluation's own function (not the trainer's sums)."""
    from vaebalance.evaluation.latent import moment_kl

    trainer.model.eval()
    mu, logvar = trainer.model.encode(trainer.data.to_float(x))
    return moment_kl(mu, logvar)


def test_the_held_out_record_holds_the_moment_kl_of_its_codes():
    trainer = make_trainer("eval.batch_size=7")  # the sums cross batch boundaries
    trainer.fit()
    held_out = [r for r in trainer.state.history if r["split"] != "train"]
    assert len(held_out) == 3 and all(r["moment_kl_nats"] > 0 for r in held_out)
    assert held_out[-1]["moment_kl_nats"] == pytest.approx(
        _codes_moment_kl(trainer, trainer.held_out_x), rel=1e-6
    )
    assert all("moment_kl_nats" not in r for r in trainer.state.history if r["split"] == "train")


def test_standardized_codes_sit_on_the_prior_s_moments_and_decode_as_before():
    plain = make_trainer()  # each built just before it trains: building seeds the global RNG
    plain.fit()
    moved = make_trainer("train.standardize_codes=true")
    moved.fit()
    assert _codes_moment_kl(plain, plain.train_x) > 0.01
    assert _codes_moment_kl(moved, moved.train_x) == pytest.approx(0, abs=1e-9)
    (last_plain, last_moved) = ([r for r in t.state.history if r["split"] != "train"][-1]
                                for t in (plain, moved))  # fmt: skip
    # the same training; the held-out distortion as before (same z paths), the rate lower
    assert last_moved["distortion_nats"] == pytest.approx(last_plain["distortion_nats"], rel=1e-4)
    assert last_moved["rate_nats"] < last_plain["rate_nats"]
    assert last_moved["moment_kl_nats"] < last_plain["moment_kl_nats"]
