"""DCI disentanglement, completeness and informativeness (Eastwood & Williams 2018).

As disentanglement_lib computes it (``dci.py``, ``dci.gin``): for each factor k a
``GradientBoostingClassifier`` with sklearn's defaults (100 trees of depth 3, learning rate
0.1; ``random_state`` pinned here) predicts the factor's class from all codes. Its impurity-based
``feature_importances_`` form the column R[:, k] of the importance matrix R ``[J, F]``.

- Disentanglement: D_i = 1 − H_F(P_i·), with P_ik = R_ik / Σ_k R_ik and the entropy in base F,
  weighted by ρ_i = Σ_k R_ik / Σ R; summed over codes.
- Completeness: C_k = 1 − H_J(P̃_·k), P̃_ik = R_ik / Σ_i R_ik in base J, weighted by
  Σ_i R_ik / Σ R.
- Informativeness: the mean over factors of the classifier's test *accuracy* (the lib's
  convention; the paper used a regressor's error).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-11  # added to the probabilities before the entropy, as the lib does


def importance_matrix(codes_train, factors_train, codes_test, factors_test, seed=0):
    """R ``[J, F]`` and the train / test accuracy of each factor's classifier."""
    from sklearn.ensemble import GradientBoostingClassifier

    num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
    r = np.zeros((num_codes, num_factors))
    train_acc, test_acc = np.zeros(num_factors), np.zeros(num_factors)
    for k in range(num_factors):
        if len(np.unique(factors_train[:, k])) < 2:  # nothing to predict: no importance
            train_acc[k] = test_acc[k] = np.mean(factors_test[:, k] == factors_train[0, k])
            continue
        model = GradientBoostingClassifier(random_state=seed)
        model.fit(codes_train, factors_train[:, k])
        r[:, k] = np.abs(model.feature_importances_)
        train_acc[k] = np.mean(model.predict(codes_train) == factors_train[:, k])
        test_acc[k] = np.mean(model.predict(codes_test) == factors_test[:, k])
    return r, train_acc, test_acc


def _entropy(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy of each row of ``p`` (normalised first, +EPS as scipy's entropy sees it)."""
    p = p + EPS
    p = p / p.sum(axis=1, keepdims=True)
    return -(p * np.log(p)).sum(axis=1) / np.log(base)


def disentanglement_score(r: np.ndarray) -> float:
    """Σ_i ρ_i (1 − H_F(P_i·)) of an importance matrix ``[J, F]``."""
    if r.sum() == 0:
        return 0.0
    per_code = 1.0 - _entropy(r, r.shape[1]) if r.shape[1] > 1 else np.ones(r.shape[0])
    return float(np.sum(per_code * r.sum(axis=1) / r.sum()))


def completeness_score(r: np.ndarray) -> float:
    """Σ_k (Σ_i R_ik / Σ R) (1 − H_J(P̃_·k)) of an importance matrix ``[J, F]``."""
    if r.sum() == 0:
        return 0.0
    per_factor = 1.0 - _entropy(r.T, r.shape[0]) if r.shape[0] > 1 else np.ones(r.shape[1])
    return float(np.sum(per_factor * r.sum(axis=0) / r.sum()))


def dci(codes_train, factors_train, codes_test, factors_test, seed=0) -> dict:
    """``disentanglement``, ``completeness``, ``informativeness_train``, ``informativeness_test``
    and the importance matrix ``importance`` ``[J, F]``."""
    r, train_acc, test_acc = importance_matrix(
        codes_train, factors_train, codes_test, factors_test, seed
    )
    return {
        "disentanglement": disentanglement_score(r),
        "completeness": completeness_score(r),
        "informativeness_train": float(np.mean(train_acc)),
        "informativeness_test": float(np.mean(test_acc)),
        "importance": r,
    }
