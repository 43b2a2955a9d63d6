"""The `tickwindows` command line: parses options and prints; the work lives in the modules.

Options that several commands take (`--db`, the download directory `--out`, the downloader's
settings) are defined once below and shared. Command modules are imported inside each command,
so `tickwindows --help` and small commands start fast.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar, Unpack

import click

from . import __version__
from .errors import BadInput, TickwindowsError
from .settings import (
    DEFAULT_DATA_DIR,
    DEFAULT_EXPORT_DIR,
    DEFAULT_REPORT_HTML,
    DEFAULT_TICKS_DIR,
    REAL_API_BASE_URL,
    default_db_path,
)

if TYPE_CHECKING:
    from rich.console import Console

    from .download.runner import DownloadReport, DownloadSettings

F = TypeVar("F", bound=Callable[..., object])


# --- options shared by several commands, each defined once ---


def _db_or_default(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    return value if value is not None else default_db_path()


db_option = click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None, callback=_db_or_default,
    help="DuckDB warehouse [default: $TICKWINDOWS_DB or warehouse/tickwindows.duckdb].",
)
ticks_dir_option = click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_TICKS_DIR,
    show_default=True, help="Where tick files and their checkpoint store (_checkpoint.sqlite) go.",
)


class DownloadOptions(TypedDict):
    """What `download_options` passes to a command."""

    db_path: Path
    out_dir: Path
    base_url: str
    workers: int
    rate_limit: str | None
    kinds: str
    max_pages: int
    resume: bool
    quiet: bool
    page_limit: int
    retry_budget: float
    give_up_after: float
    progress_interval: float
    timeout_s: float


def download_options(fn: F) -> F:
    """Options shared by `download` and `pilot` (same downloader, same checkpoint store)."""
    options = [
        db_option,
        ticks_dir_option,
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
        click.option("--give-up-after", type=float, default=120.0, show_default=True, metavar="SECONDS",
                     help="Stop the whole run (exit 4, resumable) once every request has failed for this long "
                          "(no answer, or HTTP 5xx): a server that is gone does not cost days of retries."),
        click.option("--progress-interval", type=float, default=10.0, show_default=True, metavar="SECONDS",
                     help="When stderr is not a terminal (nohup, cron, a pipe): a plain progress line this often, "
                          "instead of the progress bar."),
        click.option("--quiet", is_flag=True, help="No progress bar or progress lines; only the final line."),
        click.option("--page-limit", type=int, default=50_000, hidden=True, help="Rows per page (tests)."),
        click.option("--timeout", "timeout_s", type=float, default=60.0, hidden=True, help="HTTP timeout (s)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


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


# --- demo-data (demo/) ---
@cli.command("demo-data")
@click.option("--out", type=click.Path(file_okay=False), default=DEFAULT_DATA_DIR, show_default=True,
              help="Writes OUT/events/part-NNN.parquet and OUT/daily/{SYMBOL}.parquet.")
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed and options: byte-identical files.")
@click.option("--size", type=click.Choice(["small", "default"]), default="default", show_default=True,
              help="Preset. default: 2,200 symbols, 3 years of daily bars ending 2025-10-31, 700,000 events; "
                   "small: 80 symbols, 1 year, 6,000 events.")
@click.option("--symbols", type=int, default=None, help="Override the preset's number of symbols.")
@click.option("--events", type=int, default=None,
              help="Override the preset's number of event rows (edge rows included).")
@click.option("--start", metavar="YYYY-MM-DD", default=None,
              help="First day of daily bars (default: the preset's years before --end).")
@click.option("--end", metavar="YYYY-MM-DD", default=None, help="Last day of daily bars [default: 2025-10-31].")
@click.option("--timestamp-format", type=click.Choice(["timestamp", "timestamptz", "ns", "us", "ms"]),
              default="timestamp", show_default=True,
              help="How the events' `timestamp` column is stored: TIMESTAMP, TIMESTAMPTZ, or INT64 epoch ns/us/ms.")
@click.option("--symbols-fraction", type=float, default=1.0, show_default=True,
              help="Write only this share of the universe's symbols (a partial FASE 2.5 output): nested and "
                   "deterministic, so 0.25, then 0.6, then 1 grow the same universe.")
@click.option("--force", is_flag=True, help="Replace OUT/events and OUT/daily if they already hold files.")
def demo_data_command(out: str, seed: int, size: str, symbols: int | None, events: int | None,
                      start: str | None, end: str | None, timestamp_format: str, symbols_fraction: float,
                      force: bool) -> None:
    """Generate synthetic FASE 2.5 inputs (events + per-symbol daily bars) for the dbt project.

    The data follow docs/CONTRACT.md "Inputs" and mix its variants (date vs epoch-ms `t` / `timestamp`
    daily files, vwap/vw, transactions/n), with realistic shape (heavy-tailed events per symbol on
    volume-spike days, ~18/79/3 % PM/RTH/AH, penny, illiquid, IPO and delisted names) and edge rows
    on purpose: weekends, holidays, early-close afternoons, outside hours, exact session boundaries,
    duplicates, symbols without daily bars, unnormalised or NULL symbols, NULL/absurd timestamps,
    score ties.

    \b
    Examples:
      tickwindows demo-data                                  # ./data, ~700K events, < 1 min
      tickwindows demo-data --size small --out /tmp/demo --force
      tickwindows demo-data --events 10000000 --timestamp-format ns --out data-10m
      tickwindows demo-data --symbols-fraction 0.25 --out data-25   # batch 1 of a growing universe
    """
    from .demo.generate import DemoSettings, generate

    settings = DemoSettings.from_options(
        out=out, seed=seed, size=size, symbols=symbols, events=events,
        start=start, end=end, timestamp_format=timestamp_format, force=force,
        symbols_fraction=symbols_fraction,
    )
    click.echo(f"generating {settings.events:,} events for {settings.symbols:,} symbols, "
               f"{settings.start}..{settings.end}, seed {settings.seed} -> {settings.out}")
    for line in generate(settings).lines():
        click.echo(line)


# --- emulator (emulator/) ---
@cli.command("emulator")
@click.option("--port", type=int, default=8765, show_default=True, help="TCP port (0 = any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address; loopback only.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the fault and latency randomness only; the data never change.")
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Added to every response.")
@click.option("--rate-limit", type=float, default=None,
              help="Requests allowed per --rate-limit-window seconds; more get 429. Default: unlimited.")
@click.option("--rate-limit-window", type=float, default=1.0, show_default=True,
              help="Window of --rate-limit in seconds (e.g. --rate-limit 5 --rate-limit-window 60).")
@click.option("--fault-rate", type=float, default=0.0, show_default=True,
              help="Share of requests (0-1) that fail in one of the --faults ways.")
@click.option("--faults", default="429,500,502,503,reset,truncate,malformed,slow,null_results", show_default=True,
              help="Comma-separated fault kinds to inject.")
@click.option("--slow-s", type=float, default=3.0, show_default=True, help="Stall of a 'slow' fault, seconds.")
@click.option("--no-retry-after", is_flag=True, help="Omit Retry-After on 429 (the API sometimes does).")
@click.option("--api-key", default=None, help="Require this key (apiKey param or Bearer header); else 401.")
@click.option("--cache-mb", type=int, default=512, show_default=True,
              help="Memory for rendered pages (the data never change, so a page asked again is served from it).")
@click.option("--odd-quotes", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True, metavar="SHARE",
              help="Share (0-1) of quotes served crossed (bid > ask), locked (bid = ask), with a zero bid or ask "
                   "size, or more than $5 wide, a quarter each; chosen from ticker, time and sequence number only "
                   "(never the seed). 0: every quote ordinary. For checking quote filters on downloaded files.")
def emulator_command(port: int, host: str, seed: int, latency_ms: float, rate_limit: float | None,
                     rate_limit_window: float, fault_rate: float, faults: str, slow_s: float,
                     no_retry_after: bool, api_key: str | None, cache_mb: int, odd_quotes: float) -> None:
    """Serve the Polygon/Massive v3 trades and quotes endpoints on loopback until Ctrl-C or SIGTERM.

    Data are deterministic per ticker and time (HOT* tickers are busy, QUIET* thin, NODATA*
    empty, NOAUTH* answer 403); the seed only decides which requests fail.

    \b
    Example:
      tickwindows emulator --port 8765 --fault-rate 0.05 --rate-limit 50
      curl 'http://127.0.0.1:8765/v3/quotes/AAPL?timestamp=2024-03-05&order=asc&limit=5'
    """
    from .emulator import render
    from .emulator.server import EmulatorConfig, run_forever

    if cache_mb < 0:
        raise click.BadParameter(f"{cache_mb}: expected >= 0", param_hint="--cache-mb")
    render.CACHE.resize(cache_mb * 2**20)
    config = EmulatorConfig(
        seed=seed, latency_ms=latency_ms, rate_limit=rate_limit, rate_limit_window_s=rate_limit_window,
        fault_rate=fault_rate, faults=tuple(f.strip() for f in faults.split(",") if f.strip()),
        retry_after=not no_retry_after, api_key=api_key, slow_s=slow_s, odd_quotes=odd_quotes,
    )
    stats = run_forever(config, port=port, host=host,
                        announce=lambda url: click.echo(f"emulator listening on {url} (Ctrl-C to stop)"))
    click.echo(f"stopped after {stats['requests']} requests, {stats['rows_served']} rows served; "
               f"status {stats['by_status']}, faults {stats['by_fault']}; "
               f"page cache {render.CACHE.hits} hits, {render.CACHE.misses} misses")


# --- download / status / pilot (download/, pilot.py) ---


def _lean_native_libraries() -> None:
    """Call before pyarrow/numpy load. The downloader never uses numpy's OpenBLAS, whose idle thread
    pool still costs CPU; and Arrow's mimalloc would hand each page's freed memory back to the kernel,
    which zeroes it again for the next page. Together ~5 % of the client's CPU; a user's own settings win."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("MIMALLOC_PURGE_DELAY", "-1")


