"""Config files: JSON, YAML or TOML, read into a dict with one-line errors."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from ..errors import UserError


def read_config_file(path: str | Path) -> dict:
    """A JSON, YAML or TOML file as a dict."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no such config file: {path}")
    text = path.read_text()
    try:
        if path.suffix == ".json":
            return json.loads(text)
        if path.suffix in (".yaml", ".yml"):
            import yaml  # only config files need it

            return yaml.safe_load(text) or {}
        if path.suffix == ".toml":
            return tomllib.loads(text)
    except Exception as e:  # any parse error is the user's file, reported in one line
        raise UserError(f"cannot parse config file {path}: {str(e).splitlines()[0]}") from None
    raise UserError(f"config file {path} must end in .json, .yaml, .yml or .toml")
