"""Following diagnose's advice works: each problem finding's ``fix_args``, given to
``vaebalance train --from RUN``, parse, change the config, and the new run no longer has the
finding."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from vaebalance.cli import main
from vaebalance.config import RunConfig, build_config, derive
from vaebalance.evaluation import diagnose
from vaebalance.runs import RunDir
from vaebalance.runs import train as train_run

pytestmark = pytest.mark.slow

QUIET = ["train.threads=1", "train.tensorboard=false", "eval.iw_samples=0"]
SMALL = ["model.hidden=[64]", "model.latent_dim=8", "train.epochs=30", *QUIET]
# β = 100 squeezes the code shut (collapse); β = 0.001 lets the rate grow unchecked.
CASES = {"beta-100": ["balancer.beta=100"], "beta-0.001": ["balancer.beta=0.001"]}
# 64×64 RGB images, the conv model, the default likelihood (a learned-σ Gaussian) and β = 1:
# after 8 epochs the codes sit 1–3 nats per latent dim off the prior's moments.
CONV = ["model.arch=conv", "model.channels=[16,32,64,64]", "train.batch_size=16",
        "train.epochs=8", *QUIET]  # fmt: skip


def problems(path):
    run = RunDir(path)
    return [v for v in diagnose(run.metrics(), run.history(), run.config())
            if v.severity == "problem"]  # fmt: skip


def follow_every_fix(tmp_path: Path, overrides: list[str]) -> list[str]:
    """Train, then train again from the run with each problem's fix; the problems' codes."""
    path, _ = train_run(build_config(None, overrides), tmp_path / "before")
    found = problems(path)
    assert found, f"{overrides} was built to be off balance"
    base = RunConfig.from_dict(RunDir(path).config())
    for i, finding in enumerate(found):
        assert finding.fix_args, finding.code
        items = finding.fix_args[1::2]
        assert derive(base, list(items)) != base  # it parses and changes something
        out = tmp_path / f"after-{i}"
        try:
            main(["train", "--from", str(path), *finding.fix_args, "--out", str(out), "--quiet",
                  "--no-report"])  # fmt: skip
        except SystemExit as e:
            assert e.code in (0, None)
        assert finding.code not in [v.code for v in problems(out)]
    return [v.code for v in found]


@pytest.mark.parametrize("case", ["beta-100", "beta-0.001"])
def test_every_fix_applied_with_from_removes_its_finding(tmp_path, case):
    follow_every_fix(tmp_path, [*SMALL, *CASES[case]])


def shapes(folder: Path, n: int = 400, seed: int = 0) -> Path:
    """``n`` 64×64 RGB PNGs: one to three filled ellipses, rectangles or triangles of random
    colours, sizes and places on a background of a random colour."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for i in range(n):
        image = Image.new("RGB", (64, 64), tuple(rng.randrange(256) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(1, 3)):
            colour = tuple(rng.randrange(256) for _ in range(3))
            s = rng.randint(8, 28)
            x, y = rng.randint(0, 64 - s), rng.randint(0, 64 - s)
            kind = rng.choice(["ellipse", "rectangle", "triangle"])
            if kind == "triangle":
                draw.polygon([(x, y + s), (x + s, y + s), (x + s // 2, y)], fill=colour)
            else:
                getattr(draw, kind)([x, y, x + s, y + s], fill=colour)
        image.save(folder / f"{i:04d}.png")
    return folder


def test_the_fixes_for_64x64_rgb_images_under_the_conv_model_and_default_likelihood(tmp_path):
    data = shapes(tmp_path / "shapes")
    found = follow_every_fix(tmp_path, [f"data.name={data}", *CONV])
    assert "kl-ignored" in found
