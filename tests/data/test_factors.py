"""Factors files: read safely, split like the examples, refused when they do not fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaebalance.data import load_dataset
from vaebalance.data.factors import read_factors
from vaebalance.data.registry import load_from_source
from vaebalance.errors import UserError


def test_factors_follow_the_seeded_split(tmp_path):
    x = np.arange(40, dtype=np.float32).reshape(40, 1) / 40
    np.save(tmp_path / "x.npy", x)
    # Factor 0 is the example's own row number: after the split it must still match the example.
    np.save(tmp_path / "f.npy", np.stack([np.arange(40), np.arange(40) % 3], axis=1))
    data = load_dataset(tmp_path / "x.npy", test_fraction=0.25, seed=5, factors=tmp_path / "f.npy")
    for xs, fs in ((data.train, data.factors_train), (data.test, data.factors_test)):
        assert torch.allclose(xs[:, 0], fs[:, 0].float() / 40)
    reloaded = load_from_source(data.source)  # a run finds its factors again
    assert torch.equal(reloaded.factors_test, data.factors_test)


def test_csv_with_header_and_npz_with_names(tmp_path):
    (tmp_path / "f.csv").write_text("shape,size\n0,1\n2,3\n")
    classes, names = read_factors(tmp_path / "f.csv")
    assert classes.tolist() == [[0, 1], [2, 3]] and names == ("shape", "size")
    np.savez(tmp_path / "f.npz", factors=np.array([[1], [2]]), names=np.array(["colour"]))
    classes, names = read_factors(tmp_path / "f.npz")
    assert classes.tolist() == [[1], [2]] and names == ("colour",)


def test_pickled_objects_are_refused(tmp_path):
    np.save(tmp_path / "f.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UserError, match="not loaded for safety"):
        read_factors(tmp_path / "f.npy")


@pytest.mark.parametrize(
    ("content", "match"),
    [("0.5,1\n", "must be integer classes"), ("a,b\n1\n", "has 1 values, expected 2")],
)
def test_bad_csv(tmp_path, content, match):
    (tmp_path / "f.csv").write_text(content)
    with pytest.raises(UserError, match=match):
        read_factors(tmp_path / "f.csv")


def test_length_must_match(tmp_path):
    np.save(tmp_path / "f.npy", np.zeros((5, 1), dtype=int))
    with pytest.raises(UserError, match="has 5 rows but the data has 1797 examples"):
        load_dataset("digits", factors=tmp_path / "f.npy")
