"""BetaVAE and FactorVAE scores on a grid whose "images" are the factors themselves, so the
representation's structure is known exactly; and on the sprites grid with a tiny encoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaebalance.data.sprites import SpriteGrid
from vaebalance.evaluation import betavae_score, factorvae_score

SMALL = {"num_train": 150, "num_eval": 100}


class FactorGrid:
    """Observations are the factor classes: what a perfect encoder would recover."""

    factor_sizes = (3, 4, 5, 6)

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], axis=1)

    def observe(self, classes):
        return np.asarray(classes, dtype=np.float64)


def noisy(codes, scale=0.05, seed=0):
    return codes + scale * np.random.default_rng(seed).normal(size=codes.shape)


def mixed(codes):
    """45° rotations of factor pairs (each factor scaled to equal spread): holding one factor
    fixed lowers two codes alike, so no code can be told apart for it."""
    z = codes / np.array(FactorGrid.factor_sizes)
    return noisy(np.c_[z[:, 0] + z[:, 1], z[:, 0] - z[:, 1], z[:, 2] + z[:, 3], z[:, 2] - z[:, 3]],
                 scale=0.01)  # fmt: skip


def random_code(codes):
    return np.random.default_rng(len(codes)).normal(size=codes.shape)


def test_betavae_score_perfect_is_near_one_random_is_chance():
    grid = FactorGrid()
    good = betavae_score(grid, noisy, batch_size=16, **SMALL)["eval_accuracy"]
    bad = betavae_score(grid, random_code, batch_size=16, **SMALL)["eval_accuracy"]
    assert good > 0.95
    assert bad < 0.45  # chance is 1/4


def test_factorvae_score_perfect_is_one_mixing_and_random_are_lower():
    grid = FactorGrid()
    kw = {"batch_size": 32, "num_variance_estimate": 2000, **SMALL}
    good = factorvae_score(grid, noisy, **kw)
    assert good["eval_accuracy"] > 0.95 and good["num_active_dims"] == 4
    assert factorvae_score(grid, mixed, **kw)["eval_accuracy"] < good["eval_accuracy"] - 0.2
    assert factorvae_score(grid, random_code, **kw)["eval_accuracy"] < 0.5


def test_factorvae_prunes_dead_codes():
    grid = FactorGrid()

    def with_dead(codes):  # two constant codes in front of the informative ones
        return np.c_[np.zeros((len(codes), 2)), noisy(codes)]

    result = factorvae_score(grid, with_dead, batch_size=32, num_variance_estimate=500, **SMALL)
    assert result["num_active_dims"] == 4 and result["eval_accuracy"] > 0.95
    dead = factorvae_score(grid, lambda c: np.zeros((len(c), 3)), num_variance_estimate=200)
    assert dead == {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


def test_scores_repeat_for_a_seed():
    grid = FactorGrid()
    a = betavae_score(grid, noisy, seed=3, batch_size=8, num_train=40, num_eval=20)
    assert a == betavae_score(grid, noisy, seed=3, batch_size=8, num_train=40, num_eval=20)


def test_sprites_grid_with_a_position_reading_encoder():
    """An "encoder" that reads a sprite's centroid captures pos_x and pos_y and nothing else:
    FactorVAE's votes for those two factors go to the right codes."""
    grid = SpriteGrid(size=32)

    def centroid(images: torch.Tensor) -> np.ndarray:
        mass = images[:, 0].double()
        ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
        total = mass.sum((1, 2))
        return torch.stack([(mass * xs).sum((1, 2)) / total, (mass * ys).sum((1, 2)) / total], 1)

    result = factorvae_score(grid, lambda x: centroid(x).numpy(), batch_size=32, num_train=60,
                             num_eval=60, num_variance_estimate=500)  # fmt: skip
    # Two of five factors are captured: votes for pos_x/pos_y are right, the other three are
    # assigned to one of those two codes, so the score is about 2/5 plus a share of the rest.
    assert 0.3 < result["eval_accuracy"] < 0.75
    assert result["num_active_dims"] == 2


@pytest.mark.parametrize("size", [32])
def test_sprite_grid_observes_floats_in_unit_range(size):
    grid = SpriteGrid(size)
    x = grid.observe(grid.sample_factors(4, np.random.default_rng(0)))
    assert x.dtype == torch.float32 and x.shape == (4, 1, size, size)
    assert set(x.unique().tolist()) <= {0.0, 1.0}


def test_betavae_score_reports_the_training_accuracy_too():
    # The docstring's two keys; a perfect code separates the training points as well as the
    # held-out ones, a random one fits its training points at most a little above chance (¼).
    grid = FactorGrid()
    good = betavae_score(grid, noisy, batch_size=16, **SMALL)
    assert set(good) == {"train_accuracy", "eval_accuracy"} and good["train_accuracy"] > 0.95
    assert betavae_score(grid, random_code, batch_size=16, **SMALL)["train_accuracy"] < 0.6


class RenderedFactorGrid(FactorGrid):
    """Two binary factors rendered as float32 tensors, as a dataset's grid does for a model
    (binary: the observational metrics' boosted trees fit quickly)."""

    factor_sizes = (2, 2)

    def observe(self, classes):
        return torch.as_tensor(np.asarray(classes), dtype=torch.float32)


class FactorReader(torch.nn.Module):
    """A model whose encoder mean is its input: the factors themselves, a perfect code."""

    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(()))

    def encode(self, x):
        return x.flatten(1).double(), torch.zeros(len(x), x[0].numel(), dtype=torch.float64)


def test_factor_metrics_score_the_models_encoder_on_the_grid():
    # The interventional scores of a run are those of its encoder mean on the dataset's grid:
    # here the factors themselves, so the scores equal those of the identity representation.
    from vaebalance.data import Dataset
    from vaebalance.evaluation import factor_metrics

    grid = RenderedFactorGrid()
    classes = grid.sample_factors(40, np.random.default_rng(1))
    test = torch.as_tensor(classes, dtype=torch.float32)
    data = Dataset("grid", train=test, test=test, shape=(2,), factors_train=torch.as_tensor(classes),
                   factors_test=torch.as_tensor(classes), factor_grid=grid)  # fmt: skip
    result = factor_metrics(FactorReader(), data, seed=2, intervention_batches=8)

    def identity(x):
        return x.double().numpy()

    beta = betavae_score(grid, identity, 2, num_train=8, num_eval=4)
    factor = factorvae_score(grid, identity, 2, num_train=8, num_eval=4, num_variance_estimate=512)
    assert result.betavae_score == beta["eval_accuracy"]
    assert result.factorvae_score == factor["eval_accuracy"] and result.intervention_batches == 8
