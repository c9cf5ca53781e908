"""The charts render for the shapes sweeps really have: numbers, names, nothing finished."""

import pytest

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


def test_rate_distortion_legend_covers_no_run_and_axes_are_rate_then_distortion():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from vaebalance.report.plots import rate_distortion_figure

    rows = [
        {"run": f"beta-{b}", "status": "finished", "rate_nats": r, "distortion_nats": d}
        for b, r, d in [(0.1, 60.0, 9.0), (0.3, 40.0, 20.0), (1, 20.0, 45.0), (3, 5.0, 100.0)]
    ]
    fig = rate_distortion_figure(rows, recommended="beta-3")
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    assert "rate" in ax.get_xlabel() and "distortion" in ax.get_ylabel()
    star = ax.collections[-1].get_offsets().tolist()
    assert star == [[5.0, 100.0]]  # (rate, distortion) of the recommended run
    legend = fig.legends[0].get_window_extent(renderer)
    covered = [t.get_text() for t in ax.texts if t.get_window_extent(renderer).overlaps(legend)]
    points = ax.transData.transform([(r["rate_nats"], r["distortion_nats"]) for r in rows])
    assert covered == [] and not any(legend.contains(x, y) for x, y in points)


def test_rate_distortion_puts_rate_on_x_and_distortion_on_y():
    from vaebalance.report.plots import rate_distortion_figure

    points = {"a": (1.0, 9.0), "b": (3.0, 4.0), "c": (8.0, 2.0), "d": (6.0, 7.0)}  # d dominated
    rows = [row(name, r, d) for name, (r, d) in points.items()]
    ax = rate_distortion_figure(rows, recommended="b").axes[0]
    assert ax.get_xlabel().startswith("rate R") and ax.get_ylabel().startswith("distortion D")
    runs, star = ax.collections[0], ax.collections[1]
    assert runs.get_offsets().tolist() == list(map(list, points.values()))
    assert star.get_offsets().tolist() == [[3.0, 4.0]]
    labels = {t.get_text(): t.xy for t in ax.texts if hasattr(t, "xy")}
    assert labels == points
    (front,) = [line for line in ax.lines if line.get_label() == "empirical frontier (Pareto)"]
    assert list(front.get_xdata()) == [1.0, 3.0, 8.0]
    assert list(front.get_ydata()) == [9.0, 4.0, 2.0]
    # 12% of each range as padding: the rates span 7, the distortions 7 too but from 2.
    assert ax.get_xlim() == pytest.approx((1 - 0.84, 8 + 0.84))
    assert ax.get_ylim() == pytest.approx((2 - 0.84, 9 + 0.84))
