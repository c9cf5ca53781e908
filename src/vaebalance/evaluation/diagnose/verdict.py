"""A finding of ``diagnose``: a code, a severity, the reasoning in plain words, what to change."""

from __future__ import annotations

import shlex
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
        option: what to change, in words or as the command-line arguments below.
        numbers: the numbers the verdict was decided on.
        fix_args: arguments that apply the fix: ``vaebalance train --from RUN <fix_args>``
            (empty when the fix is not a config change).
    """

    code: str
    severity: Severity
    title: str
    message: str
    option: str = ""
    numbers: dict = field(default_factory=dict)
    fix_args: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {**asdict(self), "fix_args": list(self.fix_args)}


def format_verdicts(verdicts: list[Verdict], width: int = 88) -> str:
    """The verdicts as terminal text: severity and title, the message wrapped, the option."""
    lines = []
    for v in verdicts:
        lines.append(f"{v.severity.upper():8} {v.title}")
        lines += textwrap.wrap(v.message, width, initial_indent="  ", subsequent_indent="  ")
        if v.fix_args:
            lines.append(f"  fix: vaebalance train --from RUN {shlex.join(v.fix_args)}")
        elif v.option:
            lines.append(f"  change: {v.option}")
    return "\n".join(lines)
