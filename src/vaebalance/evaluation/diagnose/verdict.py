"""A finding of ``diagnose``: a code, a severity, the reasoning in plain words, what to change."""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["ok", "warning", "problem"]
ORDER = {"problem": 0, "warning": 1, "ok": 2}


@dataclass(frozen=True)
class Verdict:
    """One finding.

    Attributes:
        code: stable identifier, e.g. ``"posterior-collapse"``.
        severity: ``"ok"``, ``"warning"`` or ``"problem"``.
        title: a few words.
        message: the finding with the numbers behind it.
        option: the vaebalance option to change (a command-line fragment or a config key).
        numbers: the numbers the verdict was decided on.
    """

    code: str
    severity: Severity
    title: str
    message: str
    option: str = ""
    numbers: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def format_verdicts(verdicts: list[Verdict], width: int = 88) -> str:
    """The verdicts as terminal text: severity and title, the message wrapped, the option."""
    lines = []
    for v in verdicts:
        lines.append(f"{v.severity.upper():8} {v.title}")
        lines += textwrap.wrap(v.message, width, initial_indent="  ", subsequent_indent="  ")
        if v.option:
            lines.append(f"  change: {v.option}")
    return "\n".join(lines)
