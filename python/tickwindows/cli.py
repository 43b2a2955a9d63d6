"""The `tickwindows` command line: parses options and prints; the work lives in the modules."""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import TickwindowsError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tickwindows")
def cli() -> None:
    """Turn detected intraday events into a balanced, gate-verified manifest and download
    the trades and quotes around each selected event.

    \b
    Typical flow:
      tickwindows demo-data            # or point dbt at real FASE 2.5 output
      dbt build                        # models + the GO/NO-GO gate
      tickwindows report               # dry-run / gate report
      tickwindows pilot --events 20    # calibrate storage/time estimates
      tickwindows download             # only after a GO
    """


# --- demo-data (demo_data.py) ---

# --- emulator (emulator.py) ---

# --- download / status / pilot (download.py, checkpoint.py, pilot.py) ---
from pathlib import Path  # noqa: E402 - kept inside this command block
from typing import Any  # noqa: E402


def _download_options(fn):  # type: ignore[no-untyped-def]
    """Options shared by `download` and `pilot` (same downloader, same checkpoint store)."""
    from .paths import DEFAULT_TICKS_DIR, REAL_API_BASE_URL

    options = [
        click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="DuckDB warehouse [default: $TICKWINDOWS_DB or warehouse/tickwindows.duckdb]."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=DEFAULT_TICKS_DIR, show_default=True, help="Where tick files and the checkpoint go."),
        click.option("--base-url", default=REAL_API_BASE_URL, show_default=True,
                     help="API root; plain http only on loopback (the emulator)."),
        click.option("--workers", type=int, default=1, show_default=True, help="Parallel download threads."),
        click.option("--rate-limit", default=None,
                     help="Requests per time unit, e.g. 5/min (free tier) or 100/s. Default: adaptive (AIMD on 429s)."),
        click.option("--kinds", default="trades,quotes", show_default=True, help="Which endpoints to fetch."),
        click.option("--max-pages", type=int, default=10_000, show_default=True,
                     help="Refuse a window needing more pages than this (guards against cursor loops)."),
        click.option("--resume/--no-resume", default=True, show_default=True,
                     help="Skip jobs already done whose file still matches its sha256."),
        click.option("--retry-budget", type=float, default=600.0, show_default=True,
                     help="Seconds to keep retrying one failing request (429/5xx/resets) before the job fails."),
        click.option("--quiet", is_flag=True, help="No progress bar; only the final line."),
        click.option("--page-limit", type=int, default=50_000, hidden=True, help="Rows per page (tests)."),
        click.option("--timeout", "timeout_s", type=float, default=60.0, hidden=True, help="HTTP timeout (s)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _settings(**kw: Any) -> Any:
    from .download import DownloadSettings, api_key_from_env, parse_kinds
    from .paths import default_db_path
    from .ratelimit import parse_rate

    return DownloadSettings(
        db_path=kw["db_path"] or default_db_path(),
        out_dir=kw["out_dir"],
        base_url=kw["base_url"],
        api_key=api_key_from_env(),
        workers=kw["workers"],
        limit=kw.get("limit"),
        force=kw.get("force", False),
        rate_limit=parse_rate(kw["rate_limit"]) if kw["rate_limit"] else None,
        kinds=parse_kinds(kw["kinds"]),
        max_pages=kw["max_pages"],
        resume=kw["resume"],
        quiet=kw["quiet"],
        page_limit=kw["page_limit"],
        retry_budget_s=kw["retry_budget"],
        timeout_s=kw["timeout_s"],
    )


def _finish_report(console: Any, report: Any, quiet: bool) -> int:
    from .download_view import failures_table, human_bytes, summary_table

    t = report.totals
    if quiet:
        console.print(
            f"{'complete' if report.complete else 'INCOMPLETE'}: {t['jobs_done'] + t['jobs_skipped']}/{t['jobs_total']}"
            f" jobs, {t['rows']:,} rows, {human_bytes(t['bytes'])}, {t['jobs_failed']} failed,"
            f" {t['jobs_permanent']} permanent"
        )
    else:
        console.print(summary_table(report))
    if not report.complete:
        console.print(failures_table(report.failures))
        console.print("Some jobs did not finish: run the same command again to resume them "
                      "(`tickwindows status` shows the checkpoint store).")
        return 1
    return 0


@cli.command()
@_download_options
@click.option("--limit", type=int, default=None, help="Only the first N manifest events, in event_id order.")
@click.option("--force", is_flag=True, help="Skip the GO/NO-GO gate check (loudly; recorded in the run log).")
@click.pass_context
def download(ctx: click.Context, **kw: Any) -> None:
    """Download trades and quotes for every manifest window, after checking the gate.

    Reads main.manifest_core from the warehouse, refuses to start unless the latest gate_runs
    row is a GO for the manifest as it is now, and writes
    {out}/{trades,quotes}/symbol=S/date=D/{event_id}.parquet. The API key comes from
    POLYGON_API_KEY (or MASSIVE_API_KEY). Interrupted runs resume where they stopped.
    Exit 0 only when every job finished.

    \b
    Examples:
      tickwindows download --workers 4
      tickwindows download --rate-limit 5/min --limit 20      # free tier
      tickwindows download --base-url http://127.0.0.1:8765 --force   # the emulator
    """
    from rich.console import Console

    from .download import download as run_download
    from .download_view import LiveProgress, force_banner

    settings = _settings(**kw)
    out, err = Console(), Console(stderr=True)
    with LiveProgress(err, settings.quiet) as progress:
        report = run_download(settings, progress=progress, on_forced=lambda: force_banner(err))
    ctx.exit(_finish_report(out, report, settings.quiet))


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default="data/ticks",
              show_default=True, help="The download directory holding _checkpoint.sqlite.")
