"""study.md's tables and study.csv's rows for cells that failed or have not ended."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vaebalance.report.study_tables import markdown_tables
from vaebalance.schema import StudyRow, SweepRow
from vaebalance.sweeps.results import Sweep
from vaebalance.sweeps.study import QUICK, study_rows


def _plan():
    return replace(QUICK, sizes=(4,), latent_dims=(2,), conventions=("normalized", "geco"))


def test_a_failed_cell_is_a_row_with_its_error_and_an_unended_one_is_incomplete(tmp_path):
    failed = SweepRow.of("convention-normalized_size-4_latent_dim-2", {}, "failed", {}, 1.0,
                         "ValueError: boom")  # fmt: skip
    rows = study_rows(_plan(), Sweep(Path(tmp_path), _plan().grid(), [failed]))
    assert [(r.convention, r.status) for r in rows] == [("normalized", "failed"),
                                                        ("geco", "incomplete")]  # fmt: skip
    assert rows[0].error == "ValueError: boom" and rows[0].input_dim == 16
    assert rows[0].effective_beta == 0.05 * 16 / 2  # fixed: known without training
    assert rows[1].effective_beta is None and rows[1].mse_per_element is None


def test_tables_have_a_row_per_convention_and_a_column_per_cell():
    rows = [
        StudyRow(convention="a", image_side=4, input_dim=16, latent_dim=2, status="finished",
                 active_units=2, mse_per_element=0.0123),
        StudyRow(convention="a", image_side=8, input_dim=64, latent_dim=2, status="failed",
                 error="boom"),
        StudyRow(convention="b", image_side=4, input_dim=16, latent_dim=2, status="finished",
                 active_units=0, mse_per_element=0.5),
    ]  # fmt: skip
    text = markdown_tables(rows, "t")
    assert "| convention | 4² J=2 | 8² J=2 |" in text
    assert "| a | 2 | — |" in text and "| b | 0 | — |" in text
    assert "| a | 0.0123 | — |" in text
    assert "mig" not in text.lower()  # no cell has it: no table
    assert "a 8² J=2: failed boom" in text
