"""What ``vaebalance tune`` prints: a line per run (stderr), then the table, the chosen run,
why, and the command that reproduces or extends it (stdout)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..schema import TuneRow
from ..sweeps.tune import Target
from ..sweeps.tuning import TUNE_CSV, TUNE_JSON, TuneResult

COLUMNS = TuneRow.TABLE


class TuneConsole:
    def __init__(self, target: Target, tolerance: float, quiet: bool = False):
        self.target, self.tolerance, self.quiet = target, tolerance, quiet

    def start(self, path: Path, max_runs: int) -> None:
        if not self.quiet:
            print(
                f"tune {path}: {self.target.label} = {self.target.value:g} ± "
                f"{self.tolerance:.0%}, at most {max_runs} runs (repeat the command with "
                f"--out {path} to resume)",
                file=sys.stderr,
            )

    def row(self, row: TuneRow, before: bool) -> None:
        if self.quiet:
            return
        if not row.finished:
            print(f"{row.run}: {row.status}: {row.error}", file=sys.stderr)
            return
        when = "finished before" if before else f"{row.wall_seconds:.0f} s"
        print(
            f"{row.run}: {self._reached(row)}; rate {row.rate_nats:.4g} nats, "
            f"{row.active_units} active units ({when})",
            file=sys.stderr,
        )

    def _reached(self, row: TuneRow) -> str:
        off = row.relative_error
        side = "above" if off > 0 else "below"
        return (
            f"{self.target.label} {row[self.target.key]:.4g}, {abs(off):.1%} {side} the target "
            f"{self.target.value:g}"
        )

    def report(self, result: TuneResult, plot: Path) -> None:
        _table(result)
        for row in result.rows:
            if not row.finished:
                print(f"{row.run} {row.status}: {row.error}; fix the cause and repeat the "
                      "command to train it again")  # fmt: skip
        chosen = result.chosen
        n = len(result.rows)
        if chosen is None:
            print("no run finished, so there is nothing to choose")
        elif result.reached:
            print(f"chosen: {chosen.run} ★ — {self._reached(chosen)}, within ±"
                  f"{self.tolerance:.0%}, in {n} run{'s' * (n > 1)}")  # fmt: skip
        else:
            print(f"no run came within ±{self.tolerance:.0%} in {n} runs "
                  f"({_why_stopped(result)}); closest: {chosen.run} ★ — "
                  f"{self._reached(chosen)}")  # fmt: skip
        if chosen is not None:
            print(f"why: {_why(result)}")
            for note in result.notes:
                print(f"note: {note}")
        print(f"results: {result.path / TUNE_CSV}, {result.path / TUNE_JSON}, {plot}")
        if chosen is not None:
            print(f"reproduce it (add --epochs N to train it longer): vaebalance train --from "
                  f"{result.path / chosen.run} --out runs/{chosen.run}")  # fmt: skip


def _why_stopped(result: TuneResult) -> str:
    if result.stopped == "repeat":
        return (
            "the search proposed a β it had tried: the metric is not monotone in β at this "
            "scale (training noise); a looser --tolerance or more epochs smooth it"
        )
    if result.stopped == "plateau":
        first, last = sorted(r.beta for r in result.rows[-2:])
        return (
            f"the metric stopped following β between β = {first:g} and {last:g}: the target "
            "is beyond what this model reaches in this budget; a larger model, more latent "
            "dimensions or more epochs move that limit"
        )
    if result.stopped == "failed":
        return "a run failed"
    return f"--max-runs {len(result.rows)} reached; repeat with a larger --max-runs to go on"


def _why(result: TuneResult) -> str:
    """One sentence: where the search started and how it got to the chosen β."""
    first, chosen = result.rows[0], result.chosen
    start = (
        f"the first run took the σ-VAE balance β = {result.first_beta:g} (β·σ² = the target MSE "
        "under a fixed-σ Gaussian decoder)"
        if result.target.key != TuneRow.key.rate_nats
        else f"the first run took β = {result.first_beta:g} (a 20 dB reconstruction's balance)"
    )
    reached = f"{result.target.label} {first[result.target.key]:.4g}"
    if chosen.run == first.run:
        return f"{start} and reached {reached}"
    return f"{start} and reached {reached}; secant steps in log β moved it to β = {chosen.beta:g}"


def _table(result: TuneResult) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"tune — {result.path}", box=box.SIMPLE_HEAD)
    table.add_column("run", no_wrap=True)
    for key in COLUMNS:
        column = TuneRow.column(key)
        table.add_column(column.label, justify="left" if key == "status" else "right")
    chosen = result.chosen.run if result.chosen else None
    for row in result.rows:
        mark = " ★" if row.run == chosen else ""
        cells = [_cell(row[k], k) for k in COLUMNS]
        table.add_row(f"{row.run}{mark}", *cells, style="bold" if mark else None)
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def _cell(value, key: str) -> str:
    if value is None or value == "":
        return "—"
    if key == TuneRow.key.relative_error:
        return f"{value:+.1%}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
