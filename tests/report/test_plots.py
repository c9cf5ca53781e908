"""The charts render for the shapes sweeps really have: numbers, names, nothing finished."""

from vaebalance.report.plots import kl_bars, rate_distortion, sweep_axis, training_curves, versus

PNG = b"\x89PNG\r\n\x1a\n"


def row(run, rate, distortion, status="finished", **values):
    return {
        "run": run,
        "status": status,
        "rate_nats": rate,
        "distortion_nats": distortion,
        **values,
    }


def test_the_beta_like_field_is_the_x_axis():
    assert sweep_axis(["train.seed", "balancer.beta"]) == "balancer.beta"
    assert sweep_axis(["model.latent_dim", "train.seed"]) == "model.latent_dim"


def test_rate_distortion_with_a_recommendation_and_with_nothing_finished():
    rows = [row(f"b{i}", r, d) for i, (r, d) in enumerate([(1, 9), (3, 4), (8, 2)])]
    assert rate_distortion(rows, "b1").startswith(PNG)
    assert rate_distortion([row("x", "", "", status="failed")]).startswith(PNG)


def test_versus_a_categorical_field_with_a_second_varied_field():
    rows = [
        row(f"{name}-{seed}", 2 + seed, 5 - seed, **{"balancer.name": name, "train.seed": seed})
        for name in ("constant", "warmup")
        for seed in (0, 1)
    ]
    assert versus(rows, ["balancer.name", "train.seed"]).startswith(PNG)


def test_curves_and_bars():
    history = [
        {
            "step": s,
            "split": split,
            "rate_nats": 1.0,
            "distortion_nats": 2.0,
            "elbo_nats": -3.0,
            "beta": 1.0,
        }
        for s in (10, 20)
        for split in ("train", "test")
    ]
    assert training_curves(history).startswith(PNG)
    assert kl_bars([0.1, 2.0, 0.5], highlight=[1]).startswith(PNG)
