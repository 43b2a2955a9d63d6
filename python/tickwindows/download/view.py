"""What `download`, `pilot` and `status` show: a live progress bar, a summary table, the store's picture."""

from __future__ import annotations

import time
from collections.abc import Callable
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


def retry_causes(counters: dict[str, int]) -> str:
    """'connection 2, 5xx 3' from the retry_* counters (the causes that occurred)."""
    names = (("retry_connection", "connection"), ("retry_5xx", "5xx"), ("retry_429", "429"),
             ("retry_other_http", "408/425"), ("retry_bad_page", "bad page"))
    return ", ".join(f"{label} {counters[key]:,}" for key, label in names if counters.get(key))


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
        if counters.get("failing_s"):
            detail += f" · [bold red]no answer for {counters['failing_s']} s[/]"
        self._progress.update(self._task, total=counters["jobs_total"], completed=finished, detail=detail)


class PlainProgress:
    """One plain line at a steady interval, for logs (stderr not a terminal: nohup, cron, a pipe).

    2026-11-25T16:30:00 download: jobs 12/60 done (0 failed, 0 permanent), 34 pages, 1,234,567 rows,
    12.3 MB, 250,000 rows/s, 12.0 req/s, 429s 3, retries 5 (connection 2, 5xx 3), adaptive, now 19.5 req/s
    """

    def __init__(self, write: Callable[[str], object], interval_s: float, label: str = "download"):
        self._write = write
        self.interval_s = interval_s
        self.label = label
        self.started = time.monotonic()
        self._next = self.started  # the first snapshot prints at once: the log shows the run began
        self._last: tuple[dict[str, int], str] | None = None

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._last is not None:
            self._print(*self._last)  # the final state, whatever the interval

    def __call__(self, counters: dict[str, int], limiter: str) -> None:
        self._last = (counters, limiter)
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval_s
            self._print(counters, limiter)

    def _print(self, c: dict[str, int], limiter: str) -> None:
        seconds = max(time.monotonic() - self.started, 1e-9)
        finished = c["jobs_done"] + c["jobs_skipped"]
        causes = retry_causes(c)
        line = (
            f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {self.label}: jobs {finished:,}/{c['jobs_total']:,} done"
            f" ({c['jobs_failed']:,} failed, {c['jobs_permanent']:,} permanent), {c['pages']:,} pages,"
            f" {c['rows']:,} rows, {human_bytes(c['bytes'])}, {c['rows'] / seconds:,.0f} rows/s,"
            f" {c['requests'] / seconds:.1f} req/s, 429s {c['http_429']:,}, retries {c['retries']:,}"
            + (f" ({causes})" if causes else "") + f", {limiter}"
        )
        if c.get("failing_s"):
            line += f"; NO ANSWER for {c['failing_s']} s (every request fails)"
        self._write(line)


def progress_for(console: Console, *, quiet: bool, interval_s: float,
                 label: str = "download") -> LiveProgress | PlainProgress:
    """The rich bar on a terminal; plain lines every `interval_s` otherwise; nothing when quiet."""
    if quiet or console.is_terminal:
        return LiveProgress(console, quiet, label)

    def write(line: str) -> None:
        console.file.write(line + "\n")
        console.file.flush()

    return PlainProgress(write, interval_s, label)


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
        ("retries", f"{t['retries']:,}" + (f" ({retry_causes(t)})" if t["retries"] else "")),
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
