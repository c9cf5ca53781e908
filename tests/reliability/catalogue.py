"""The catalogue of bad inputs: one table that both the test and ``docs/errors.md`` come from.

Each case makes its input files in an empty working directory (``setup``), runs ``command``
there, and expects exit code 2 with exactly one line on stderr: ``error: <message>``
(``{cwd}`` in a message stands for the working directory, ``{memory}`` for an amount of
memory this machine reports). ``test_error_catalogue.py`` runs
every case; ``docs/errors.md`` holds the same table, rendered by :func:`render_table`.
After changing a case or a message, regenerate the table::

    .venv/bin/python -m tests.reliability.catalogue --write
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import shutil
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"

# A finished run small enough to train in about a second (the `base` every run case copies).
TINY = [
    "model.hidden=[32]",
    "model.latent_dim=4",
    "train.epochs=1",
    "train.threads=1",
    "train.tensorboard=false",
    "eval.iw_samples=0",
]

Setup = Callable[[Path, Path], None]  # (working directory, a finished tiny digits run)


@dataclass(frozen=True)
class Case:
    id: str
    input: str  # what is wrong, in words (the docs' first column)
    command: str  # the command line, run in the working directory
    message: str  # stderr is exactly "error: " + this
    setup: Setup | None = None
    subprocess: bool = False  # run as a real process, to prove there is no traceback
    writes: bool = False  # the command may write (disk full); checked by its own test
    env: dict[str, str] | None = None  # environment variables set for the command (torchrun's)


class Evil:
    """Unpickling this runs code: it writes ``pwned`` into the file ``marker``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"with open({self.marker!r}, 'w') as f: f.write('pwned')",)


def evil_pickle(marker: Path) -> bytes:
    return pickle.dumps({"weights": Evil(str(marker))}, protocol=4)


# --- input makers -------------------------------------------------------------------------


def _write(cwd: Path, rel: str, content: bytes | str) -> Path:
    path = cwd / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def _npy(rel: str, array: np.ndarray, allow_pickle: bool = False) -> Setup:
    def make(cwd, base):
        (cwd / rel).parent.mkdir(parents=True, exist_ok=True)
        np.save(cwd / rel, array, allow_pickle=allow_pickle)

    return make


def _file(rel: str, content: bytes | str) -> Setup:
    return lambda cwd, base: _write(cwd, rel, content)


def _images(rel: str, sizes: list[tuple[int, int]], broken: bool = False) -> Setup:
    def make(cwd, base):
        from PIL import Image

        folder = cwd / rel
        folder.mkdir(parents=True)
        rng = np.random.default_rng(0)
        for i, (w, h) in enumerate(sizes):
            pixels = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
        if broken:
            (folder / "9.png").write_bytes(b"this is not a png")

    return make


def _run(rel: str = "run", edit: Callable[[Path], None] | None = None) -> Setup:
    """A copy of the finished tiny run at ``rel``, then ``edit`` applied to it."""

    def make(cwd, base):
        shutil.copytree(base, cwd / rel)
        if edit:
            edit(cwd / rel)

    return make


