"""report.html in a real browser: headless Chromium, kept off the network, opens the files
`train` and `sweep` wrote, and must find every section, inline images, a page that is not
blank, and a run name full of markup shown as text."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaebalance.cli import main

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]
# Everything that would make Chromium reach out: updates, sync, field trials, first-run pages.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TINY = [
    "--set",
    "model.hidden=[32]",
    "--latent-dim",
    "4",
    "--steps",
    "40",
    "--iw-samples",
    "0",
    "--set",
    "train.tensorboard=false",
    "--threads",
    "1",
    "--quiet",
]
NASTY = "r<script>alert(1)</script>"
RUN_SECTIONS = [
    "summary",
    "diagnosis",
    "metrics",
    "curves",
    "reconstructions",
    "samples",
    "traversals",
    "kl-per-dim",
    "config",
]
SWEEP_SECTIONS = ["recommendation", "rate-distortion", "versus", "comparison", "sweep-config"]


def chromium(profile: Path, *args: str) -> str:
    result = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    run = root / NASTY  # '/' cannot be in a name: the markup spans two directories
    main(["train", *TINY, "--out", str(run)])
    sweep = root / "sweep"
    main(["sweep", *TINY, "--workers", "1", "--grid", "balancer.beta=0.3,3", "--out", str(sweep)])
    return run / "report.html", sweep / "report.html"


def test_the_run_report_renders_every_section_and_no_injected_script(reports, tmp_path):
    dom = chromium(tmp_path / "profile", "--dump-dom", reports[0].as_uri())
    for section in RUN_SECTIONS:
        assert f'id="{section}"' in dom, section
    assert (
        dom.count('<img src="data:image/png;base64,')
        + dom.count('<img class="pixels" src="data:image/png;base64,')
        == 5
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom


def test_the_sweep_report_renders_its_plots_and_table(reports, tmp_path):
    dom = chromium(tmp_path / "profile", "--dump-dom", reports[1].as_uri())
    for section in SWEEP_SECTIONS:
        assert f'id="{section}"' in dom, section
    assert dom.count('<img src="data:image/png;base64,') == 2
    assert "beta-0.3" in dom and "beta-3" in dom and "Recommended run" in dom


def test_the_screenshot_is_a_page_not_a_blank(reports, tmp_path):
    shot = tmp_path / "report.png"
    chromium(
        tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000", reports[0].as_uri()
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    pixels = np.asarray(image, dtype=np.float64)
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 100  # text, plots, pictures
    assert pixels.std() > 20
