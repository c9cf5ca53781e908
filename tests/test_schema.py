"""The metrics schema: units on every field, JSON round trips, and no key spelled elsewhere."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import pickle
from pathlib import Path

import pytest

from vaebalance import balancers, config, likelihoods
from vaebalance.data import Dataset
from vaebalance.schema import KEYS, RECORDS, EpochRecord, Evaluation, RunMetrics, SweepRow

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "vaebalance"


def _identifiers() -> set[str]:
    """Names that are also config fields, component parameters, dataset fields or functions a
    package exports lazily (``evaluation.kl_per_dim``): a string equal to one of these is not
    necessarily a metric key."""
    names = {n for n in dir(Dataset) if not n.startswith("_")}
    for package in ("vaebalance", "vaebalance.evaluation", "vaebalance.objective"):
        names |= set(getattr(importlib.import_module(package), "_LAZY", {}))
    cfg = config.RunConfig()
    for section in dataclasses.fields(cfg):
        names |= {f.name for f in dataclasses.fields(getattr(cfg, section.name))}
    for registry in (balancers, likelihoods):
        for name in registry.names():
            names |= set(registry.parameters(name))
    return names


def test_no_metric_key_is_spelled_outside_the_schema():
    # One-word keys (run, status, beta, loss) are ordinary words too; the scan is for the
    # compound keys that name a measurement and its unit.
    metric_keys = {k for k in KEYS if "_" in k} - _identifiers()
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "schema.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in metric_keys:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert found == []


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.__name__)
def test_every_field_has_a_unit_and_a_label(record):
    for column in record.columns():
        assert isinstance(column.unit, str) and column.label


def test_json_round_trip_keeps_unknown_keys_and_drops_unmeasured():
    m = RunMetrics(rate_nats=3.5, kl_per_dim=[1.0, 2.5], epochs=2, extra={"custom": "x"})
    data = json.loads(json.dumps(m.to_json()))
    assert data == {"rate_nats": 3.5, "kl_per_dim": [1.0, 2.5], "epochs": 2, "custom": "x"}
    back = RunMetrics.from_json(data)
    assert back == m and back.extra == {"custom": "x"} and back.distortion_nats is None


def test_records_are_read_only_dicts_and_pickle():
    e = Evaluation(rate_nats=1.0)
    assert e["rate_nats"] == 1.0 and e.get("psnr_db") is None
    with pytest.raises(TypeError, match="read-only"):
        e["rate_nats"] = 2.0
    changed = e.replace(rate_nats=2.0)
    assert changed.rate_nats == 2.0 and changed["rate_nats"] == 2.0 and e.rate_nats == 1.0
    assert pickle.loads(pickle.dumps(changed)) == changed


def test_epoch_record_spreads_the_balancer_state_into_columns_and_back():
    r = EpochRecord(epoch=1, split="train", beta=0.5, balancer={"lambda": 2.0, "note": [1]})
    row = r.to_json()
    assert row["balancer_lambda"] == 2.0 and "balancer_note" not in row  # scalars only
    assert EpochRecord.from_json(row).balancer == {"lambda": 2.0}


def test_sweep_row_columns_in_csv_order_and_back():
    row = SweepRow.of("beta-1", {"balancer.beta": "1"}, "finished", {"rate_nats": float("nan"),
                      "distortion_nats": 4.0}, 1.23456)  # fmt: skip
    data = row.to_json()
    assert list(data)[:3] == ["run", "balancer.beta", "status"]
    assert data["rate_nats"] is None and data["wall_seconds"] == 1.235  # NaN never leaks
    assert SweepRow.from_row(data, ["balancer.beta"]) == row


def test_field_names_as_attributes_fail_loudly_when_misspelt():
    assert RunMetrics.key.rate_nats == "rate_nats" and SweepRow.key.wall_seconds == "wall_seconds"
    with pytest.raises(AttributeError, match="no field 'rate'"):
        RunMetrics.key.rate  # noqa: B018