def _edit_json(rel: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(run):
        data = json.loads((run / rel).read_text())
        data = change(data) or data
        (run / rel).write_text(json.dumps(data))

    return edit


def _latent_5(config: dict) -> None:
    config["model"]["latent_dim"] = 5


def _standardize_on(config: dict) -> None:
    config["data"]["standardize"] = True


def _standardization_of_shape(shape: tuple[int, ...]) -> Callable[[Path], None]:
    def edit(run):
        import torch
        from safetensors.torch import save_file

        save_file({"mean": torch.zeros(shape), "std": torch.ones(shape)},
                  str(run / "standardization.safetensors"))  # fmt: skip

    return edit


def _remove(rel: str) -> Callable[[Path], None]:
    return lambda run: (run / rel).unlink()


def _replace(rel: str, content: bytes | str) -> Callable[[Path], None]:
    return lambda run: _write(run, rel, content)


def _state_file(run: Path) -> Path:
    return next((run / "checkpoint").glob("state-*.safetensors"))


def _pickle_as_state(run: Path) -> None:
    _state_file(run).write_bytes(evil_pickle(run.parent / "pwned"))


def _npy_run(cwd: Path, base: Path) -> None:
    """A run trained on data/x.npy, whose file is then deleted."""
    from vaebalance.config import build_config
    from vaebalance.runs import train

    rng = np.random.default_rng(0)
    (cwd / "data").mkdir()
    np.save(cwd / "data/x.npy", rng.random((100, 6)).astype(np.float32))
    train(build_config(None, [*TINY, f"data.name={cwd / 'data/x.npy'}"]), cwd / "run-npy")
    (cwd / "data/x.npy").unlink()


def _all(*setups: Setup) -> Setup:
    def make(cwd, base):
        for setup in setups:
            setup(cwd, base)

    return make


_rng = np.random.default_rng(0)
_nan = _rng.random((100, 5)).astype(np.float32)
_nan[3, 2] = np.nan
_npz_buf = {"a": np.zeros((10, 3)), "b": np.ones((10, 3))}


def _npz(rel: str) -> Setup:
    def make(cwd, base):
        (cwd / rel).parent.mkdir(parents=True, exist_ok=True)
        np.savez(cwd / rel, **_npz_buf)

    return make


def _truncated_npy(cwd: Path, base: Path) -> None:
    np.save(cwd / "full.npy", np.zeros((100, 8), dtype=np.float32))
    raw = (cwd / "full.npy").read_bytes()
    (cwd / "full.npy").unlink()
    _write(cwd, "data/truncated.npy", raw[: len(raw) // 2])


def _npy_header(descr: str, shape: tuple) -> bytes:
    """An .npy header (numpy's own writer) claiming ``shape``, with no data after it."""
    from numpy.lib import format as npformat

    buffer = io.BytesIO()
    npformat.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def _zip(
    rel: str,
    members: dict[str, bytes],
    method: int = zipfile.ZIP_STORED,
    declared: int | None = None,
) -> Setup:
    """An archive of ``members``; ``declared`` overwrites every member's stated size."""

    def make(cwd, base):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in members.items():
                archive.writestr(name, content, compress_type=method)
        data = bytearray(buffer.getvalue())
        if declared is not None:  # local header at 22, central directory entry at 24
            for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
                at = data.find(signature) + offset
                data[at : at + 4] = struct.pack("<I", declared)
        _write(cwd, rel, bytes(data))

    return make


_small_npy = _npy_header("|u1", (3, 4)) + bytes(12)


def _nested_npz() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.npy", _small_npy)
    return buffer.getvalue()


def _idx_bomb(cwd: Path, base: Path) -> None:
    """Four MNIST files whose training images claim 100000 x 100 x 100 from a tiny gzip."""
    folder = cwd / "data/idx"
    folder.mkdir(parents=True)
    labels = struct.pack(">BBBBI", 0, 0, 8, 1, 2) + bytes(2)
    images = struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 3, 3) + bytes(18)
    lie = struct.pack(">BBBBIII", 0, 0, 8, 3, 100_000, 100, 100) + bytes(1000)
    for stem, content in (
        ("train-images-idx3-ubyte", lie),
        ("train-labels-idx1-ubyte", labels),
        ("t10k-images-idx3-ubyte", images),
        ("t10k-labels-idx1-ubyte", labels),
    ):
        (folder / f"{stem}.gz").write_bytes(gzip.compress(content, mtime=0))


def _png(width: int, height: int, pixels: bytes) -> bytes:
    """A PNG from its chunks (RFC 2083), claiming any size."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(pixels, 9))
        + chunk(b"IEND", b"")
    )


VALID_KEYS = (
    "data.name, data.data_dir, data.test_fraction, data.val_fraction, data.standardize, data.size, data.examples, "
    "data.factors, model.arch, model.latent_dim, model.hidden, model.channels, model.decoder, "
    "likelihood.name, balancer.name, balancer.beta, "
    "balancer.beta_norm, balancer.mean_weight, train.epochs, train.steps, train.batch_size, "
    "train.lr, train.betas, train.weight_decay, train.seed, train.threads, train.precision, "
    "train.device, train.max_bad_steps, train.tensorboard, train.standardize_codes, eval.iw_samples, "
    "eval.batch_size, "
    "eval.factor_metrics, eval.intervention_batches"
)
BALANCERS = "capacity, constant, control, cyclical, dynamic, free-bits, geco, warmup"
CONTROL_PARAMS = (
    "target_kl, form, kp, ki, speedup, beta_min, beta_max, alpha, target_start, target_steps, "
    "target_step, "
    "target_every, tolerance"
)
GECO_PARAMS = "target_mse, alpha, lr, speedup, lambda_init, lambda_min, lambda_max, tolerance"
ARRAY_SHAPES = (
    "[N, D] tabular, [N, H, W] grayscale, [N, H, W, C] or [N, C, H, W] images with C in 1, 3"
)
FILE_TYPES = "a .npy, .npz or .csv file, or a folder of PNG/JPEG images"
REAL_LIKELIHOODS = "gaussian, gaussian-learned, gaussian-optimal, gaussian-perpixel, laplace"

# fmt: off
CASES = [
    # --- data ---------------------------------------------------------------------------
    Case("data-missing-path", "a data path that does not exist",
         "vaebalance train --data data/missing.npy",
         "no such file or directory: data/missing.npy", subprocess=True),
    Case("data-unknown-name", "a misspelled dataset name",
         "vaebalance train --data digts",
         f"unknown dataset 'digts' (did you mean 'digits'?); valid names: cifar10, digits, "
         f"fashion-mnist, mnist, sprites, or a path to {FILE_TYPES}"),
    Case("data-empty-folder", "an empty folder",
         "vaebalance train --data data/empty",
         "data/empty holds no .png, .jpg or .jpeg files",
         setup=lambda cwd, base: (cwd / "data/empty").mkdir(parents=True)),
    Case("data-unreadable-image", "a folder with a file that is not an image",
         "vaebalance train --data data/images",
         "cannot read image data/images/9.png: cannot identify image file 'data/images/9.png'",
         setup=_images("data/images", [(8, 8)] * 4, broken=True)),
    Case("data-image-sizes-differ", "images of different sizes in one folder",
         "vaebalance train --data data/images",
         "images differ in size: data/images/0.png is 8x8 but data/images/2.png is 10x8; "
         "resize them to one size",
         setup=_images("data/images", [(8, 8), (8, 8), (10, 8)])),
    Case("data-single-image", "one image file instead of its folder",
         "vaebalance train --data data/images/0.png",
         f"cannot load data/images/0.png: '.png' files are not supported (for images, give "
         f"their folder); use {FILE_TYPES}",
         setup=_images("data/images", [(8, 8)] * 2)),
    Case("data-wrong-rank", "an array of rank 1",
         "vaebalance train --data data/rank1.npy",
         f"data/rank1.npy holds an array of shape (100,); accepted: {ARRAY_SHAPES}",
         setup=_npy("data/rank1.npy", np.zeros(100, dtype=np.float32))),
    Case("data-wrong-channels", "images with 5 channels",
         "vaebalance train --data data/chan5.npy",
         f"data/chan5.npy holds an array of shape (20, 5, 8, 8), with neither 1 nor 3 channels "
         f"in axis 1 or 3; accepted: {ARRAY_SHAPES}",
         setup=_npy("data/chan5.npy", np.zeros((20, 5, 8, 8), dtype=np.float32))),
    Case("data-nan", "NaN in the data",
         "vaebalance train --data data/nan.npy",
         "data/nan.npy has 1 NaN and 0 infinite values, the first at index (3, 2)",
         setup=_npy("data/nan.npy", _nan)),
    Case("data-inf-csv", "an infinite value in a CSV",
         "vaebalance train --data data/inf.csv",
         "data/inf.csv line 3, column 1 ('a'): 'inf' is not finite (1 non-finite values in all)",
         setup=_file("data/inf.csv", "a,b\n1,2\ninf,4\n5,6\n")),
    Case("data-out-of-range", "values outside [0, 1] for a likelihood that needs [0, 1]",
         "vaebalance train --data data/range.npy --likelihood bernoulli",
         f"data/range.npy has values in [0, 3], outside [0, 1]: the bernoulli likelihood needs "
         f"data in [0, 1] (as do all of bernoulli, continuous-bernoulli); for real values use "
         f"{REAL_LIKELIHOODS}",
         setup=_npy("data/range.npy", np.linspace(0, 3, 60, dtype=np.float32).reshape(20, 3))),
    Case("data-csv-out-of-range", "a CSV of real values for continuous-bernoulli",
         "vaebalance train --data data/real.csv --likelihood continuous-bernoulli",
         f"data/real.csv has values in [-2.5, 4], outside [0, 1]: the continuous-bernoulli "
         f"likelihood needs data in [0, 1] (as do all of bernoulli, continuous-bernoulli); for "
         f"real values use {REAL_LIKELIHOODS}",
         setup=_file("data/real.csv", "a,b\n" + "0,1\n" * 20 + "-2.5,1\n3,0.5\n4,2\n")),
    Case("data-complex-dtype", "an array of complex numbers",
         "vaebalance train --data data/complex.npy",
         "data/complex.npy holds complex64 values; expected uint8, bool, int or float",
         setup=_npy("data/complex.npy", np.ones((20, 4), dtype=np.complex64))),
    Case("data-object-array", "an .npy of Python objects (a pickle inside)",
         "vaebalance train --data data/objects.npy",
         "data/objects.npy holds Python objects (an object array), which are not loaded for "
         "safety; save plain numeric arrays instead",
         setup=_npy("data/objects.npy", np.array([{"a": 1}] * 5, dtype=object), True)),
    Case("data-pickle-as-npy", "a pickle renamed to .npy",
         "vaebalance train --data data/pickle.npy",
         "data/pickle.npy is not a valid .npy/.npz file: it starts with "
         "b'\\x80\\x04\\x95W\\x00\\x00'",
         setup=lambda cwd, base: _write(cwd, "data/pickle.npy", evil_pickle(Path("pwned")))),
    Case("data-truncated-npy", "a truncated .npy file",
         "vaebalance train --data data/truncated.npy",
         "data/truncated.npy is truncated or lies about its size: its header claims a (100, 8) "
         "float32 array, 3200 bytes of data, but it holds 1536 bytes",
         setup=_truncated_npy),
    Case("data-npz-ambiguous", "an .npz with several arrays, none named x",
         "vaebalance train --data data/pair.npz",
         "data/pair.npz holds arrays a, b; name the examples one of x, data, images, arr_0 (and "
         "the labels y), or store only one array",
         setup=_npz("data/pair.npz")),
    Case("data-csv-text", "a non-numeric CSV cell",
         "vaebalance train --data data/text.csv",
         "data/text.csv line 3, column 2 ('b'): 'x' is not a number",
         setup=_file("data/text.csv", "a,b\n1,2\n3,x\n")),
    Case("data-csv-ragged", "a CSV row with a missing value",
         "vaebalance train --data data/ragged.csv",
         "data/ragged.csv line 3 has 1 values, expected 2 columns",
         setup=_file("data/ragged.csv", "a,b\n1,2\n3\n")),
    Case("data-csv-header-only", "a CSV with a header and no rows",
         "vaebalance train --data data/header.csv",
         "data/header.csv holds only a header row and no data",
         setup=_file("data/header.csv", "a,b,c\n")),
    Case("data-unsupported-suffix", "a torch .pt file as data",
         "vaebalance train --data data/weights.pt",
         f"cannot load data/weights.pt: '.pt' files are not supported; use {FILE_TYPES}",
         setup=lambda cwd, base: _write(cwd, "data/weights.pt", evil_pickle(cwd / "pwned"))),
    Case("data-too-few-test", "too few examples for a test split of 2",
         "vaebalance train --data data/eleven.npy",
         "the test split of data/eleven.npy has 1 example(s) of 11; evaluation needs at least 2: "
         "use more data or a larger data.test_fraction",
         setup=_npy("data/eleven.npy", np.full((11, 4), 0.5, dtype=np.float32))),
    Case("data-val-fraction", "a validation share of the whole training split",
         "vaebalance train --set data.val_fraction=1",
         "data.val_fraction must be in [0, 1)"),
    Case("data-empty-split", "a dataset too small to split",
         "vaebalance train --data data/three.npy",
         "test_fraction 0.1 of 3 examples leaves the test split empty; choose a test_fraction "
         "that puts at least one example in each split",
         setup=_npy("data/three.npy", np.full((3, 4), 0.5, dtype=np.float32))),
    # --- model --------------------------------------------------------------------------
    Case("model-conv-odd-size", "--model conv on 9×9 images",
         "vaebalance train --data data/images --model conv",
         "the conv model halves the image size at each stage; 9×9 is not divisible by 2 (use "
         "--model mlp, or crop/pad to an even size)",
         setup=_images("data/images", [(9, 9)] * 20)),
    Case("model-conv-too-large", "--model conv on 100×100 images",
         "vaebalance train --data data/images --model conv",
         "the conv model takes images from 8×8 to 64×64; got 100×100",
         setup=_images("data/images", [(100, 100)] * 20)),
    Case("model-conv-on-table", "--model conv on tabular data",
         "vaebalance train --data data/table.npy --model conv",
         "the conv model needs images of shape (C, H, W) with C = 1 or 3; got (6,)",
         setup=_npy("data/table.npy", np.full((20, 6), 0.5, dtype=np.float32))),
    Case("model-latent-zero", "zero latent dimensions",
         "vaebalance train --latent-dim 0",
         "model.latent_dim must be ≥ 1, got 0"),
    Case("model-unknown-arch", "an unknown architecture",
         "vaebalance train --model rnn",
         "unknown model arch 'rnn'; valid: conv, mlp"),
    # --- config -------------------------------------------------------------------------
    Case("config-unknown-key", "a misspelled config key",
         "vaebalance train --set train.learning_rate=0.01",
         f"unknown config key 'train.learning_rate'; valid keys: {VALID_KEYS}"),
    Case("config-wrong-type", "a number field given a word",
         "vaebalance train --set train.lr=fast",
         "train.lr must be float; got 'fast'"),
    Case("config-wrong-bool", "a boolean field given a word",
         "vaebalance train --set train.tensorboard=maybe",
         "train.tensorboard must be bool; got 'maybe'"),
    Case("config-lr-zero", "a zero learning rate",
         "vaebalance train --lr 0",
         "train.lr must be > 0 and finite, got 0.0"),
    Case("config-lr-inf", "an infinite learning rate",
         "vaebalance train --lr inf",
         "train.lr must be > 0 and finite, got inf"),
    Case("config-epochs-zero", "zero epochs",
         "vaebalance train --epochs 0",
         "train.epochs must be ≥ 1, got 0"),
    Case("config-test-fraction", "a test fraction of 1",
         "vaebalance train --set data.test_fraction=1",
         "data.test_fraction must be in (0, 1)"),
    Case("config-precision", "an unknown precision",
         "vaebalance train --precision fp8",
         "unknown precision 'fp8'; valid: bf16, fp32"),
    Case("config-set-syntax", "--set without a value",
         "vaebalance train --set train.lr",
         "--set takes section.field=value; got 'train.lr'"),
    Case("config-file-missing", "a config file that does not exist",
         "vaebalance train --config missing.yaml",
         "no such config file: missing.yaml"),
    Case("config-file-json", "a JSON config file that does not parse",
         "vaebalance train --config bad.json",
         "cannot parse config file bad.json: Expecting property name enclosed in double quotes: "
         "line 1 column 2 (char 1)",
         setup=_file("bad.json", "{train: 1}"), subprocess=True),
    Case("config-file-yaml", "a YAML config file that does not parse",
         "vaebalance train --config bad.yaml",
         "cannot parse config file bad.yaml: while parsing a flow sequence",
         setup=_file("bad.yaml", "train: [1, 2\n")),
    Case("config-file-toml-key", "a TOML config file with an unknown key",
         "vaebalance train --config unknown.toml",
         f"unknown config key 'train.learning_rate'; valid keys: {VALID_KEYS}",
         setup=_file("unknown.toml", "[train]\nlearning_rate = 0.01\n")),
    Case("config-file-section", "a config file with an unknown section",
         "vaebalance train --config unknown.json",
         "unknown config section 'optimizer'; valid: balancer, data, eval, likelihood, model, "
         "train",
         setup=_file("unknown.json", '{"optimizer": {"lr": 0.1}}')),
    Case("config-file-list", "a config file that is a list",
         "vaebalance train --config list.json",
         "config must be a mapping of sections; got list",
         setup=_file("list.json", "[1, 2]")),
    Case("config-file-suffix", "a config file with an unknown suffix",
         "vaebalance train --config config.txt",
         "config file config.txt must end in .json, .yaml, .yml or .toml",
         setup=_file("config.txt", "train.lr = 0.1\n")),
    Case("cli-unknown-option", "a misspelled option",
         "vaebalance train --epoch 3",
         "No such option: --epoch (Possible options: --epochs)"),
    Case("cli-not-an-int", "an option's value of the wrong type",
         "vaebalance train --epochs many",
         "Invalid value for '--epochs': Input should be a valid integer, unable to parse "
         "string as an integer"),
    # --- likelihood and balancer --------------------------------------------------------
    Case("likelihood-unknown", "an unknown likelihood",
         "vaebalance train --likelihood poisson",
         "unknown likelihood 'poisson'; valid: auto, bernoulli, continuous-bernoulli, gaussian, "
         "gaussian-learned, gaussian-optimal, gaussian-perpixel, laplace"),
    Case("balancer-unknown", "an unknown balancer",
         "vaebalance train --balancer gecko",
         f"unknown balancer 'gecko'; valid: {BALANCERS}"),
    Case("balancer-unknown-parameter", "an unknown balancer parameter",
         "vaebalance train --balancer geco --set balancer.target=0.01",
         f"balancer 'geco' takes no parameter 'target'; valid: {GECO_PARAMS}"),
    Case("balancer-wrong-balancer", "a parameter given to the wrong balancer",
         "vaebalance train --balancer control --set balancer.target_mse=0.01",
         f"balancer 'control' takes no parameter 'target_mse'; valid: {CONTROL_PARAMS}"),
    Case("balancer-default-constant", "a target without choosing its balancer",
         "vaebalance train --set balancer.target_kl=10",
         "balancer 'constant' takes no parameter 'target_kl'; valid: beta, beta_norm, "
         "mean_weight"),
    Case("balancer-missing-target", "GECO without its target",
         "vaebalance train --balancer geco",
         "geco needs target_mse, the target MSE per input element"),
    Case("model-too-large", "a model that cannot fit in memory",
         "vaebalance train --latent-dim 100000000",
         "the model (model.arch=mlp, model.latent_dim=100000000, input 1×8×8) has "
         "77,000,329,280 parameters: training needs about 1.12 TiB for them, their "
         "gradients and Adam's moments, more than the {memory} that may be used (80% of the "
         "{memory}); choose a smaller model.latent_dim or model.hidden", subprocess=True),
    Case("balancer-zero-target", "a zero target MSE",
         "vaebalance train --balancer geco --set balancer.target_mse=0",
         "geco: target_mse must be > 0, got 0"),
    Case("balancer-negative-target", "a negative target KL",
         "vaebalance train --balancer control --set balancer.target_kl=-5",
         "control: target_kl must be > 0 nats, got -5"),
    Case("balancer-free-bits-groups", "free-bits groups that do not divide J",
         "vaebalance train --balancer free-bits --set balancer.groups=3 --latent-dim 4",
         "free-bits: groups=3 does not divide the 4 latent dims"),
    Case("balancer-dynamic-likelihood", "a balancer incompatible with the likelihood",
         "vaebalance train --balancer dynamic",
         "dynamic sets the scale of a Gaussian decoder itself; it needs --likelihood gaussian "
         "with a fixed sigma, not 'gaussian-learned'"),
    # --- output directory ---------------------------------------------------------------
    Case("out-not-empty", "--out an existing run",
         "vaebalance train --out run",
         "output directory run exists and is not empty (use --resume)",
         setup=_run()),
    Case("out-is-a-file", "--out an existing file",
         "vaebalance train --out notes.txt",
         "output path notes.txt exists and is not a directory",
         setup=_file("notes.txt", "mine\n")),
    Case("out-under-a-file", "--out inside a file (cannot be created)",
         "vaebalance train --out notes.txt/run",
         "cannot create output directory notes.txt/run: Not a directory",
         setup=_file("notes.txt", "mine\n")),
    # --- resume -------------------------------------------------------------------------
    Case("resume-missing", "--resume a directory that does not exist",
         "vaebalance train --resume runs/missing",
         "no such run directory: runs/missing"),
    Case("resume-not-a-run", "--resume a directory that is not a run",
         "vaebalance train --resume data",
         "data is not a vaebalance run (no config.json and run.json)",
         setup=lambda cwd, base: (cwd / "data").mkdir()),
    Case("resume-conflicting-change", "--resume with a config change it cannot make",
         "vaebalance train --resume run --set model.latent_dim=8",
         "--resume cannot change model.latent_dim of an existing run; changeable: "
         "train.epochs, train.steps, train.tensorboard, train.threads",
         setup=_run()),
    Case("from-missing-run", "--from a directory that is not there",
         "vaebalance train --from nowhere --out new",
         "no such run directory: nowhere"),
    Case("from-and-resume", "--from and --resume together",
         "vaebalance train --from run --resume run",
         "--resume continues a run, --from starts a new one: give one of them",
         setup=_run()),
    Case("from-bad-change", "--from with a change the run's balancer does not take",
         "vaebalance train --from run --set balancer.target_mse=0.03 --out new",
         "balancer 'constant' takes no parameter 'target_mse'; valid: beta, beta_norm, "
         "mean_weight", setup=_run()),
    Case("resume-with-out", "--resume with --out",
         "vaebalance train --resume run --out elsewhere",
         "--resume continues a run with its own config; drop --config and --out",
         setup=_run()),
    Case("resume-edited-config", "--resume a run whose config.json was edited (latent_dim)",
         "vaebalance train --resume run",
         "the weights in run/checkpoint do not match the run's config (3 problem(s), first: "
         "size mismatch for encoder.1.2.weight: copying a param with shape torch.Size([8, 32]) "
         "from checkpoint, the shape in current model is torch.Size([10, 32])); was "
         "config.json edited?",
         setup=_run(edit=_edit_json("config.json", _latent_5))),
    Case("resume-corrupt-latest", "--resume with a corrupt checkpoint/latest.json",
         "vaebalance train --resume run",
         "corrupt JSON file run/checkpoint/latest.json: Expecting property name enclosed in "
         "double quotes: line 2 column 1 (char 2)",
         setup=_run(edit=_replace("checkpoint/latest.json", "{\n")), subprocess=True),
    Case("resume-incomplete-latest", "--resume with a checkpoint/latest.json missing keys",
         "vaebalance train --resume run",
         "corrupt checkpoint in run/checkpoint: KeyError: 'param_groups'",
         setup=_run(edit=_edit_json("checkpoint/latest.json",
                                    lambda d: {"file": d["file"]}))),
    Case("resume-latest-escapes", "--resume with latest.json naming a file elsewhere",
         "vaebalance train --resume run",
         "corrupt checkpoint run/checkpoint/latest.json: 'file' must name a "
         "state-<step>.safetensors file in the same folder, got '../model.safetensors'",
         setup=_run(edit=_edit_json("checkpoint/latest.json",
                                    lambda d: {**d, "file": "../model.safetensors"}))),
    Case("resume-pickle-checkpoint", "--resume with a pickle where the checkpoint tensors are",
         "vaebalance train --resume run",
         "corrupt or unreadable safetensors file run/checkpoint/state-000000022.safetensors: "
         "Error while deserializing: header too large",
         setup=_run(edit=_pickle_as_state)),
    Case("resume-damaged-run-json", "--resume a run whose run.json lost its dataset entry",
         "vaebalance train --resume run",
         "run/run.json has no valid 'dataset' entry (with 'shape' and 'source'); the run "
         "directory is damaged",
         setup=_run(edit=_replace("run.json", "{}"))),
    # --- evaluate, diagnose -------------------------------------------------------------
    Case("evaluate-no-weights", "evaluate a run killed before the end (no weights yet)",
         "vaebalance evaluate run",
         "run has no trained weights (model.safetensors); did training finish?",
         setup=_run(edit=_remove("model.safetensors")), subprocess=True),
    Case("evaluate-weights-mismatch", "evaluate weights that do not match config.json",
         "vaebalance evaluate run",
         "the weights in run/model.safetensors do not match the run's config (3 problem(s), "
         "first: size mismatch for encoder.1.2.weight: copying a param with shape "
         "torch.Size([8, 32]) from checkpoint, the shape in current model is "
         "torch.Size([10, 32])); was config.json edited?",
         setup=_run(edit=_edit_json("config.json", _latent_5))),
    Case("evaluate-iw-zero", "evaluate with --iw-samples 0",
         "vaebalance evaluate run --iw-samples 0",
         "--iw-samples must be ≥ 1, got 0",
         setup=_run()),
    Case("evaluate-dataset-moved", "evaluate a .npy run whose data file was deleted",
         "vaebalance evaluate run-npy",
         "the dataset is no longer where the run found it: {cwd}/data/x.npy",
         setup=_npy_run),
    Case("evaluate-corrupt-weights", "evaluate a run whose weights file is garbage",
         "vaebalance evaluate run",
         "corrupt or unreadable safetensors file run/model.safetensors: Error while "
         "deserializing: header too large",
         setup=_run(edit=_replace("model.safetensors", b"garbage!garbage!"))),
    Case("evaluate-truncated-weights", "evaluate a run whose weights file is cut short",
         "vaebalance evaluate run",
         "corrupt or unreadable safetensors file run/model.safetensors: Error while "
         "deserializing: invalid header length",
         setup=_run(edit=lambda run: _write(
             run, "model.safetensors", (run / "model.safetensors").read_bytes()[:108]))),
    Case("evaluate-corrupt-config", "evaluate a run whose config.json is not JSON",
         "vaebalance evaluate run",
         "corrupt JSON file run/config.json: Expecting value: line 1 column 1 (char 0)",
         setup=_run(edit=_replace("config.json", ""))),
    Case("evaluate-data-wrong-shape", "evaluate a run on other data of another shape",
         "vaebalance evaluate run --data data/x.npy",
         "data/x.npy has examples of shape (6,), but the run's model takes (1, 8, 8)",
         setup=_all(_run(), _npy("data/x.npy", np.zeros((20, 6), dtype=np.float32)))),
    Case("evaluate-data-nan", "evaluate a run on other data holding NaN",
         "vaebalance evaluate run --data data/nan.npy",
         "data/nan.npy has 1 NaN and 0 infinite values, the first at index (3, 2)",
         setup=_all(_run(), _npy("data/nan.npy", _nan))),
    Case("evaluate-damaged-standardization", "evaluate a run whose stored standardization "
         "has the wrong shape",
         "vaebalance evaluate run",
         "run/standardization.safetensors does not hold a finite mean and a positive std of "
         "shape (1, 8, 8); the run directory is damaged",
         setup=_run(edit=_standardization_of_shape((64,)))),
    Case("resume-standardization-missing", "--resume a run with data.standardize on whose "
         "standardization file was deleted",
         "vaebalance train --resume run",
         "run has data.standardize on but no standardization.safetensors; the run directory is "
         "damaged",
         setup=_run(edit=_edit_json("config.json", _standardize_on))),
    Case("evaluate-not-a-run", "evaluate a folder that is not a run",
         "vaebalance evaluate data",
         "data is not a vaebalance run (no config.json and run.json)",
         setup=lambda cwd, base: (cwd / "data").mkdir()),
    Case("diagnose-no-metrics", "diagnose a run without metrics.json",
         "vaebalance diagnose run",
         "run has no metrics.json yet; run `vaebalance evaluate run` first",
         setup=_run(edit=_remove("metrics.json"))),
    # --- explain ------------------------------------------------------------------------
    Case("explain-k-zero", "explain with K = 0",
         "vaebalance explain --input-dim 0 --latent-dim 8",
         "input dim K must be a positive integer, got 0"),
    Case("explain-j-negative", "explain with J < 0",
         "vaebalance explain --input-dim 784 --latent-dim -2",
         "latent dim J must be a positive integer, got -2"),
    Case("explain-unknown-recon", "explain with an unknown reconstruction loss",
         "vaebalance explain --recon l1 --input-dim 784 --latent-dim 8",
         "unknown reconstruction loss 'l1'; valid: bce, mse, sse"),
    Case("explain-zero-weight", "explain with a KL weight of 0",
         "vaebalance explain --kl-weight 0 --input-dim 784 --latent-dim 8",
         "kl weight must be > 0 and finite, got 0.0"),
    Case("explain-sse-mean", "explain sse with a mean reduction",
         "vaebalance explain --recon sse --recon-reduction mean --input-dim 784 --latent-dim 8",
         "sse is a sum over elements; use mse for a mean"),
    Case("explain-unknown-preset", "explain with a preset that does not exist",
         "vaebalance explain --preset pytorch_vae",
         "unknown preset 'pytorch_vae'; valid: disent, keras-example, keras-io-2020, "
         "lightning-bolts, pythae, pytorch-examples, pytorch-vae, scvi-tools"),
    Case("explain-bad-shape", "explain a preset at a shape that is not C,H,W",
         "vaebalance explain --preset pythae --input-shape 3x-64",
         "--input-shape must be positive integers separated by commas, like 3,64,64; "
         "got '3x-64'"),
    Case("explain-loss-file-missing", "explain a loss file that does not exist",
         "vaebalance explain --loss-file nope.py --loss-fn loss --input-shape 784 "
         "--latent-dim 8",
         "loss file nope.py does not exist"),
    Case("explain-loss-fn-missing", "explain a function the loss file does not define",
         "vaebalance explain --loss-file my_loss.py --loss-fn loss --input-shape 784 "
         "--latent-dim 8",
         "my_loss.py has no function 'loss'; it defines: vae_loss",
         setup=_file("my_loss.py", "def vae_loss(x, recon, mu, logvar):\n    return 0.0\n")),
    Case("explain-loss-not-of-the-form", "explain a loss with a free-bits clamp on the KL",
         "vaebalance explain --loss-file fb.py --loss-fn loss --input-shape 784 --latent-dim 8",
         "fn is not of the form a·recon + b·KL + c: the KL term is not linear in the summed KL "
         "when many dims change at once (e.g. a free-bits clamp max(KL, λ) or a capacity term "
         "|KL − C|)",
         setup=_file("fb.py", "def loss(x, recon, mu, logvar):\n"
                     "    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar)\n"
                     "    return ((recon - x) ** 2).sum() + kl.mean(0).clamp(min=0.5).sum()\n")),
    # --- the disk -----------------------------------------------------------------------
    Case("disk-full", "a disk that fills up during training (RLIMIT_FSIZE of 32 KiB)",
         "vaebalance train --out run --epochs 2 --set model.hidden=[32] --latent-dim 4 "
         "--set train.tensorboard=false",
         "cannot write run/checkpoint/state-000000022.safetensors: File too large",
         subprocess=True, writes=True),
    # --- files that lie about their size, or bombs (checked before anything is allocated) --
    Case("data-npy-claims-too-much", "a 4 kB .npy whose header claims 100,000,000 × 1,000 float32",
         "vaebalance train --data data/big.npy",
         "data/big.npy is truncated or lies about its size: its header claims a (100000000, "
         "1000) float32 array, 373 GiB of data, but it holds 4032 bytes",
         setup=_file("data/big.npy", _npy_header("<f4", (100_000_000, 1000)) + bytes(4032))),
    Case("data-npz-member-claims-too-much",
         "a 2 MB .npz whose member claims 10,000,000 × 64 × 64 uint8",
         "vaebalance train --data data/big.npz",
         "data/big.npz member x.npy is truncated or lies about its size: its header claims a "
         "(10000000, 64, 64) uint8 array, 38.1 GiB of data, but it holds 1.91 MiB",
         setup=_zip("data/big.npz",
                    {"x.npy": _npy_header("|u1", (10_000_000, 64, 64)) + bytes(2_000_000)})),
    Case("data-npz-bomb", "an .npz member declaring 3.73 GiB from a few compressed bytes",
         "vaebalance train --data data/bomb.npz",
         "data/bomb.npz member x.npy claims a deflated member, 3.73 GiB from 73 bytes of "
         "compressed data, more than deflate's 1032:1 can expand; it is corrupt or a "
         "decompression bomb",
         setup=_zip("data/bomb.npz", {"x.npy": _small_npy}, zipfile.ZIP_DEFLATED, 4_000_000_000)),
    Case("data-npz-nested", "an .npz member that is itself a zip archive",
         "vaebalance train --data data/nested.npz",
         "data/nested.npz member x.npy is itself a zip archive; nested archives are not read",
         setup=_zip("data/nested.npz", {"x.npy": _nested_npz()})),
    Case("data-npy-header-too-long", "an .npy whose header claims to be 4 GiB long",
         "vaebalance train --data data/header.npy",
         "data/header.npy is not a valid .npy/.npz file: a header of 4294967295 bytes, more "
         "than the 10000 parsed",
         setup=_file("data/header.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}")),
    Case("data-idx-gzip-bomb", "a 40-byte gzipped idx file claiming 100000 × 100 × 100",
         "vaebalance train --data data/idx",
         "data/idx/train-images-idx3-ubyte.gz claims sizes [100000, 100, 100] of uint8, 954 MiB "
         "from 40 bytes of compressed data, more than deflate's 1032:1 can expand; it is "
         "corrupt or a decompression bomb",
         setup=_idx_bomb),
    Case("data-png-bomb", "a PNG whose header claims 9000 × 9000 pixels in 68 bytes",
         "vaebalance train --data data/images",
         "data/images/0.png claims a 9000x9000 image, 9.66 MiB from 68 bytes of compressed "
         "data, more than deflate's 1032:1 can expand; it is corrupt or a decompression bomb",
         setup=_file("data/images/0.png", _png(9000, 9000, bytes(10)))),
    # --- generative factors -------------------------------------------------------------
    Case("factors-wrong-length", "a factors file whose length does not match the data",
         "vaebalance train --data digits --factors data/factors.npy",
         "factors file data/factors.npy has 10 rows but the data has 1797 examples (1617 train "
         "+ 180 test); give one row per example",
         setup=_npy("data/factors.npy", np.zeros((10, 2), dtype=np.int64))),
    Case("factors-not-integers", "a factors file that is not integers",
         "vaebalance train --data digits --factors data/factors.csv",
         "factors in data/factors.csv must be integer classes; row 1, column 0 is 0.5",
         setup=_file("data/factors.csv", "shape,size\n1,2\n0.5,1\n")),
    Case("factors-missing", "factor metrics asked of a dataset without factors",
         "vaebalance evaluate run --factor-metrics",
         "the dataset 'digits' has no generative factors, so the factor metrics cannot be "
         "computed; give a factors file with --factors (one row of integers per example)",
         setup=_run("run")),
    # --- tune -----------------------------------------------------------------------------
    Case("tune-no-goal", "tune without a goal",
         "vaebalance tune",
         "give exactly one goal: --target-mse, --target-psnr or --target-rate"),
    Case("tune-two-goals", "tune with two goals at once",
         "vaebalance tune --target-mse 0.01 --target-rate 20",
         "give exactly one goal: --target-mse, --target-psnr or --target-rate"),
    Case("tune-target-not-positive", "an MSE target of zero",
         "vaebalance tune --target-mse 0",
         "the target MSE per element must be > 0, got 0"),
    Case("tune-tolerance", "a tolerance outside (0, 1)",
         "vaebalance tune --target-mse 0.01 --tolerance 5",
         "--tolerance must be in (0, 1), got 5"),
    Case("tune-max-runs", "no runs allowed",
         "vaebalance tune --target-mse 0.01 --max-runs 0",
         "--max-runs must be ≥ 1, got 0"),
    Case("tune-balancer", "tune with a balancer other than the constant β it searches",
         "vaebalance tune --target-mse 0.01 --balancer geco",
         "tune searches β of the constant balancer; drop --balancer geco"),
    Case("tune-beta-given", "tune with β set, the very knob it searches",
         "vaebalance tune --target-mse 0.01 --set balancer.beta=2",
         "tune sets balancer.beta itself; drop balancer.beta"),
    Case("tune-other-command", "a tune directory made by a tune with another goal",
         "vaebalance tune --target-mse 0.02 --out t",
         "t holds a tune made by a different command (goal mse_per_element=0.01 → "
         "mse_per_element=0.02); repeat that command to resume it, or give a new --out",
         setup=_file("t/tune.json", json.dumps({"command": {"base_config": {},
                                                            "goal": ["mse_per_element", 0.01]}}))),
    Case("tune-not-a-tune", "a tune into a directory that holds something else",
         "vaebalance tune --target-mse 0.01 --out t",
         "t exists, is not empty and is not a tune (no tune.json)",
         setup=_file("t/notes.txt", "mine")),
    # --- more than one process (torchrun sets WORLD_SIZE and RANK) --------------------
    Case("dist-batch-indivisible", "a global batch that 3 processes cannot share",
         "torchrun --nproc_per_node 3 -m vaebalance train --set train.batch_size=64",
         "train.batch_size=64 is the batch of all 3 processes together and must divide by 3: "
         "use a multiple of 3, e.g. 63",
         env={"WORLD_SIZE": "3", "RANK": "0", "LOCAL_RANK": "0"}),
    Case("dist-bad-timeout", "a timeout for lost processes that is not a number",
         "VAEBALANCE_DIST_TIMEOUT=soon torchrun --nproc_per_node 2 -m vaebalance train",
         "VAEBALANCE_DIST_TIMEOUT='soon' must be a number of seconds > 0",
         env={"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0", "VAEBALANCE_DIST_TIMEOUT": "soon"}),
    # --- vaebalance study dims, data.size / data.examples of any image source -----------
    Case("study-unknown-data", "a study of a dataset it has no plan for",
         "vaebalance study dims --data cifar --out s",
         "unknown study dataset 'cifar'; valid: digits, fashion-mnist, sprites"),
    Case("study-quick-other-data", "--quick (the digits study) with another dataset",
         "vaebalance study dims --data sprites --quick --out s",
         "--quick is the digits study; it cannot be combined with sprites"),
    Case("study-workers-zero", "a study with no workers",
         "vaebalance study dims --quick --workers 0 --out s",
         "--workers must be ≥ 1, got 0"),
    Case("study-out-not-a-study", "a study written into a folder that holds something else",
         "vaebalance study dims --quick --out full",
         "full exists, is not empty and is not a sweep (no sweep.json)",
         setup=_file("full/notes.txt", "mine")),
    Case("data-size-zero", "an image size of zero",
         "vaebalance train --data digits --set data.size=0",
         "data.size must be an image side from 1 to 1024 pixels, got 0"),
    Case("data-examples-too-many", "more examples than the dataset has",
         "vaebalance train --data digits --set data.examples=5000",
         "data.examples must be an integer from 2 to the 1797 examples of digits, got 5000"),
]
# fmt: on


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_table() -> str:
    lines = [
        "| # | Bad input | Command | Message (stderr, exit code 2) |",
        "|---|---|---|---|",
    ]
    for i, case in enumerate(CASES, 1):
        message = "error: " + case.message.replace("{cwd}", "$PWD").replace("{memory}", "N GiB")
        lines.append(
            f"| {i} | {_cell(case.input)} | `` {_cell(case.command)} `` | `` {_cell(message)} `` |"
        )
    return "\n".join(lines)


def documented_table(doc: str) -> str:
    """The table between the markers of ``docs/errors.md``."""
    return doc.split(START, 1)[1].split(END, 1)[0].strip()


def write_doc() -> None:
    doc = DOC.read_text()
    before, rest = doc.split(START, 1)
    after = rest.split(END, 1)[1]
    DOC.write_text(f"{before}{START}\n{render_table()}\n{END}{after}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_doc()
    else:
        print(render_table())
