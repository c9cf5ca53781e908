"""pythae 0.1.2 on the reference model, as its users run it: a benchmark worker.

Runs inside pythae's own virtual environment (``bench/run.py --with-pythae`` builds it), so it
imports nothing from vaebalance: it reads the Fashion-MNIST idx files itself. Prints one JSON
object on stdout.

- ``train``: ``TrainingPipeline`` (its ``BaseTrainer``) with the test images as its eval set (its epoch = train + eval,
  like a vaebalance epoch = train + test pass), Adam 1e-3, batch 128, BCE (Bernoulli)
  reconstruction; per-epoch wall time from a callback, and the eval loss (the test −ELBO,
  nats/example: pythae sums BCE over pixels and the KL over latent dims, means over the batch).
- ``nll``: ``VAE.get_nll`` (its importance-sampled NLL) on the first ``--examples`` test
  images with ``--k`` samples, at random weights (throughput does not depend on them).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from pythae.models import VAE, VAEConfig
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseDecoder, BaseEncoder
from pythae.pipelines import TrainingPipeline
from pythae.trainers import BaseTrainer, BaseTrainerConfig
from pythae.trainers.training_callbacks import TrainingCallback
from torch import nn

FASHION = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
HIDDEN, LATENT = (512, 256), 16


def read_images(stem: str) -> np.ndarray:
    """uint8 images [N, 1, 28, 28] from an idx file (plain or gzipped)."""
    for name in (stem, stem + ".gz"):
        path = FASHION / name
        if path.exists():
            raw = (gzip.open if name.endswith(".gz") else open)(path, "rb").read()
            n = int.from_bytes(raw[4:8], "big")
            return np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, 28, 28)
    raise FileNotFoundError(f"{stem} not in {FASHION}")


class Encoder(BaseEncoder):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, HIDDEN[0]), nn.ReLU(),
                                 nn.Linear(HIDDEN[0], HIDDEN[1]), nn.ReLU(),
                                 nn.Linear(HIDDEN[1], 2 * LATENT))  # fmt: skip

    def forward(self, x):
        mu, logvar = self.net(x.reshape(len(x), -1)).chunk(2, dim=-1)
        return ModelOutput(embedding=mu, log_covariance=logvar)


class Decoder(BaseDecoder):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(LATENT, HIDDEN[1]), nn.ReLU(),
                                 nn.Linear(HIDDEN[1], HIDDEN[0]), nn.ReLU(),
                                 nn.Linear(HIDDEN[0], 784))  # fmt: skip

    def forward(self, z):
        return ModelOutput(reconstruction=torch.sigmoid(self.net(z)).reshape(-1, 1, 28, 28))


class EpochTimer(TrainingCallback):
    def __init__(self):
        self.seconds, self.eval_loss, self._start = [], [], None
        self.train_seconds, self.eval_seconds = [], []

    def wrap(self, trainer_cls) -> None:
        """Time pythae's own train and eval passes of each epoch too (the pipeline makes the
        trainer, so its class's methods are wrapped)."""
        for name, into in (("train_step", self.train_seconds), ("eval_step", self.eval_seconds)):
            method = getattr(trainer_cls, name)

            def timed(*a, _method=method, _into=into, **k):
                start = time.perf_counter()
                out = _method(*a, **k)
                _into.append(time.perf_counter() - start)
                return out

            setattr(trainer_cls, name, timed)

    def on_epoch_begin(self, training_config, **kwargs):
        self._start = time.perf_counter()

    def on_epoch_end(self, training_config, **kwargs):
        self.seconds.append(time.perf_counter() - self._start)

    def on_log(self, training_config, logs, **kwargs):
        if "eval_epoch_loss" in logs:
            self.eval_loss.append(float(logs["eval_epoch_loss"]))


def model() -> VAE:
    cfg = VAEConfig(input_dim=(1, 28, 28), latent_dim=LATENT, reconstruction_loss="bce")
    return VAE(cfg, encoder=Encoder(), decoder=Decoder())


def train(epochs: int, fraction: float = 1.0) -> dict:
    x_train = torch.from_numpy(read_images("train-images-idx3-ubyte").astype(np.float32) / 255)
    x_train = x_train[: max(128, round(fraction * (len(x_train) // 128)) * 128)]
    x_test = torch.from_numpy(read_images("t10k-images-idx3-ubyte").astype(np.float32) / 255)
    timer = EpochTimer()
    with tempfile.TemporaryDirectory() as out:
        cfg = BaseTrainerConfig(output_dir=out, learning_rate=1e-3, num_epochs=epochs,
                                per_device_train_batch_size=128, per_device_eval_batch_size=128,
                                no_cuda=True)  # fmt: skip
        timer.wrap(BaseTrainer)
        # As pythae's docs train: the pipeline checks and wraps the arrays, then trains.
        pipeline = TrainingPipeline(model=model(), training_config=cfg)
        pipeline(train_data=x_train, eval_data=x_test, callbacks=[timer])
    return {
        "epoch_seconds": timer.seconds,
        "train_seconds": timer.train_seconds,
        "eval_seconds": timer.eval_seconds,
        "test_neg_elbo_nats": timer.eval_loss[-1],
    }


def nll(examples: int, k: int) -> dict:
    x = torch.from_numpy(read_images("t10k-images-idx3-ubyte")[:examples].astype(np.float32) / 255)
    m = model().eval()
    m.get_nll(x[:2], n_samples=200, batch_size=100)  # warm-up
    start = time.perf_counter()
    value = m.get_nll(x, n_samples=k, batch_size=100)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "example_k_per_second": examples * k / seconds, "nll": value}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "nll"])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--examples", type=int, default=100)
    p.add_argument("--k", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--fraction", type=float, default=1.0, help="of the training images")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = train(args.epochs, args.fraction) if args.mode == "train" else nll(args.examples, args.k)
    sys.stdout.write("\nRESULT " + json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
