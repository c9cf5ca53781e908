"""What ``vaebalance sweep`` prints: the plan, a line per ended run, a table and the choice."""

from __future__ import annotations

import sys

from ..schema import SweepRow
from ..sweeps.recommend import Recommendation
from ..sweeps.sweep import Plan, Sweep


class SweepConsole:
    """Progress lines as runs end (on stderr, so stdout stays the summary)."""

    def __init__(self, quiet: bool = False):
        self.quiet, self.ended, self.todo, self.path = quiet, 0, 0, None

    def plan(self, plan: Plan) -> None:
        self.todo, self.path = plan.todo, plan.path
        if self.quiet:
            return
        before = f", {plan.finished} finished before" if plan.finished else ""
        how = f" on {plan.workers} worker(s) × {plan.threads} thread(s)" if plan.todo else ""
        print(
            f"sweep {plan.path}: {plan.total} runs{before}, {plan.todo} to run{how} "
            f"(repeat the command with --out {plan.path} to resume)",
            file=sys.stderr,
        )

    def row(self, row: SweepRow) -> None:
        self.ended += 1
        if self.quiet:
            return
        head = f"[{self.ended}/{self.todo}] {row.run}"
        if row.finished:
            print(
                f"{head}: rate {row.rate_nats:.4g}, distortion {row.distortion_nats:.4g} "
                f"nats ({row.wall_seconds:.1f} s)",
                file=sys.stderr,
            )
        else:
            print(f"{head}: {row.status}: {row.error}", file=sys.stderr)


def summary(sweep: Sweep, choice: Recommendation | None, report=None) -> None:
    """The comparison table, the recommendation with its reason, and where the files are."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    keys = list(sweep.grid)
    # ELBO is −(rate + distortion), already shown; a column nobody filled in is noise.
    shown = [
        k
        for k in SweepRow.TABLE
        if k != SweepRow.ELBO and any(_cell(r[k]) != "—" for r in sweep.rows)
    ]
    table = Table(title=f"sweep — {sweep.path}", box=box.SIMPLE_HEAD)
    table.add_column("run", no_wrap=True)
    headings = [SweepRow.column(k).label for k in shown]
    for heading in [*(k.rpartition(".")[2] for k in keys), "status", *headings]:
        table.add_column(heading, justify="left" if heading == "status" else "right")
    for row in sweep.rows:
        mark = " ★" if choice is not None and row.run == choice.run else ""
        cells = [_cell((row.values or {}).get(k)) for k in keys]
        cells += [_cell(row.status), *(_cell(row[k]) for k in shown)]
        table.add_row(f"{row.run}{mark}", *cells, style=None if mark == "" else "bold")
    # Piped output has no terminal width; rich would assume 80 columns and squeeze the table.
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    for row in sweep.rows:
        if not row.finished:
            console.print(f"{row.run} {row.status}: {row.error}", highlight=False, markup=False)
    if choice is not None:
        console.print(f"recommended: {choice.run} ★ — {choice.reason}", highlight=False)
    else:
        console.print("no run finished, so there is nothing to recommend", highlight=False)
    print(f"results: {sweep.path / 'sweep.csv'}")
    if report is not None:
        print(f"report: {report}")


def _cell(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