def _settings(options: DownloadOptions, *, limit: int | None = None, force: bool = False) -> DownloadSettings:
    from .download.ratelimit import parse_rate
    from .download.runner import DownloadSettings, api_key_from_env, parse_kinds

    if not options["progress_interval"] > 0:
        raise BadInput(f"--progress-interval {options['progress_interval']:g}: expected seconds > 0")
    return DownloadSettings(
        db_path=options["db_path"],
        out_dir=options["out_dir"],
        base_url=options["base_url"],
        api_key=api_key_from_env(),
        workers=options["workers"],
        limit=limit,
        force=force,
        rate_limit=parse_rate(options["rate_limit"]) if options["rate_limit"] else None,
        kinds=parse_kinds(options["kinds"]),
        max_pages=options["max_pages"],
        resume=options["resume"],
        quiet=options["quiet"],
        page_limit=options["page_limit"],
        retry_budget_s=options["retry_budget"],
        give_up_after_s=options["give_up_after"],
        timeout_s=options["timeout_s"],
    )


def _finish_report(console: Console, report: DownloadReport, quiet: bool) -> int:
    from .download.view import failures_table, human_bytes, summary_table

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
@download_options
@click.option("--limit", type=int, default=None, help="Only the first N manifest events, in event_id order.")
@click.option("--force", is_flag=True, help="Skip the GO/NO-GO gate check (loudly; recorded in the run log).")
@click.pass_context
def download(ctx: click.Context, limit: int | None, force: bool, **options: Unpack[DownloadOptions]) -> None:
    """Download trades and quotes for every manifest window, after checking the gate.

    Reads main.manifest_core from the warehouse, refuses to start unless the latest gate_runs
    row is a GO for the manifest as it is now, and writes
    {out}/{trades,quotes}/symbol=S/date=D/{event_id}.parquet. The API key comes from
    POLYGON_API_KEY (or MASSIVE_API_KEY). Interrupted runs resume where they stopped.
    Exit 0 only when every job finished; 1 when some failed (run it again); 4 when the run
    stopped early because the key was refused (HTTP 401) or every request failed for
    --give-up-after seconds (the message names the cause; what is done is kept, run it again
    to resume); 130 after Ctrl-C and 143 after SIGTERM (`kill`), both with nothing half-written
    kept. Under nohup/cron (stderr not a terminal) it logs a progress line every
    --progress-interval seconds.

    \b
    Examples:
      tickwindows download --workers 4
      tickwindows download --rate-limit 5/min --limit 20      # free tier
      tickwindows download --base-url http://127.0.0.1:8765 --force   # the emulator
    """
    _lean_native_libraries()
    from rich.console import Console

    from .download.runner import download as run_download
    from .download.view import force_banner, progress_for

    settings = _settings(options, limit=limit, force=force)
    out, err = Console(), Console(stderr=True)
    with progress_for(err, quiet=settings.quiet, interval_s=options["progress_interval"]) as progress:
        report = run_download(settings, progress=progress, on_forced=lambda: force_banner(err))
    ctx.exit(_finish_report(out, report, settings.quiet))


