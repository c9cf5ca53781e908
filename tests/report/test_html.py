"""report.html of runs: every section, nothing injectable, and graceful without pictures."""

import shutil

import numpy as np
import pytest

from vaebalance.config import build_config
from vaebalance.report import write_report
from vaebalance.runs import train

TINY = [
    "model.hidden=[32]",
    "model.latent_dim=4",
    "train.epochs=2",
    "train.threads=1",
    "train.tensorboard=false",
    "eval.iw_samples=0",
]
NASTY = "x<script>alert(1)</script>"
RUN_SECTIONS = (
    "summary",
    "diagnosis",
    "metrics",
    "curves",
    "reconstructions",
    "samples",
    "traversals",
    "kl-per-dim",
    "config",
)


def tiny_run(path, *extra):
    return train(build_config(None, [*TINY, *extra]), path)[0]


@pytest.fixture(scope="module")
def digits_report(tmp_path_factory):
    # The name holds markup: '/' cannot be in a file name, so it spans two directories.
    path = tiny_run(tmp_path_factory.mktemp("runs") / NASTY)
    return path, write_report(path).read_text()


def test_a_run_report_has_every_section_and_inline_pictures(digits_report):
    _, html = digits_report
    for section in RUN_SECTIONS:
        assert f'id="{section}"' in html, section
    # curves, reconstructions, samples, traversals, KL bars: all inline, nothing fetched.
    assert html.count('src="data:image/png;base64,') == 5
    assert "nats/example" in html and 'class="verdict' in html
    for remote in ("http://", "https://", "<link", "@import", "url("):
        assert remote not in html


def test_names_and_config_strings_are_text_not_markup(digits_report):
    _, html = digits_report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


def test_tabular_data_gets_a_note_instead_of_pictures(tmp_path):
    table = tmp_path / "table.npy"
    np.save(table, np.random.default_rng(0).random((200, 6), dtype=np.float32))
    html = write_report(tiny_run(tmp_path / "run", f"data.name={table}")).read_text()
    assert "are not images (shape (6))" in html
    assert 'id="reconstructions"' not in html and 'id="curves"' in html


def test_a_moved_dataset_still_gives_a_report_and_says_so(tmp_path):
    images = tmp_path / "images.npy"
    np.save(images, np.random.default_rng(0).random((200, 1, 8, 8), dtype=np.float32))
    path = tiny_run(tmp_path / "run", f"data.name={images}")
    shutil.move(images, tmp_path / "elsewhere.npy")
    # The pictures kept at the end of training still show the reconstructions ...
    kept = write_report(path).read_text()
    assert 'id="reconstructions"' in kept and "μ of the first test example" in kept
    # ... and a run without them (one written before they were kept) says why there are none.
    shutil.rmtree(path / "pictures")
    html = write_report(path).read_text()
    assert "Reconstructions are skipped" in html and "no longer where the run found it" in html
    assert 'id="samples"' in html and 'id="traversals"' in html and "from z = 0" in html
