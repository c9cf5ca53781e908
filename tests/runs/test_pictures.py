"""The report's pictures kept in a run's pictures/: the same as those drawn from the model, found
only while what they were drawn from is unchanged, and drawn again from the model otherwise."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from vaebalance.config import build_config
from vaebalance.models.imaging import prior_samples
from vaebalance.report import write_report
from vaebalance.runs import METRICS, MODEL, PICTURES_DIR, RunDir, load_run, train
from vaebalance.runs.pictures import (
    MODEL_PICTURES,
    SAMPLES,
    SAMPLES_SEED,
    cached_png,
    draw,
    read_cached,
    shown_examples,
    traversal_dims,
    write_cached,
)
from vaebalance.storage import read_json, read_tensors, write_json, write_tensors

TINY = [
    "model.hidden=[32]",
    "model.latent_dim=4",
    "train.epochs=2",
    "train.threads=1",
    "train.tensorboard=false",
    "eval.iw_samples=0",
]
IMAGES = re.compile(r'src="data:image/png;base64,([^"]+)"')


@pytest.fixture
def run_path(tmp_path):
    return train(build_config(None, TINY), tmp_path / "run")[0]


def dims_of(path) -> list[int]:
    metrics = RunDir(path).metrics()
    return traversal_dims([float(v) for v in metrics.kl_per_dim], 4)


def drawn_from_the_model(path):
    run = load_run(path)
    dims = dims_of(path)
    return draw(run, shown_examples(run.dataset()), dims)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def test_training_keeps_the_pictures_a_report_would_draw_from_the_model(run_path):
    kept = read_cached(run_path, dims_of(run_path))
    assert kept is not None and kept.reconstructions is not None
    assert kept == drawn_from_the_model(run_path)
    assert sorted(p.name.split("-")[0] for p in (run_path / PICTURES_DIR).iterdir()) == sorted(
        MODEL_PICTURES
    )


def test_the_samples_kept_show_the_decoder_means_at_prior_draws(run_path):
    """An independent reading of one kept picture: its pixels are the decoder's means at the
    seeded prior draws, tiled 8 to a row with 1-pixel white gaps and enlarged."""
    run = load_run(run_path)
    means = prior_samples(run.model, run.loss_fn.likelihood, SAMPLES, SAMPLES_SEED)
    image = pixels(read_cached(run_path, dims_of(run_path)).samples)
    c, h, w = means.shape[1:]
    scale = image.shape[1] // (8 * (w + 1) + 1)
    for i in (0, 9, SAMPLES - 1):
        row, col = divmod(i, 8)
        top, left = (1 + row * (h + 1)) * scale, (1 + col * (w + 1)) * scale
        tile = image[top : top + h * scale : scale, left : left + w * scale : scale]
        expected = (means[i, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        assert np.array_equal(tile, expected), i


def test_a_report_from_kept_pictures_is_the_report_drawn_from_the_model(run_path):
    from_kept = write_report(run_path).read_text()
    for png in (run_path / PICTURES_DIR).glob("*.png"):
        png.unlink()  # as a run written before pictures were kept
    drawn = write_report(run_path).read_text()
    assert drawn == from_kept
    assert len(IMAGES.findall(drawn)) == 5  # curves, reconstructions, samples, traversals, KL
    # ... and that report kept them for the next one.
    assert read_cached(run_path, dims_of(run_path)) == drawn_from_the_model(run_path)


def test_new_weights_are_drawn_again_and_the_old_pictures_go(run_path):
    dims = dims_of(run_path)
    before = read_cached(run_path, dims)
    tensors = read_tensors(run_path / MODEL)
    write_tensors(run_path / MODEL, {k: v * 0.5 if v.is_floating_point() else v
                                     for k, v in tensors.items()})  # fmt: skip
    assert read_cached(run_path, dims) is None  # stale: not shown
    html = write_report(run_path).read_text()
    after = read_cached(run_path, dims)
    assert after == drawn_from_the_model(run_path) and after.samples != before.samples
    assert set(IMAGES.findall(html)) >= {_b64(after.samples), _b64(after.traversals)}
    assert len(list((run_path / PICTURES_DIR).glob("samples-*.png"))) == 1


def test_other_dims_after_an_evaluation_are_drawn_again(run_path):
    dims = dims_of(run_path)
    raw = read_json(run_path / METRICS)
    raw["kl_per_dim"] = list(reversed(range(4)))  # the most used dims are now 0, 1, 2, 3
    write_json(run_path / METRICS, raw)
    assert dims_of(run_path) == [0, 1, 2, 3]
    if dims != [0, 1, 2, 3]:
        assert read_cached(run_path, [0, 1, 2, 3]) is None
    write_report(run_path)
    assert read_cached(run_path, [0, 1, 2, 3]) == drawn_from_the_model(run_path)


def test_an_incomplete_set_is_not_shown(run_path):
    dims = dims_of(run_path)
    next((run_path / PICTURES_DIR).glob("reconstructions-*.png")).unlink()
    assert read_cached(run_path, dims) is None
    write_report(run_path)
    assert read_cached(run_path, dims) == drawn_from_the_model(run_path)


def test_pictures_without_reconstructions_are_not_kept(run_path, tmp_path):
    run = load_run(run_path)
    dims = dims_of(run_path)
    for png in (run_path / PICTURES_DIR).glob("*.png"):
        png.unlink()
    drawn = draw(run, None, dims)
    assert drawn.base == "z = 0" and drawn.reconstructions is None
    assert not write_cached(run_path, dims, drawn)
    assert read_cached(run_path, dims) is None


def test_a_chart_is_drawn_once_per_inputs_and_the_old_one_removed(tmp_path):
    calls = []

    def drawer(tag: bytes):
        def draw_png() -> bytes:
            calls.append(tag)
            return tag

        return draw_png

    assert cached_png(tmp_path, "curves", [1, 2], drawer(b"a")) == b"a"
    assert cached_png(tmp_path, "curves", [1, 2], drawer(b"b")) == b"a"  # read back
    assert cached_png(tmp_path, "curves", [1, 3], drawer(b"c")) == b"c"  # other inputs
    assert calls == [b"a", b"c"]
    assert [p.read_bytes() for p in (tmp_path / PICTURES_DIR).iterdir()] == [b"c"]


def _b64(png: bytes) -> str:
    import base64

    return base64.b64encode(png).decode("ascii")
