"""``disentanglement(codes, factors)``: the observational metrics of anyone's codes."""

from __future__ import annotations

import numpy as np

from ...errors import check
from ...schema import Disentanglement
from .dci import dci
from .mig import factor_entropy, histogram_discretize, mig_from_matrix, mutual_info_matrix
from .modularity import explicitness, modularity
from .sap import sap

NUM_TRAIN = 10_000  # disentanglement_lib's num_train and num_test for every observational metric
NUM_TEST = 5_000


def split_examples(n: int, seed: int, num_train: int = NUM_TRAIN, num_test: int = NUM_TEST):
    """A seeded partition of ``range(n)`` into train and test indices, two to one (the lib's
    10,000 : 5,000), each capped at ``num_train`` / ``num_test``."""
    order = np.random.default_rng(seed).permutation(n)
    n_train = min(num_train, max(1, round(2 * n / 3)))
    n_test = min(num_test, n - n_train)
    return order[:n_train], order[n_train : n_train + n_test]


def disentanglement(
    codes,
    factors,
    seed: int = 0,
    *,
    num_train: int = NUM_TRAIN,
    num_test: int = NUM_TEST,
    factor_names=None,
) -> Disentanglement:
    """MIG, DCI, SAP, modularity and explicitness of ``codes [N, J]`` for ``factors [N, F]``.

    The examples are split (seeded) into a training part (two thirds, at most ``num_train``)
    and a test part (the rest, at most ``num_test``), as disentanglement_lib draws 10,000 and
    5,000 fresh points. MIG, modularity and the MI matrix use the training part; DCI, SAP and
    explicitness fit their classifiers on it and score on the test part.

    - ``mig``: mean_k (m_(1)k − m_(2)k) / H(v_k), 20-bin histogram MI (Chen et al. 2018);
      :mod:`.mig`.
    - ``dci_disentanglement``, ``dci_completeness``, ``dci_informativeness`` (test accuracy)
      from gradient-boosted trees (Eastwood & Williams 2018); :mod:`.dci`.
    - ``sap``: mean_k top-two gap of single-code linear SVM accuracies (Kumar et al. 2018);
      :mod:`.sap`.
    - ``modularity``, ``explicitness`` (test ROC AUC) (Ridgeway & Mozer 2018);
      :mod:`.modularity`.
    - ``factor_mi_nats`` ``[J][F]``, ``factor_entropy_nats`` ``[F]``, ``factor_names``,
      ``factor_examples``.

    Args:
        codes: float codes, e.g. the encoder mean μ(x), ``[N, J]`` with N ≥ 3.
        factors: integer class of each generative factor, ``[N, F]``.
        seed: seeds the split and the classifiers; the same inputs and seed give the same result.
        num_train / num_test: caps of the two parts.
        factor_names: a name per factor (default ``factor_0`` …).
    """
    codes, factors = _check(codes, factors)
    train, test = split_examples(len(codes), seed, num_train, num_test)
    z_train, z_test, v_train, v_test = codes[train], codes[test], factors[train], factors[test]
    m = mutual_info_matrix(histogram_discretize(z_train), v_train)
    entropy = factor_entropy(v_train)
    d = dci(z_train, v_train, z_test, v_test, seed)
    names = factor_names or [f"factor_{k}" for k in range(factors.shape[1])]
    return Disentanglement(
        mig=mig_from_matrix(m, entropy),
        dci_disentanglement=d["disentanglement"],
        dci_completeness=d["completeness"],
        dci_informativeness=d["informativeness_test"],
        sap=sap(z_train, v_train, z_test, v_test),
        modularity=modularity(m),
        explicitness=explicitness(z_train, v_train, z_test, v_test, seed)["test"],
        factor_mi_nats=m.tolist(),
        factor_entropy_nats=entropy.tolist(),
        factor_names=list(names),
        factor_examples=len(codes),
    )


def _check(codes, factors) -> tuple[np.ndarray, np.ndarray]:
    codes, factors = np.asarray(codes, dtype=np.float64), np.asarray(factors)
    check(codes.ndim == 2 and codes.shape[1] >= 1, f"codes must be [N, J], got {codes.shape}")
    if factors.ndim == 1:
        factors = factors[:, None]
    check(
        factors.ndim == 2 and factors.shape[1] >= 1, f"factors must be [N, F], got {factors.shape}"
    )
    check(len(codes) == len(factors),
          f"codes have {len(codes)} rows but factors have {len(factors)}")  # fmt: skip
    check(len(codes) >= 3, f"the factor metrics need at least 3 examples, got {len(codes)}")
    check(np.isfinite(codes).all(), "codes must be finite")
    integral = (
        np.issubdtype(factors.dtype, np.integer)
        or factors.dtype == bool
        or (np.issubdtype(factors.dtype, np.floating) and (factors == np.round(factors)).all())
    )
    check(integral, "factors must be integer classes")
    return codes, factors.astype(np.int64)
