"""MIG (Chen et al. 2018) and the discrete mutual-information matrix it is built on.

disentanglement_lib's version (``mig.py``, ``utils.py``, ``mig.gin``), followed here:

- each code dimension z_i is discretized on its own into 20 equal-width bins between its
  minimum and maximum (``np.digitize(z_i, np.histogram(z_i, 20)[1][:-1])``, labels 1..20);
- m[i, k] = I(z̃_i; v_k) = Σ p(a, b) log(p(a, b) / (p(a) p(b))) over the empirical joint of the
  discretized code and the factor's classes, in nats (``sklearn.metrics.mutual_info_score``);
- H_k = I(v_k; v_k), the empirical entropy of factor k;
- MIG = mean_k (m_(1)k − m_(2)k) / H_k, the gap between the two codes that know factor k best.

Chen et al.'s original estimates the MI from q(z|x) samples over the whole dataset and leaves
out the shape factor; its numbers are not interchangeable with these. A factor that is constant
in the sample (H_k = 0) has no gap to normalise and is left out of the mean.
"""

from __future__ import annotations

import numpy as np

NUM_BINS = 20


def histogram_discretize(codes: np.ndarray, num_bins: int = NUM_BINS) -> np.ndarray:
    """Each column of ``codes [N, J]`` in ``num_bins`` equal-width bins of its own range,
    labelled 1..num_bins (disentanglement_lib's ``_histogram_discretize``)."""
    codes = np.asarray(codes, dtype=np.float64)
    out = np.zeros(codes.shape, dtype=np.int64)
    for i in range(codes.shape[1]):
        edges = np.histogram(codes[:, i], num_bins)[1][:-1]
        out[:, i] = np.digitize(codes[:, i], edges)
    return out


def mutual_info_matrix(discrete_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """m[i, k] = I(z̃_i; v_k) in nats between discrete codes ``[N, J]`` and factors ``[N, F]``."""
    from sklearn.metrics import mutual_info_score

    m = np.zeros((discrete_codes.shape[1], factors.shape[1]))
    for i in range(discrete_codes.shape[1]):
        for k in range(factors.shape[1]):
            m[i, k] = mutual_info_score(factors[:, k], discrete_codes[:, i])
    return m


def factor_entropy(factors: np.ndarray) -> np.ndarray:
    """H(v_k) in nats of each factor's empirical distribution, ``[F]``."""
    from sklearn.metrics import mutual_info_score

    return np.array([mutual_info_score(f, f) for f in np.asarray(factors).T])


def mig_from_matrix(m: np.ndarray, entropy: np.ndarray) -> float:
    """mean_k (m_(1)k − m_(2)k) / H_k over the factors with H_k > 0 (0 for a single code's
    second place)."""
    ordered = np.sort(m, axis=0)[::-1]
    second = ordered[1] if m.shape[0] > 1 else np.zeros(m.shape[1])
    keep = entropy > 0
    if not keep.any():
        return 0.0
    return float(np.mean((ordered[0][keep] - second[keep]) / entropy[keep]))


def mig(codes: np.ndarray, factors: np.ndarray, num_bins: int = NUM_BINS) -> float:
    """The mutual information gap of continuous ``codes [N, J]`` for integer ``factors [N, F]``."""
    m = mutual_info_matrix(histogram_discretize(codes, num_bins), np.asarray(factors))
    return mig_from_matrix(m, factor_entropy(factors))