def status(out_dir: Path) -> None:
    """Show the checkpoint store: jobs by kind and status, rows, bytes, recent runs and errors.

    \b
    Example:
      tickwindows status --out data/ticks
    """
    from rich.console import Console

    from .download_view import status_tables

    console = Console()
    for table in status_tables(out_dir):
        console.print(table)


@cli.command()
@_download_options
@click.option("--events", type=int, default=20, show_default=True, help="How many manifest events to sample.")
@click.pass_context
def pilot(ctx: click.Context, events: int, **kw: Any) -> None:
    """Download a stratified sample of manifest events and record what they cost.

    Picks EVENTS events across sessions (PM/RTH/AH) and adv20_dollar terciles (event_id order
    within each stratum), downloads them like `download` (same out dir and checkpoint, so a
    later download reuses them), and replaces main.pilot_measurements in the warehouse with
    rows/bytes/pages/seconds per (event, kind). It does not need a GO: it calibrates the gate.

    \b
    Example:
      tickwindows pilot --events 20 --base-url http://127.0.0.1:8765
    """
    from rich.console import Console
    from rich.table import Table

    from .download_view import LiveProgress, human_bytes
    from .pilot import run_pilot

    settings = _settings(**kw)
    out, err = Console(), Console(stderr=True)
    with LiveProgress(err, settings.quiet, label="pilot") as progress:
        result = run_pilot(settings, events, progress=progress)
    err.print(f"note: {result.gate_note}")
    if not settings.quiet:
        table = Table(title=f"pilot: {len(result.sample)} events -> main.pilot_measurements")
        for col in ("kind", "windows", "rows", "bytes", "pages", "seconds"):
            table.add_column(col, justify="left" if col == "kind" else "right")
        for kind in settings.kinds:
            ms = [m for m in result.measurements if m.kind == kind]
            table.add_row(kind, str(len(ms)), f"{sum(m.rows for m in ms):,}", human_bytes(sum(m.bytes for m in ms)),
                          str(sum(m.pages for m in ms)), f"{sum(m.seconds for m in ms):.1f}")
        out.print(table)
        out.print("strata: " + ", ".join(f"{k}={v}" for k, v in sorted(result.strata.items())))
    ctx.exit(_finish_report(out, result.report, settings.quiet))

# --- report / export (report.py, export.py) ---


def main() -> None:
    try:
        # Without standalone mode click returns ctx.exit() codes instead of exiting.
        rv = cli.main(standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except TickwindowsError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
