"""What `download`, `pilot` and `status` show: a live progress bar, a summary table, the store's picture."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ..errors import BadInput
from .checkpoint import CHECKPOINT_NAME, CheckpointStore, JobError

if TYPE_CHECKING:
    from .runner import DownloadReport


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def force_banner(console: Console) -> None:
    console.print(
        Panel(
            "[bold]GATE SKIPPED (--force)[/bold]: downloading a manifest without checking its GO verdict.\n"
            "The checkpoint store's run log records this run as forced.",
            style="bold white on red",
        )
    )


class LiveProgress:
    """A rich progress bar fed with counter snapshots; a no-op when quiet."""

    def __init__(self, console: Console, quiet: bool, label: str = "download"):
        self.quiet = quiet
        self.started = time.monotonic()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task(label, total=None, detail="")

    def __enter__(self) -> LiveProgress:
        if not self.quiet:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self._progress.stop()

    def __call__(self, counters: dict[str, int], limiter: str) -> None:
        if self.quiet:
            return
        finished = sum(counters[k] for k in ("jobs_done", "jobs_skipped", "jobs_failed", "jobs_permanent"))
        minutes = max((time.monotonic() - self.started) / 60, 1e-9)
        detail = (
            f"jobs · {counters['pages']} pages · {counters['rows']:,} rows · {human_bytes(counters['bytes'])}"
            f" · 429: {counters['http_429'] / minutes:.1f}/min · {limiter}"
        )
        self._progress.update(self._task, total=counters["jobs_total"], completed=finished, detail=detail)


def summary_table(report: DownloadReport) -> Table:
    t = report.totals
    table = Table(title=f"download run {report.run_id}: {'complete' if report.complete else 'INCOMPLETE'}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rate = t["requests"] / report.seconds if report.seconds > 0 else 0.0
    for name, value in [
        ("jobs (event × kind)", f"{t['jobs_total']:,}"),  # noqa: RUF001 - the printed label
        ("downloaded now", f"{t['jobs_done']:,}"),
        ("already done (verified)", f"{t['jobs_skipped']:,}"),
        ("failed (retry with another run)", f"{t['jobs_failed']:,}"),
        ("permanent (401/403/404/4xx)", f"{t['jobs_permanent']:,}"),
        ("pages fetched", f"{t['pages']:,}"),
        ("rows", f"{t['rows']:,}"),
        ("bytes on disk", human_bytes(t["bytes"])),
        ("requests", f"{t['requests']:,} ({rate:.1f}/s)"),
        ("HTTP 429", f"{t['http_429']:,}"),
        ("retries", f"{t['retries']:,}"),
        ("seconds", f"{report.seconds:.1f}"),
    ]:
        table.add_row(name, value)
    return table


def failures_table(failures: list[JobError]) -> Table:
    table = Table(title="unfinished jobs (latest errors)")
    for col in ("kind", "symbol", "event_id", "status", "attempts", "error"):
        table.add_column(col, overflow="fold")
    for f in failures:
        table.add_row(f["kind"], f["symbol"], f["event_id"], f["status"], str(f["attempts"]), f["last_error"] or "")
    return table


def status_tables(out_dir: Path) -> list[Table]:
    """The checkpoint store's picture: counts by kind and status, last runs, latest errors."""
    store = CheckpointStore.open_existing(out_dir)
    if store is None:
        raise BadInput(
            f"--out {out_dir}: no {CHECKPOINT_NAME} there; nothing downloaded yet (run `tickwindows download`)"
        )
    try:
        counts = Table(title=f"{out_dir / CHECKPOINT_NAME}")
        for col in ("kind", "status", "jobs", "rows", "bytes", "pages"):
            counts.add_column(col, justify="right" if col in ("jobs", "rows", "bytes", "pages") else "left")
        for row in store.counts():
            counts.add_row(row["kind"], row["status"], f"{row['jobs']:,}", f"{row['rows'] or 0:,}",
                           human_bytes(row["bytes"] or 0), f"{row['pages'] or 0:,}")
        runs = Table(title="runs (latest 5)")
        for col in ("run", "command", "started", "finished", "forced", "done", "skipped", "failed", "permanent",
                    "exit"):
            runs.add_column(col)
        for r in store.runs()[-5:]:
            tail = (r["jobs_done"], r["jobs_skipped"], r["jobs_failed"], r["jobs_permanent"], r["exit_code"])
            runs.add_row(str(r["run_id"]), r["command"], r["started_at"], r["finished_at"] or "(interrupted)",
                         "FORCED" if r["forced"] else "", *(str(v) if v is not None else "" for v in tail))
        tables = [counts, runs]
        errors = store.errors(limit=10)
        if errors:
            tables.append(failures_table(errors))
        return tables
    finally:
        store.close()
