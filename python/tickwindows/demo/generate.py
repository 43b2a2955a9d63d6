"""Synthetic FASE 2.5 output (docs/CONTRACT.md "Inputs"): event Parquet parts plus one daily-bar file per symbol.

The universe is built in DuckDB (demo/sql.py) with hash-based randomness, so the same options
write byte-identical files. The shape gives the `core` selection real work: heavy-tailed events per
symbol clustered on volume-spike days, a PM/RTH/AH mix near 18/79/3 %, penny, illiquid, IPO and
delisted names, the contract's daily-file column variants, and deliberate edge rows (EDGE_KINDS).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import BadInput
from .sql import EDGE_KINDS, GHOST_PREFIX, Universe, build

SIZES: dict[str, dict[str, int]] = {
    # ~2,000 symbols like FASE 2.5 (2,200): ~81 % survive the liquidity filters and at most 5 per
    # symbol are selected, so ~1,780 eligible symbols bound the manifest near the plan's 8.7-8.9K.
    "default": {"symbols": 2_200, "events": 700_000, "years": 3},
    "small": {"symbols": 80, "events": 6_000, "years": 1},
}
DEFAULT_END = dt.date(2025, 10, 31)
TIMESTAMP_FORMATS = ("timestamp", "timestamptz", "ns", "us", "ms")
DOTTED_TICKERS = ("BRK.B", "BF.B")
EVENTS_PER_PART = 200_000
CALENDAR_SEED = Path(__file__).resolve().parents[3] / "seeds" / "nyse_calendar.csv"
WORK_MEMORY = "1536MB"  # DuckDB's share; it spills to the staging directory beyond that


@dataclass(frozen=True)
class DemoSettings:
    out: Path = Path("data")
    seed: int = 42
    symbols: int = SIZES["default"]["symbols"]
    events: int = SIZES["default"]["events"]
    start: dt.date = dt.date(2022, 11, 1)
    end: dt.date = DEFAULT_END
    timestamp_format: str = "timestamp"
    force: bool = False
    calendar_csv: Path = CALENDAR_SEED
    # Keep only this share of the universe's symbols (a partial FASE 2.5 output): a symbol is kept
    # when a hash of it is below the fraction, so 0.25 < 0.60 < 1.0 give nested subsets, and each kept
    # symbol's events and bars are the full universe's, byte for byte.
    symbols_fraction: float = 1.0

    @classmethod
    def from_options(
        cls,
        *,
        out: Path | str = "data",
        seed: int = 42,
        size: str = "default",
        symbols: int | None = None,
        events: int | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        timestamp_format: str = "timestamp",
        force: bool = False,
        calendar_csv: Path = CALENDAR_SEED,
        symbols_fraction: float = 1.0,
    ) -> DemoSettings:
        """A size preset with explicit overrides; the start defaults to `years` before the end."""
        if size not in SIZES:
            raise BadInput(f"--size {size!r}: choose one of {', '.join(SIZES)}")
        preset = SIZES[size]
        end = _as_date(end, "--end") or DEFAULT_END
        start = _as_date(start, "--start")
        settings = cls(
            out=Path(out),
            seed=seed,
            symbols=preset["symbols"] if symbols is None else symbols,
            events=preset["events"] if events is None else events,
            start=start or _years_before(end, preset["years"]),
            end=end,
            timestamp_format=timestamp_format,
            force=force,
            calendar_csv=calendar_csv,
            symbols_fraction=symbols_fraction,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.symbols < 1:
            raise BadInput(f"--symbols {self.symbols}: need at least 1 symbol")
        if self.events < 0:
            raise BadInput(f"--events {self.events}: must be >= 0")
        if self.end <= self.start:
            raise BadInput(f"--start {self.start} must be before --end {self.end}")
        if self.timestamp_format not in TIMESTAMP_FORMATS:
            raise BadInput(
                f"--timestamp-format {self.timestamp_format!r}: choose one of {', '.join(TIMESTAMP_FORMATS)}"
            )
        if not 0 < self.symbols_fraction <= 1:
            raise BadInput(f"--symbols-fraction {self.symbols_fraction}: must be in (0, 1]")
        if not 0 <= self.seed < 2**31:
            raise BadInput(f"--seed {self.seed}: must be between 0 and 2147483647")

    @property
    def edge_rows_per_kind(self) -> int:
        """A few per kind in the small preset, a few hundred at the default size."""
        return max(3, self.events // 2_500)

    @property
    def parts(self) -> int:
        return max(3, math.ceil(self.events / EVENTS_PER_PART))


@dataclass
class DemoSummary:
    out: Path
    event_files: int
    event_rows: int
    daily_files: int
    daily_rows: int
    edge_rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        edges = ", ".join(f"{kind} {n}" for kind, n in self.edge_rows.items())
        return [
            f"events:     {self.event_rows:,} rows in {self.event_files} files under {self.out / 'events'}",
            f"daily bars: {self.daily_rows:,} rows in {self.daily_files} files under {self.out / 'daily'}",
            f"edge rows:  {edges}",
            f"done in {self.seconds:.1f} s",
        ]


def generate(settings: DemoSettings) -> DemoSummary:
    """Write `{out}/events/part-NNN.parquet` and `{out}/daily/{SYMBOL}.parquet` (see the module doc).

    Everything is built in a staging directory under `out` and moved into place at the end, so an
    interrupted run never leaves half a data set behind.
    """
    began = time.monotonic()
    settings.validate()
    out = settings.out
    targets = [out / "events", out / "daily"]
    occupied = [t for t in targets if t.is_dir() and any(t.iterdir())]
    if occupied and not settings.force:
        raise BadInput(
            f"{occupied[0]} is not empty: refusing to overwrite it. Pass --force to replace "
            f"{out / 'events'} and {out / 'daily'} (nothing else under {out} is touched), or choose another --out."
        )
    blocking = [t for t in targets if t.exists() and not t.is_dir()]
    if blocking:
        raise BadInput(f"{blocking[0]} is a file, not a directory: move it away or choose another --out.")
    holidays, early_closes = read_calendar(settings.calendar_csv, settings.start, settings.end)
    universe = Universe(
        seed=settings.seed, start=settings.start, end=settings.end,
        tickers=make_tickers(settings.symbols, settings.seed),
        holidays=holidays, early_closes=early_closes,
        regular_events=max(0, settings.events - settings.edge_rows_per_kind * len(EDGE_KINDS)),
        edge_rows_per_kind=settings.edge_rows_per_kind, parts=settings.parts,
    )
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-data-", dir=out))
    try:
        con = duckdb.connect(str(staging / "work.duckdb"), config={
            "memory_limit": WORK_MEMORY, "temp_directory": str(staging / "spill"),
        })
        try:
            con.execute("set enable_progress_bar = false")
            con.execute("set TimeZone = 'UTC'")  # TIMESTAMPTZ values are written and read as UTC
            build(con, universe)
            if settings.symbols_fraction < 1:
                _keep_symbol_fraction(con, settings.symbols_fraction)
            event_rows = _write_events(con, settings, staging / "events")
            daily_files, daily_rows = _write_daily(con, staging / "daily")
            edge_rows = dict(con.execute("select kind, count(*) from edge_events group by kind").fetchall())
        finally:
            con.close()
        for target in targets:
            if target.exists():
                shutil.rmtree(target)
            (staging / target.name).rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return DemoSummary(
        out=out, event_files=settings.parts, event_rows=event_rows,
        daily_files=daily_files, daily_rows=daily_rows,
        edge_rows={kind: edge_rows.get(kind, 0) for kind in EDGE_KINDS},
        seconds=time.monotonic() - began,
    )


def read_calendar(path: Path, start: dt.date, end: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """NYSE holidays and early-close days in [start, end] from the committed seed."""
    if not path.is_file():
        raise BadInput(f"NYSE calendar seed {path} not found: run from a checkout that has seeds/nyse_calendar.csv.")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [(dt.date.fromisoformat(r["date"]), r["status"]) for r in csv.DictReader(fh)]
    if not rows or start.year < rows[0][0].year or end.year > rows[-1][0].year:
        covered = f"{rows[0][0].year}-{rows[-1][0].year}" if rows else "nothing"
        raise BadInput(
            f"--start {start} / --end {end} fall outside the calendar seed {path} (covers {covered}); "
            "choose dates inside it or extend it with scripts/generate_calendar.py --end YYYY-12-31."
        )
    holidays = [day for day, status in rows if start <= day <= end and status == "holiday"]
    early = [day for day, status in rows if start <= day <= end and status == "early_close"]
    return holidays, early


def make_tickers(n: int, seed: int) -> list[str]:
    """`n` distinct, plausible tickers (1-4 letters, plus the dotted classes from 20 symbols on)."""
    rng = random.Random(f"tickwindows-demo:{seed}")
    tickers = list(DOTTED_TICKERS) if n >= 20 else []
    seen = set(tickers)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    while len(tickers) < n:
        length = rng.choices((1, 2, 3, 4), weights=(2, 10, 44, 44))[0]
        ticker = "".join(rng.choice(letters) for _ in range(length))
        if ticker not in seen and not ticker.startswith(GHOST_PREFIX):
            seen.add(ticker)
            tickers.append(ticker)
    return tickers


def _as_date(value: dt.date | str | None, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


def _years_before(end: dt.date, years: int) -> dt.date:
    """The day after the same date `years` earlier: 3 years ending 2025-10-31 start 2022-11-01."""
    day = 28 if (end.month, end.day) == (2, 29) else end.day
    return end.replace(year=end.year - years, day=day) + dt.timedelta(days=1)


# How the events' `timestamp` column is stored, per --timestamp-format (ts_utc is naive UTC).
_TIMESTAMP_COLUMN = {
    "timestamp": "ts_utc",
    "timestamptz": "cast(ts_utc as timestamptz)",  # the session time zone is UTC
    "ns": "epoch_ns(ts_utc)",
    "us": "epoch_us(ts_utc)",
    "ms": "epoch_ms(ts_utc)",
}


def _keep_symbol_fraction(con: duckdb.DuckDBPyConnection, fraction: float) -> None:
    """Drop every row of a symbol outside the kept share: the same symbols whatever else changes,
    and every symbol kept at a smaller fraction kept at a larger one (nested partial universes).
    Unnormalised spellings of a ticker follow the ticker; rows without a symbol stay."""
    kept = f"(hash('symbols-fraction', upper(trim(symbol))) % 1000000) / 1000000.0 < {float(fraction)!r}"
    for table in ("regular_events", "edge_events", "daily", "symbols"):
        con.execute(f"delete from {table} where symbol is not null and not {kept}")


def _write_events(con: duckdb.DuckDBPyConnection, s: DemoSettings, dest: Path) -> int:
    """One file per part (a hash of each row's key picked it); rows sorted by time inside a part."""
    dest.mkdir(parents=True)
    rows = 0
    for part in range(s.parts):
        table = con.sql(f"""
            select symbol, {_TIMESTAMP_COLUMN[s.timestamp_format]} as "timestamp", event_type, score,
                   price, volume, session
            from (
                select symbol, ts_utc, event_type, score, price, volume, session from regular_events where part = {part}
                union all
                select symbol, ts_utc, event_type, score, price, volume, session from edge_events where part = {part}
            )
            order by ts_utc nulls last, symbol nulls last, event_type, score, price nulls last,
                     volume nulls last, session nulls last
        """).to_arrow_table()
        pq.write_table(table, dest / f"part-{part:03d}.parquet", row_group_size=131_072, compression="zstd")
        rows += table.num_rows
    return rows


def _write_daily(con: duckdb.DuckDBPyConnection, dest: Path) -> tuple[int, int]:
    """Split the daily table (sorted by symbol) into one file per symbol, in the symbol's column variant."""
    bars = con.sql("""
        select date, t_ms, open, high, low, close, volume, vwap, transactions
        from daily order by symbol, date
    """).to_arrow_table()
    layout = con.execute("""
        select symbol, any_value(date_col), any_value(vwap_col), any_value(tx_col), count(*)
        from daily join symbols using (symbol) group by symbol order by symbol
    """).fetchall()
    dest.mkdir(parents=True)
    offset = 0
    for symbol, date_col, vwap_col, tx_col, n in layout:
        chunk = bars.slice(offset, n)
        offset += n
        columns = {date_col: chunk["date"] if date_col == "date" else chunk["t_ms"]}
        for name in ("open", "high", "low", "close", "volume"):
            columns[name] = chunk[name]
        if vwap_col != "none":
            columns[vwap_col] = chunk["vwap"]
        if tx_col != "none":
            columns[tx_col] = chunk["transactions"]
        pq.write_table(pa.table(columns), dest / f"{symbol}.parquet", compression="zstd")
    return len(layout), offset
