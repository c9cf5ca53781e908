"""The observational factor metrics on synthetic codes whose structure is known by construction,
and MIG against a brute-force computation of its definition."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from vaebalance.errors import UserError
from vaebalance.evaluation import disentanglement
from vaebalance.evaluation.disentangle.dci import completeness_score, disentanglement_score
from vaebalance.evaluation.disentangle.mig import histogram_discretize, mig, mutual_info_matrix
from vaebalance.evaluation.disentangle.modularity import modularity

SIZES = (3, 4, 4)  # few classes keep the boosted trees fast
N = 450
KEYS = ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap",
        "modularity", "explicitness")  # fmt: skip


@pytest.fixture(scope="module")
def factors() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.stack([rng.integers(0, s, N) for s in SIZES], axis=1)


def perfect(factors, noise=0.02, seed=1):
    """Each code is one factor's class plus a little noise."""
    rng = np.random.default_rng(seed)
    return factors + noise * rng.normal(size=factors.shape)


@pytest.fixture(scope="module")
def scores(factors):
    rng = np.random.default_rng(2)
    good = perfect(factors)
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    return {
        "perfect": disentanglement(good, factors),
        "random": disentanglement(rng.normal(size=good.shape), factors),
        "rotated": disentanglement(good @ rotation, factors),
        "split": disentanglement(np.c_[good[:, 1:], good[:, :1] + good[:, :1] ** 2], factors),
    }


def test_perfect_code_scores_near_the_top(scores):
    s = scores["perfect"]
    assert s.mig > 0.9 and s.modularity > 0.95
    assert s.dci_disentanglement > 0.9 and s.dci_completeness > 0.9
    assert s.dci_informativeness > 0.95 and s.explicitness > 0.95
    # SAP's top is lower: a linear one-vs-rest SVM on a single code separates the end classes
    # but not every middle one (about 0.7 accuracy for 3–4 classes), and the runner-up code
    # scores chance (1/3–1/4); the gap is at most about 0.45 here.
    assert s.sap > 0.35


def test_random_code_scores_near_the_bottom(scores):
    s = scores["random"]
    assert s.mig < 0.05 and s.dci_disentanglement < 0.2 and s.sap < 0.05
    assert s.explicitness < 0.6  # ROC AUC: 0.5 is chance
    assert s.dci_informativeness < 0.5  # chance is about 1/3 here


def test_a_rotation_lowers_the_disentanglement_scores(scores):
    p, r = scores["perfect"], scores["rotated"]
    for key in ("mig", "dci_disentanglement", "sap", "modularity"):
        assert r[key] < p[key] - 0.1, key
    assert r.explicitness > 0.9  # a rotation keeps the information, linearly decodable


def test_splitting_a_factor_over_two_codes_lowers_mig(factors):
    good = perfect(factors)
    # Factor 0's information over two codes: each sees half the classes' distinctions.
    f0 = factors[:, 0]
    split = np.c_[(f0 >= 1) + 0.02 * good[:, 1], (f0 >= 2) + 0.02 * good[:, 2], good[:, 1:]]
    assert split.shape[1] == 4
    assert mig(split, factors) < mig(good, factors) - 0.3


def test_deterministic(factors):
    codes = perfect(factors, noise=0.3)
    assert disentanglement(codes, factors, seed=4) == disentanglement(codes, factors, seed=4)


def test_keys_and_matrix(scores):
    s = scores["perfect"]
    assert all(isinstance(s[k], float) for k in KEYS)
    m = np.array(s.factor_mi_nats)
    assert m.shape == (3, 3) and (m >= 0).all()
    assert (m.argmax(axis=0) == np.arange(3)).all()  # code k carries factor k
    assert s.factor_entropy_nats == pytest.approx([math.log(n) for n in SIZES], abs=0.05)


# --- MIG against brute force ---------------------------------------------------------------


def brute_bins(values: list[float], bins: int = 20) -> list[int]:
    """Label 1..bins of equal-width bins between min and max; the max goes in the last bin."""
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins
    return [min(int((v - lo) / width), bins - 1) + 1 for v in values]


def brute_mi(a: list, b: list) -> float:
    n = len(a)
    joint, pa, pb = Counter(zip(a, b)), Counter(a), Counter(b)
    return sum(c / n * math.log(c * n / (pa[x] * pb[y])) for (x, y), c in joint.items())


def brute_mig(codes: np.ndarray, factors: np.ndarray) -> float:
    gaps = []
    for k in range(factors.shape[1]):
        v = factors[:, k].tolist()
        mis = sorted(brute_mi(brute_bins(codes[:, j].tolist()), v) for j in range(codes.shape[1]))
        gaps.append((mis[-1] - mis[-2]) / brute_mi(v, v))
    return sum(gaps) / len(gaps)


@pytest.mark.parametrize("noise", [0.01, 0.2, 1.0])
def test_mig_matches_brute_force(factors, noise):
    codes = perfect(factors, noise=noise, seed=7)
    assert mig(codes, factors) == pytest.approx(brute_mig(codes, factors), abs=1e-12)


def test_histogram_bins_match_brute_force():
    x = np.random.default_rng(3).normal(size=(200, 2))
    got = histogram_discretize(x)
    for j in range(2):
        assert got[:, j].tolist() == brute_bins(x[:, j].tolist())


def test_mi_of_a_code_equal_to_the_factor_is_its_entropy(factors):
    m = mutual_info_matrix(factors, factors)  # already discrete
    for k, size in enumerate(SIZES):
        v = factors[:, k].tolist()
        assert m[k, k] == pytest.approx(brute_mi(v, v))
        assert m[k, k] <= math.log(size) + 1e-12


# --- closed forms of DCI and modularity ----------------------------------------------------


def test_dci_closed_forms():
    assert disentanglement_score(np.eye(3)) == pytest.approx(1.0, abs=1e-8)
    assert completeness_score(np.eye(3)) == pytest.approx(1.0, abs=1e-8)
    assert disentanglement_score(np.ones((3, 3))) == pytest.approx(0.0, abs=1e-8)
    # One code for both factors: each code's row is one-hot (D = 1), factor 0 spread over 2.
    r = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    assert disentanglement_score(r) == pytest.approx(1.0, abs=1e-8)
    c0 = 1 - math.log(2) / math.log(3)  # H_3 of (½, ½, 0)
    assert completeness_score(r) == pytest.approx(0.5 * c0 + 0.5 * 1.0, abs=1e-8)


def test_modularity_closed_form():
    m = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    # Code 0: δ = 0 → 1. Code 1: δ = (2 − 1) / (1 · 2) = ½ → ½. Code 2 knows nothing → 0.
    assert modularity(m) == pytest.approx((1 + 0.5 + 0) / 3)


def test_bad_inputs():
    with pytest.raises(UserError, match="rows"):
        disentanglement(np.zeros((5, 2)), np.zeros((4, 1), dtype=int))
    with pytest.raises(UserError, match="integer classes"):
        disentanglement(np.zeros((5, 2)), np.full((5, 1), 0.5))


def test_three_examples_are_enough():
    # The documented minimum: 3 examples are scored (here a code that cannot be told from its
    # factor by so few), 2 are refused.
    factors = np.array([[0], [1], [0]])
    codes = factors + 0.01 * np.arange(3)[:, None]
    result = disentanglement(codes, factors)
    assert all(math.isfinite(result[k]) for k in ("mig", "sap", "modularity", "explicitness"))
    with pytest.raises(UserError, match="at least 3 examples, got 2"):
        disentanglement(codes[:2], factors[:2])