@cli.command()
@db_option
@click.option("--discard", is_flag=True,
              help="Start a new lineage instead: the pinned batches stop binding the selection (files are kept).")
@click.option("--reason", default="", help="Why the batches are discarded (required with --discard; recorded).")
def release(db_path: Path, discard: bool, reason: str) -> None:
    """Pin the current manifest as the next batch (after a current GO).

    Every event of manifest_core not pinned yet is recorded in main.manifest_batches as batch N
    (1, 2, ...). Later `dbt build`s on grown inputs keep pinned events exactly as released and
    select new ones around them; the gate fails if one goes missing or moves. Releasing again
    without a new pick does nothing. `download` and `export` release what they consume.
    Exits non-zero, naming why, without a current GO.

    \b
    Examples:
      dbt build --vars '{universe_symbols: 2200}' && tickwindows release
      tickwindows release --discard --reason "FASE 2.5 re-run with new thresholds"
    """
    from .batches import discard as discard_batches
    from .batches import release as release_batch

    result = discard_batches(db_path, reason) if discard else release_batch(db_path)
    click.echo(result.message)


@cli.command()
@ticks_dir_option
def status(out_dir: Path) -> None:
    """Show the checkpoint store: jobs by kind and status, rows, bytes, recent runs and errors.

    \b
    Example:
      tickwindows status --out data/ticks
    """
    from rich.console import Console

    from .download.view import status_tables

    console = Console()
    for table in status_tables(out_dir):
        console.print(table)


