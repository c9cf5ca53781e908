"""The report says what a number includes or cannot tell, next to the number."""

from __future__ import annotations

import math

from vaebalance.report.run_page import _metric_rows, metric_notes
from vaebalance.schema import RunMetrics


def test_eight_bit_correction_negative_elbo_and_a_saturated_mutual_information_are_noted():
    n = 30
    m = RunMetrics(neg_elbo_nats=-8946.0, bits_per_dim=6.95, discretization_bits=8,
                   mutual_info_nats=0.99 * math.log(n), mutual_info_bound_nats=math.log(n),
                   rate_nats=12.0)  # fmt: skip
    notes = metric_notes(m)
    assert set(notes) == {"bits_per_dim", "neg_elbo_nats", "mutual_info_nats"}
    assert "Includes 8 bits/dim" in notes["bits_per_dim"]
    assert f"log N = {math.log(n):.3g}" in notes["mutual_info_nats"]
    marks = {row["key"]: row["mark"] for row in _metric_rows(m)}
    assert marks["rate_nats"] == "" and len({marks[k] for k in notes}) == 3


def test_nothing_to_note_on_plain_numbers():
    m = RunMetrics(neg_elbo_nats=95.0, bits_per_dim=0.17, mutual_info_nats=2.0,
                   mutual_info_bound_nats=math.log(10_000))  # fmt: skip
    assert metric_notes(m) == {}
