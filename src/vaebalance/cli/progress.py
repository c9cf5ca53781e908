"""What ``train`` shows while it runs: a rich progress bar fed by the trainer's hooks (host-side
counts only), and the table of test metrics at the end."""

from __future__ import annotations

from ..schema import RunMetrics


class Progress:
    """A progress bar fed by the trainer's hooks."""

    def __init__(self, quiet: bool):
        self.bar = None
        self.quiet = quiet

    def hooks(self):
        import sys

        from ..training import Hooks

        if self.quiet:
            return Hooks()
        if not sys.stdout.isatty():  # a log file: one whole line per epoch, never a cut bar
            return Hooks(on_epoch_end=self._epoch_line)
        return Hooks(on_start=self._start, on_samples=self._advance, on_epoch_end=self._epoch_end)

    @staticmethod
    def _epoch_line(records: dict) -> None:

        t, v = records["train"], records["held_out"]
        met = "  target not met" if t.target_met is False else ""
        print(f"epoch {t.epoch}  step {t.step}  rate {t.rate_nats:.3g}  distortion "
              f"{t.distortion_nats:.4g}  β {t.beta:.3g}  {v.split} −ELBO {-v.elbo_nats:.4g}{met}",
              flush=True)  # fmt: skip

    def _start(self, done: int, total: int) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[speed]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[stats]}"),
        )
        self.task = self.bar.add_task(
            "train", total=total, completed=done, epoch="", speed="", stats=""
        )
        self.bar.start()

    def _advance(self, n: int) -> None:
        self.bar.advance(self.task, n)
        speed = self.bar.tasks[0].speed
        if speed:
            self.bar.update(self.task, speed=f"{speed:>6.0f} samples/s")

    def _epoch_end(self, records: dict) -> None:
        t, v = records["train"], records["held_out"]
        stats = (
            f"rate {t.rate_nats:.3g}  distortion {t.distortion_nats:.4g}  "
            f"β {t.beta:.3g}  {v.split} −ELBO {-v.elbo_nats:.4g}"
        )
        if t.target_met is False:
            stats += "  [yellow]target not met[/]"
        self.bar.update(self.task, epoch=t.epoch, stats=stats)

    def close(self):
        if self.bar is not None:
            self.bar.stop()


def summary(path, metrics: RunMetrics, title: str = "test metrics") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for column in map(RunMetrics.column, RunMetrics.HEADLINE):
        value = metrics[column.key]
        if value is not None:
            label = f"{column.label} ({column.unit})"
            table.add_row(label, f"{value:.4g}" if isinstance(value, float) else str(value))
    if metrics.target_met is False:
        table.add_row("balancer target", "[yellow]not met[/]")
    Console().print(table)
    print(f"outputs: {path}")