@cli.command()
@download_options
@click.option("--events", type=int, default=20, show_default=True, help="How many manifest events to sample.")
@click.pass_context
def pilot(ctx: click.Context, events: int, **options: Unpack[DownloadOptions]) -> None:
    """Download a stratified sample of manifest events and record what they cost.

    Picks EVENTS events across sessions (PM/RTH/AH) and adv20_dollar terciles (event_id order
    within each stratum), downloads them like `download` (same out dir and checkpoint, so a
    later download reuses them), and replaces main.pilot_measurements in the warehouse with
    rows/bytes/pages/seconds per (event, kind). It does not need a GO: it calibrates the gate.

    \b
    Example:
      tickwindows pilot --events 20 --base-url http://127.0.0.1:8765
    """
    _lean_native_libraries()
    from rich.console import Console
    from rich.table import Table

    from .download.view import human_bytes, progress_for
    from .pilot import run_pilot

    settings = _settings(options)
    out, err = Console(), Console(stderr=True)
    with progress_for(err, quiet=settings.quiet, interval_s=options["progress_interval"], label="pilot") as progress:
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

# --- report / export (report/, export.py) ---


@cli.command()
@db_option
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(DEFAULT_REPORT_HTML), show_default=True,
              help="Where to write the self-contained HTML report (tables + inline SVG plots).")
