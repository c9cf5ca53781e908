"""The sweep grid: ``--grid key=v1,v2`` specs, their cartesian product, and one name per run.

A grid is an ordered mapping from a dotted config key (any field ``--set`` accepts) to the raw
values typed for it. The runs are the cartesian product in the order the keys were given, the
last key varying fastest, like nested loops written in that order. Each run's config is the
sweep's base config with the run's values set on top, so everything not varied is shared.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass

from ..config import RunConfig, valid_keys, validate
from ..errors import UserError

# Names longer than this are cut and made unique with a hash: directory names have limits
# (255 bytes) and a path that long is unreadable anyway.
MAX_NAME = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9.+-]+")


@dataclass(frozen=True)
class Point:
    """One run of the sweep: its directory name and the raw values of the varied keys."""

    name: str
    values: dict[str, str]


def parse_grid(specs: list[str] | None) -> dict[str, list[str]]:
    """``["balancer.beta=0.1,1", "train.seed=0,1"]`` as ``{key: [raw values]}``, in order."""
    grid: dict[str, list[str]] = {}
    for spec in specs or []:
        key, sep, text = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--grid takes section.field=v1,v2,...; got {spec!r}")
        if key in grid:
            raise UserError(f"--grid names {key} twice; give all its values in one --grid")
        values = split_values(text)
        if not values:
            raise UserError(f"--grid {key} has no values; give them as {key}=v1,v2,...")
        if "" in values:
            raise UserError(f"--grid {key} has an empty value in {text!r}")
        if len(set(values)) < len(values):
            raise UserError(f"--grid {key} repeats a value in {text!r}")
        grid[key] = values
    if not grid:
        raise UserError("empty grid: give at least one --grid section.field=v1,v2,...")
    return grid


def split_values(text: str) -> list[str]:
    """Split at commas outside brackets, so ``[32],[64,32]`` is two list values."""
    values, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "[{("
        depth -= char in "]})"
        if char == "," and depth == 0:
            values.append(text[start:i].strip())
            start = i + 1
    values.append(text[start:].strip())
    return [] if values == [""] else values


def check_keys(grid: dict[str, list[str]], base: RunConfig) -> None:
    """Every grid key must be a config field; the error lists the valid ones."""
    varied_names = {k.partition(".")[0]: v for k, v in grid.items() if k.endswith(".name")}
    for key in grid:
        section = key.partition(".")[0]
        valid = set(valid_keys(base))
        for name in varied_names.get(section, []):  # a varied component brings its parameters
            try:
                probe = base.with_value(f"{section}.name", name)
            except UserError:
                continue  # a bad name is reported with its run's config
            valid |= set(valid_keys(probe))
        if key not in valid:
            raise UserError(
                f"--grid key {key!r} is not a config field; valid keys: {', '.join(sorted(valid))}"
            )


def expand(grid: dict[str, list[str]]) -> list[Point]:
    """The cartesian product of the grid's values, each with a unique, filesystem-safe name."""
    keys = list(grid)
    combos = [dict(zip(keys, values)) for values in itertools.product(*grid.values())]
    names = [run_name(values, _labels(keys)) for values in combos]
    taken = {n for n in names if names.count(n) == 1}
    points = []
    for name, values in zip(names, combos):
        if name not in taken:  # two values that sanitize alike ("[32, 16]" and "[32,16]")
            name = f"{name[: MAX_NAME - 9]}-{_digest(values)}"
        points.append(Point(name, values))
    return points


def run_name(values: dict[str, str], labels: dict[str, str]) -> str:
    """``{"balancer.beta": "0.1", "model.hidden": "[64,32]"}`` -> ``beta-0.1_hidden-64_32``."""
    parts = [f"{labels[k]}-{_UNSAFE.sub('_', v).strip('_')}" for k, v in values.items()]
    name = "_".join(parts)
    if len(name) > MAX_NAME:
        name = f"{name[: MAX_NAME - 9]}-{_digest(values)}"
    return name


def _labels(keys: list[str]) -> dict[str, str]:
    """The field name alone where it is unambiguous (``beta``), else the whole key."""
    fields = [k.rpartition(".")[2] for k in keys]
    return {k: f if fields.count(f) == 1 else k.replace(".", "-") for k, f in zip(keys, fields)}


def _digest(values: dict[str, str]) -> str:
    return hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()[:8]


def point_config(base: RunConfig, point: Point) -> RunConfig:
    """The base config with the point's values set: component names first, since the
    parameters a likelihood or balancer accepts depend on which one it is."""
    cfg = base
    ordered = sorted(point.values.items(), key=lambda kv: not kv[0].endswith(".name"))
    for key, value in ordered:
        try:
            cfg = cfg.with_value(key, value)
        except UserError as e:
            raise UserError(f"run {point.name}: {e}") from None
    try:
        validate(cfg)
    except UserError as e:
        raise UserError(f"run {point.name}: {e}") from None
    return cfg
