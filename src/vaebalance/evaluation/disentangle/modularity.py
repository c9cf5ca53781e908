"""Modularity and explicitness (Ridgeway & Mozer 2018), as disentanglement_lib computes them
(``modularity_explicitness.py``, ``modularity_explicitness.gin``).

- Modularity, from the 20-bin MI matrix m ``[J, F]`` of MIG: for each code i,
  θ_i = max_k m_ik and δ_i = (Σ_k m_ik² − θ_i²) / (θ_i² (F − 1)); the code scores 1 − δ_i
  (0 when θ_i = 0, a code that knows nothing); modularity is the mean over codes. It is 1 when
  each code carries information about one factor only, whichever factor that is.
- Explicitness: codes standardised with the training mean and standard deviation; for each
  factor a ``LogisticRegression`` (lbfgs, sklearn's defaults, seeded) predicts its class from
  all codes, scored by the macro one-vs-rest ROC AUC of its probabilities; the mean over
  factors. 0.5 is chance, 1 a linearly decodable factor.
"""

from __future__ import annotations

import warnings

import numpy as np


def modularity(m: np.ndarray) -> float:
    """Mean over codes of 1 − δ_i for an MI matrix ``m [J, F]``."""
    squared = m**2
    top = squared.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (squared.sum(axis=1) - top) / (top * max(m.shape[1] - 1, 1))
    score = np.where(top == 0, 0.0, 1.0 - delta)
    return float(np.mean(score))


def explicitness(codes_train, factors_train, codes_test, factors_test, seed=0) -> dict:
    """``train`` and ``test``: mean over factors of the macro ROC AUC of a logistic regression."""
    mean, std = codes_train.mean(axis=0), codes_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant code stays 0 rather than dividing by 0
    x_train, x_test = (codes_train - mean) / std, (codes_test - mean) / std
    train, test = [], []
    for k in range(factors_train.shape[1]):
        y_train, y_test = factors_train[:, k], factors_test[:, k]
        if len(np.unique(y_train)) < 2:
            continue  # nothing to separate
        model = _fit(x_train, y_train, seed)
        train.append(_auc(y_train, model.predict_proba(x_train), model.classes_))
        test.append(_auc(y_test, model.predict_proba(x_test), model.classes_))
    return {
        "train": float(np.nanmean(train)) if train else 0.0,
        "test": float(np.nanmean(test)) if test else 0.0,
    }


def _fit(x, y, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(solver="lbfgs", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def _auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """Macro one-vs-rest ROC AUC over the classes that have positives and negatives in y."""
    from sklearn.metrics import roc_auc_score

    aucs = []
    for c, label in enumerate(classes):
        positive = y == label
        if 0 < positive.sum() < len(y):
            aucs.append(roc_auc_score(positive, proba[:, c]))
    return float(np.mean(aucs)) if aucs else float("nan")
