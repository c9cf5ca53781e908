"""The pictures a run's report shows, kept as PNG files in the run's ``pictures/`` folder.

A report of a finished run needs neither the model nor torch: the reconstructions, prior
samples and latent traversals are drawn once, at the end of training (:func:`cache_pictures`)
or by the first report that finds none, and read back from then on; so are the report's
charts (:func:`cached_png`), drawn by the first report.

Each file is named for what it was drawn from: ``<picture>-<key>.png``, the key a SHA-256 of
everything the picture depends on (for the model's pictures: the bytes of the weights, of the
config and of the standardization, the data the run names, the dims shown, how they are drawn,
and the version of vaebalance). A picture whose inputs changed — weights resumed, metrics
re-evaluated so that other dims are shown, an upgrade — is looked for under another name, not
found, and drawn again; nothing stale is ever shown. Files are written atomically, the
reconstructions last, and a set counts only when all its files are there.

Importing this module imports no torch; :func:`draw` and :func:`cache_pictures` do.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .._version import __version__
from ..errors import UserError
from ..storage import atomic_write
from .layout import CONFIG, MODEL, PICTURES_DIR, RUN, STANDARDIZATION, RunDir

if TYPE_CHECKING:
    from ..data import Dataset
    from .load import Run

RECONSTRUCTED = 12  # test examples shown with their reconstructions
SAMPLES, SAMPLES_SEED = 32, 0  # prior samples shown, and the seed they are drawn with
TRAVERSAL_VALUES = (-3.0, -2.25, -1.5, -0.75, 0.0, 0.75, 1.5, 2.25, 3.0)  # z_j in prior stds
TRAVERSAL_DIMS = 6
# The model's pictures, in the order they are written: a set is complete once the last is.
MODEL_PICTURES = ("samples", "traversals", "reconstructions")
log = logging.getLogger("vaebalance")


@dataclass(frozen=True)
class RunPictures:
    """A run's model pictures as PNG bytes; ``reconstructions`` is None where the run's test
    examples could not be loaded (the traversals then start from z = 0)."""

    samples: bytes
    traversals: bytes
    reconstructions: bytes | None

    @property
    def base(self) -> str:
        """The code the traversals start from, in words."""
        return "μ of the first test example" if self.reconstructions else "z = 0"


def is_image_shape(shape) -> bool:
    """(C, H, W) with one or three channels; anything else (tables, (D,)) has no picture."""
    return len(shape) == 3 and shape[0] in (1, 3)


def top_dims(kl_per_dim: list[float], k: int = TRAVERSAL_DIMS) -> list[int]:
    """The k dims with the largest KL (ties to the lower index): the ones the code uses most."""
    order = sorted(range(len(kl_per_dim)), key=lambda j: (-kl_per_dim[j], j))
    return order[:k]


def traversal_dims(kl_per_dim: list[float], latent_dim: int) -> list[int]:
    """The dims the traversals show: the most used, or the first ones where no KL is known."""
    return top_dims(kl_per_dim) if kl_per_dim else list(range(min(TRAVERSAL_DIMS, latent_dim)))


# ---------------------------------------------------------------- keys and files (no torch)


KEY_CHARS = 20  # hex digits of the SHA-256 in a picture's file name


def _digest(material: object) -> str:
    text = json.dumps(material, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_CHARS]


def _file_digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _model_inputs(run: RunDir) -> dict:
    """What the model's pictures depend on, as hashable data (read from the run's files)."""
    info = run.info()
    return {
        "version": __version__,
        "weights": _file_digest(run / MODEL),
        "config": _file_digest(run / CONFIG),
        "standardization": _file_digest(run / STANDARDIZATION),
        "data": info.get("dataset") if isinstance(info, dict) else None,
        "drawn": [RECONSTRUCTED, SAMPLES, SAMPLES_SEED, TRAVERSAL_VALUES],
    }


def _path(run: RunDir, name: str, key: str) -> Path:
    return run / PICTURES_DIR / f"{name}-{key}.png"


def _model_paths(run: RunDir, dims: list[int]) -> dict[str, Path]:
    inputs = _model_inputs(run)
    return {name: _path(run, name, _digest([name, inputs, dims])) for name in MODEL_PICTURES}


def _store(path: Path, png: bytes) -> None:
    """Write one picture and remove the older pictures of its name (drawn from other inputs)."""
    path.parent.mkdir(exist_ok=True)
    atomic_write(path, png)
    name = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{name}-{'[0-9a-f]' * KEY_CHARS}.png"):
        if old != path:
            old.unlink(missing_ok=True)


def read_cached(path: str | Path, dims: list[int]) -> RunPictures | None:
    """The model's pictures of the run in ``path`` showing ``dims``, drawn from its present
    weights, config and data; None when they are not all there (never drawn, or stale)."""
    paths = _model_paths(RunDir(path), dims)
    if not all(p.is_file() for p in paths.values()):
        return None
    try:
        return RunPictures(*(paths[name].read_bytes() for name in MODEL_PICTURES))
    except OSError:  # removed since: draw them
        return None


def write_cached(path: str | Path, dims: list[int], pictures: RunPictures) -> bool:
    """Keep a complete set of pictures (one with reconstructions) for :func:`read_cached`;
    returns whether they were written. A failure to write is logged (debug), never raised:
    the cache only saves time."""
    if pictures.reconstructions is None:
        return False  # an incomplete set would show what a report drawing afresh may not
    run = RunDir(path)
    try:
        paths = _model_paths(run, dims)
        for name in MODEL_PICTURES:
            _store(paths[name], getattr(pictures, name))
    except (UserError, OSError) as e:
        # Debug only: a directory that cannot be written fails the report.html after it with
        # its own one-line error, and the user's stderr holds that line alone.
        log.debug("pictures of %s not kept: %s", path, " ".join(str(e).split()))
        return False
    return True


def cached_png(path: str | Path, name: str, inputs: object, draw: Callable[[], bytes]) -> bytes:
    """The picture ``name`` of the run in ``path`` drawn from ``inputs`` (JSON-able data that
    decide it): read back when it was drawn before from the same inputs, else drawn by
    ``draw()`` and kept (a failure to keep it is logged at debug level)."""
    run = RunDir(path)
    target = _path(run, name, _digest([name, __version__, inputs]))
    try:
        return target.read_bytes()
    except OSError:
        pass
    png = draw()
    try:
        _store(target, png)
    except (UserError, OSError) as e:
        log.debug("%s of %s not kept: %s", name, path, " ".join(str(e).split()))
    return png


def file_digest(path: str | Path, name: str) -> str | None:
    """The SHA-256 of one file of a run (e.g. ``history.csv``), for a picture drawn from it."""
    return _file_digest(RunDir(path) / name)


# ---------------------------------------------------------------- drawing (torch)


def draw(run: Run, x, dims: list[int]) -> RunPictures:
    """The model's pictures of a loaded run: ``x`` the test examples shown (as the model sees
    them), or None where they could not be loaded."""
    import torch

    from ..models.pictures import reconstruction_png, samples_png, traversal_png

    model, likelihood = run.model, run.loss_fn.likelihood
    invert = run.standardization.invert if run.standardization is not None else None
    with torch.no_grad():
        base = model.encode(x[:1])[0][0] if x is not None else torch.zeros(model.latent_dim)
    return RunPictures(
        samples=samples_png(model, likelihood, SAMPLES, SAMPLES_SEED, invert),
        traversals=traversal_png(model, likelihood, base, dims, TRAVERSAL_VALUES, invert),
        reconstructions=(
            reconstruction_png(model, likelihood, x, invert) if x is not None else None
        ),
    )


def shown_examples(data: Dataset):
    """The test examples the pictures show, as the model sees them."""
    return data.to_float(data.test[:RECONSTRUCTED])


def cache_pictures(path: str | Path, data: Dataset | None = None) -> bool:
    """Draw the model's pictures of the finished run in ``path`` from its saved weights, as a
    report would, and keep them; ``data``: its dataset, already loaded (else read from where
    the run found it). Returns whether they were kept; a failure is logged, never raised,
    since the run itself is complete and saved."""
    from .load import load_run

    run = RunDir(path)
    try:
        shape = ((run.info().get("dataset") or {}).get("shape")) or []
        if not (is_image_shape(shape) and (run / MODEL).is_file() and (run / RUN).is_file()):
            return False
        loaded = load_run(path)
        kl = [float(v) for v in loaded.metrics.kl_per_dim or []]
        dims = traversal_dims(kl, loaded.model.latent_dim)
        x = shown_examples(data if data is not None else loaded.dataset())
        return write_cached(path, dims, draw(loaded, x, dims))
    except Exception as e:  # the pictures only save a later report time
        log.warning("pictures of %s not drawn: %s: %s", path, type(e).__name__, e)
        return False
