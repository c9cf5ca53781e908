"""CSV files: header detection, values kept as given (min-max only for old runs), refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vaebalance.data import load_csv_dataset, load_dataset
from vaebalance.errors import UserError


def write_csv(path, rows, header=None):
    lines = ([",".join(header)] if header else []) + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table(n: int = 20) -> np.ndarray:
    """Columns: a unique id, a wide-range float, a negative int."""
    rng = np.random.default_rng(1)
    return np.column_stack([np.arange(n), rng.normal(50, 30, n), -rng.integers(0, 9, n)])


def rows_of(tensor) -> list[tuple]:
    return sorted(map(tuple, tensor.double().numpy().round(4).tolist()))


def test_header_and_values_kept_as_given(tmp_path):
    values = table()
    path = write_csv(tmp_path / "t.csv", values.tolist(), header=["id", "height", "depth"])
    data = load_dataset(str(path), test_fraction=0.25, seed=2)
    assert data.shape == (3,) and data.train.dtype == torch.float32
    assert (len(data.train), len(data.test)) == (15, 5)
    assert data.scaling == {"columns": ["id", "height", "depth"]}
    # Negative and wide-range columns arrive unchanged: no min-max squeeze into [0, 1].
    both = torch.cat([data.train, data.test])
    assert rows_of(both) == rows_of(torch.from_numpy(values.astype(np.float32)))
    assert float(both.min()) < 0 and float(both.max()) > 1
    json.dumps({"scaling": data.scaling, "source": data.source})  # saved with the run


def test_sources_of_old_runs_reload_min_max_scaled(tmp_path):
    """A run written by 0.2.0 stored a source without "scaling": it saw min-max scaled data,
    and reloading must give it the same numbers."""
    values = table(40)
    path = write_csv(tmp_path / "t.csv", values.tolist())
    new = load_csv_dataset(path, "t", test_fraction=0.5, seed=0)
    old_source = {k: v for k, v in new.source.items() if k != "scaling"}
    data = load_dataset(old_source)
    low, high = np.array(data.scaling["min"]), np.array(data.scaling["max"])
    train = new.train.double().numpy()
    np.testing.assert_allclose(low, train.min(0), rtol=1e-6)
    np.testing.assert_allclose(high, train.max(0), rtol=1e-6)
    expected = np.clip((new.test.double().numpy() - low) / (high - low), 0, 1)
    np.testing.assert_allclose(data.test.double().numpy(), expected, atol=1e-6)
    assert load_dataset(new.source).scaling == {"columns": ["col1", "col2", "col3"]}


def test_without_header_every_row_is_data(tmp_path):
    values = table(10)
    data = load_dataset(str(write_csv(tmp_path / "t.csv", values.tolist())), test_fraction=0.2)
    assert len(data.train) + len(data.test) == 10
    assert data.scaling["columns"] == ["col1", "col2", "col3"]


def test_non_numeric_cell_names_line_column_and_value(tmp_path):
    path = write_csv(tmp_path / "t.csv", [[1, 2], [3, "abc"], [5, 6]], header=["a", "b"])
    with pytest.raises(
        UserError, match=f"{path} line 3, column 2 \\('b'\\): 'abc' is not a number"
    ):
        load_dataset(str(path))


def test_empty_cell_is_named(tmp_path):
    path = write_csv(tmp_path / "t.csv", [[1, 2], ["", 4]])
    with pytest.raises(UserError, match="line 2, column 1 \\('col1'\\): '' is not a number"):
        load_dataset(str(path))


def test_non_finite_cell_is_named(tmp_path):
    path = write_csv(tmp_path / "t.csv", [[1, 2], [3, "inf"], ["nan", 1]], header=["a", "b"])
    with pytest.raises(UserError, match=r"line 3, column 2 \('b'\): 'inf' is not finite \(2 non"):
        load_dataset(str(path))


def test_ragged_row_is_named(tmp_path):
    path = write_csv(tmp_path / "t.csv", [[1, 2], [3, 4, 5]], header=["a", "b"])
    with pytest.raises(UserError, match=f"{path} line 3 has 3 values, expected 2 columns"):
        load_dataset(str(path))


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", "holds no rows"), (b"a,b\n", "holds only a header row"), (b"\xff\xfe1,2", "UTF-8")],
)
def test_empty_or_undecodable_files(tmp_path, content, problem):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=f"{path} .*{problem}"):
        load_dataset(str(path))


def test_byte_order_mark_and_blank_lines_are_tolerated(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\ufeffx,y\n1,2\n\n3,4\n5,6\n", encoding="utf-8")
    data = load_dataset(str(path), test_fraction=0.34)
    assert data.scaling["columns"] == ["x", "y"] and len(data.train) == 2


@pytest.mark.parametrize("shift", [-1, 1])
def test_a_file_that_changes_between_the_two_passes_is_refused(tmp_path, monkeypatch, shift):
    """The CSV is read twice (shape, then values); rows added or removed in between."""
    from vaebalance.data import tabular

    path = write_csv(tmp_path / "t.csv", table(10).tolist())
    scan = tabular.scan
    monkeypatch.setattr(tabular, "scan", lambda p: (lambda c, n, h: (c, n + shift, h))(*scan(p)))
    with pytest.raises(UserError, match=f"{path} changed while it was read"):
        load_dataset(str(path))
