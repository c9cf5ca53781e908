"""The interventional scores: they hold a factor fixed, draw the rest, render and encode.

Both need a *factor grid*: an object with ``factor_sizes`` (classes per factor),
``sample_factors(n, rng) -> int [n, F]`` (i.i.d. uniform classes, with replacement) and
``observe(classes)`` (the examples of those classes), plus a ``representation`` function from
examples to codes ``[n, J]`` (the encoder mean). Defaults are disentanglement_lib's
(``beta_vae_sklearn.gin``, ``factor_vae_metric.gin``); one ``numpy`` Generator seeded by
``seed`` draws everything, so a score repeats exactly.
"""

from __future__ import annotations

import warnings

import numpy as np

BATCH_SIZE = 64
NUM_TRAIN = 10_000
NUM_EVAL = 5_000
NUM_VARIANCE_ESTIMATE = 10_000
PRUNE_THRESHOLD = 0.05  # factor_vae_metric.gin's prune_dims.threshold (the code's default is 0)


def _codes(grid, representation, classes: np.ndarray) -> np.ndarray:
    return np.asarray(representation(grid.observe(classes)), dtype=np.float64)


def betavae_sample(grid, representation, rng, batch_size: int) -> tuple[int, np.ndarray]:
    """One point of the BetaVAE score: a factor k and mean_batch |r(x₁) − r(x₂)| over pairs
    that share factor k's class (different pairs, different classes)."""
    k = int(rng.integers(len(grid.factor_sizes)))
    first = grid.sample_factors(batch_size, rng)
    second = grid.sample_factors(batch_size, rng)
    second[:, k] = first[:, k]
    diff = np.abs(_codes(grid, representation, first) - _codes(grid, representation, second))
    return k, diff.mean(axis=0)


def betavae_score(
    grid,
    representation,
    seed: int = 0,
    batch_size: int = BATCH_SIZE,
    num_train: int = NUM_TRAIN,
    num_eval: int = NUM_EVAL,
) -> dict:
    """The BetaVAE score (Higgins et al. 2017, "β-VAE: learning basic visual concepts"):
    the held-out accuracy of a logistic regression that tells, from the mean absolute code
    difference of a batch of pairs, which factor the pairs shared. ``train_accuracy`` and
    ``eval_accuracy`` (the score). Chance is 1/F.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)

    def batch(n):
        points = [betavae_sample(grid, representation, rng, batch_size) for _ in range(n)]
        return np.stack([p[1] for p in points]), np.array([p[0] for p in points])

    x_train, y_train = batch(num_train)
    x_eval, y_eval = batch(num_eval)
    model = LogisticRegression(solver="lbfgs", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    return {
        "train_accuracy": float(np.mean(model.predict(x_train) == y_train)),
        "eval_accuracy": float(np.mean(model.predict(x_eval) == y_eval)),
    }


def factorvae_votes(grid, representation, rng, n, batch_size, global_var, active) -> np.ndarray:
    """votes[k, j]: how often code j had the smallest normalised variance when factor k was
    held fixed, over ``n`` batches."""
    votes = np.zeros((len(grid.factor_sizes), len(global_var)), dtype=np.int64)
    dims = np.flatnonzero(active)
    for _ in range(n):
        k = int(rng.integers(len(grid.factor_sizes)))
        classes = grid.sample_factors(batch_size, rng)
        classes[:, k] = classes[0, k]
        local = np.var(_codes(grid, representation, classes), axis=0, ddof=1)
        votes[k, dims[np.argmin(local[active] / global_var[active])]] += 1
    return votes


def factorvae_score(
    grid,
    representation,
    seed: int = 0,
    batch_size: int = BATCH_SIZE,
    num_train: int = NUM_TRAIN,
    num_eval: int = NUM_EVAL,
    num_variance_estimate: int = NUM_VARIANCE_ESTIMATE,
    threshold: float = PRUNE_THRESHOLD,
) -> dict:
    """The FactorVAE score (Kim & Mnih 2018, "Disentangling by factorising").

    Codes are divided by their standard deviation over ``num_variance_estimate`` random
    examples (ddof 1) and dims with std < ``threshold`` are pruned. A vote holds factor k fixed
    in a batch and names the active code of least normalised variance; each code is assigned
    the factor it got most votes for (majority vote), and the score is the share of held-out
    votes that assignment gets right. 0 for every key when no code is active. Chance is 1/F.
    """
    rng = np.random.default_rng(seed)
    classes = grid.sample_factors(num_variance_estimate, rng)
    codes = np.concatenate(
        [_codes(grid, representation, classes[s : s + batch_size])
         for s in range(0, len(classes), batch_size)]
    )  # fmt: skip
    global_var = np.var(codes, axis=0, ddof=1)
    active = np.sqrt(global_var) >= threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    train = factorvae_votes(grid, representation, rng, num_train, batch_size, global_var, active)
    assigned = np.argmax(train, axis=0)  # each code's majority factor
    cols = np.arange(train.shape[1])
    evaluation = factorvae_votes(
        grid, representation, rng, num_eval, batch_size, global_var, active
    )
    return {
        "train_accuracy": float(train[assigned, cols].sum() / train.sum()),
        "eval_accuracy": float(evaluation[assigned, cols].sum() / evaluation.sum()),
        "num_active_dims": int(active.sum()),
    }