@click.option("--no-html", is_flag=True, help="Only print to the terminal.")
def report(db_path: Path, html_path: Path, no_html: bool) -> None:
    """Print the dry-run / gate report: verdict, funnel, session mix, concentration, estimates, checks.

    Reads the warehouse read-only (run `dbt build` first). Exits 0 whenever the report could be
    made, GO or NO-GO: the verdict is information; `download` and `export` enforce it.

    \b
    Examples:
      tickwindows report
      tickwindows report --db /tmp/w.duckdb --html /tmp/report.html
      tickwindows report --no-html
    """
    from rich.console import Console

    from .report.data import load_report
    from .report.html import write_html
    from .report.terminal import print_report

    data = load_report(db_path)
    console = Console()
    print_report(data, console)
    if not no_html:
        console.print(f"HTML report: {write_html(data, html_path)}")


@cli.command()
@db_option
@click.option("--out", "export_out", type=click.Path(file_okay=False, path_type=Path),
              default=Path(DEFAULT_EXPORT_DIR), show_default=True,
              help="Folder for the Parquet file(s) and the JSON sidecar.")
@click.option("--enriched", is_flag=True, help="Also write events_enriched_YYYYMMDD.parquet.")
@click.option("--date", "export_date", default=None, metavar="YYYYMMDD",
              help="Date in the file names [default: today, UTC].")
@click.option("--force-overwrite", is_flag=True, help="Replace files of an earlier export with the same date.")
def export(db_path: Path, export_out: Path, enriched: bool, export_date: str | None,
           force_overwrite: bool) -> None:
    """Export the gated manifest as Parquet (zstd, ordered by event_id) plus a JSON sidecar.

    Refuses unless the latest gate_runs row is a GO for the manifest exactly as it is now.
    Writes {out}/manifest_core_YYYYMMDD.parquet and manifest_core_YYYYMMDD.json (profile,
    config_hash, rows, sha256 of each file, the gate verdict it was exported under). The same
    warehouse exported twice gives byte-identical Parquet.

    \b
    Examples:
      tickwindows export
      tickwindows export --out /data/manifests --enriched --date 20250131
    """
    from .export import ExportSettings, export_manifest, parse_export_date

    settings = ExportSettings(
        db_path=db_path, out_dir=export_out, date=parse_export_date(export_date),
        enriched=enriched, force_overwrite=force_overwrite,
    )
    result = export_manifest(settings)
    for f in result.files:
        click.echo(f"{settings.out_dir / f.name}: {f.rows:,} rows, {f.bytes:,} bytes, sha256 {f.sha256}")
    click.echo(f"{result.sidecar}: exported under the GO of {result.gate.evaluated_at} "
               f"(invocation {result.gate.invocation_id})")


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a service manager, a cron wrapper's timeout), stopping a command as Ctrl-C does."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def _stopped(terminated: bool) -> None:
    """The last words of a stopped command, and its exit status (130 for Ctrl-C, 143 for SIGTERM)."""
    click.echo("Stopped by SIGTERM." if terminated else "Interrupted.", err=True)
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    if command in ("download", "pilot"):
        click.echo("Nothing half-written is kept (files are renamed into place whole, with their checksums); "
                   f"run the same `tickwindows {command}` command again to resume where it stopped.", err=True)
    sys.exit(143 if terminated else 130)


def main() -> None:
    # SIGTERM stops a command the way Ctrl-C does (in-flight work abandoned, the download's checkpoint kept)
    # instead of killing it mid-statement; the emulator stops this way too (run_forever only gives SIGINT
    # Python's own handler back, for a process started with SIGINT ignored).
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        # Without standalone mode click returns ctx.exit() codes instead of exiting.
        rv = cli.main(standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except click.exceptions.Abort as exc:  # click turns KeyboardInterrupt into Abort
        _stopped(isinstance(exc.__cause__, Terminated))
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except TickwindowsError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        _stopped(isinstance(exc, Terminated))
