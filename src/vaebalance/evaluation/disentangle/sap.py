"""SAP, the separated attribute predictability score (Kumar et al. 2018).

disentanglement_lib's discrete version (``sap_score.py``, ``sap_score.gin``): S[i, k] is the
test accuracy of ``LinearSVC(C=0.01, class_weight="balanced")`` trained on the single code z_i
to predict factor k's class; SAP = mean_k (S_(1)k − S_(2)k), the gap between the two codes
that predict factor k best. The solver is pinned (``dual=False``, the primal problem sklearn's
``"auto"`` picks when examples outnumber features) so results repeat.
"""

from __future__ import annotations

import warnings

import numpy as np

C = 0.01


def score_matrix(codes_train, factors_train, codes_test, factors_test) -> np.ndarray:
    """S ``[J, F]``: test accuracy of a linear SVM on code i alone for factor k."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    s = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    for i in range(codes_train.shape[1]):
        x_train, x_test = codes_train[:, i : i + 1], codes_test[:, i : i + 1]
        for k in range(factors_train.shape[1]):
            y_train, y_test = factors_train[:, k], factors_test[:, k]
            if len(np.unique(y_train)) < 2:  # one class: every prediction is that class
                s[i, k] = np.mean(y_test == y_train[0])
                continue
            model = LinearSVC(C=C, class_weight="balanced", dual=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(x_train, y_train)
            s[i, k] = np.mean(model.predict(x_test) == y_test)
    return s


def gap_top_two(s: np.ndarray) -> float:
    """mean_k (S_(1)k − S_(2)k) over the columns of ``s`` ([J, F])."""
    ordered = np.sort(s, axis=0)[::-1]
    second = ordered[1] if s.shape[0] > 1 else np.zeros(s.shape[1])
    return float(np.mean(ordered[0] - second))


def sap(codes_train, factors_train, codes_test, factors_test) -> float:
    """The SAP score of codes ``[N, J]`` for integer factors ``[N, F]``."""
    return gap_top_two(score_matrix(codes_train, factors_train, codes_test, factors_test))
