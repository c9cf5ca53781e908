"""What a report's tables and images are made of: values as text, PNGs as data URIs."""

from __future__ import annotations

import base64
import json


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def config_rows(config: dict, prefix: str = "") -> list[tuple[str, str]]:
    """A nested config as ``(section.field, JSON value)`` pairs: one line per setting."""
    rows = []
    for key, value in config.items():
        if isinstance(value, dict) and value:
            rows += config_rows(value, f"{prefix}{key}.")
        else:
            rows.append((prefix + key, json.dumps(value, ensure_ascii=False)))
    return rows


def number(value, digits: int = 4) -> str:
    """A metric for a table: 4 significant digits, integers as they are, '—' when missing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)
