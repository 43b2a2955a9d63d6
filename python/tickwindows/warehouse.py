"""Reading the warehouse: the read-only connection, which relations exist, the manifest's windows.

Every command opens the DuckDB file read-only (only `pilot` writes, one table: see pilot.py).
The gate's verdict is read by gate.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from .errors import BadInput

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.\-]{0,14}$")
EVENT_ID_RE = re.compile(r"^[0-9a-f]{8,64}$")


@dataclass(frozen=True)
class Window:
    event_id: str
    symbol: str
    session: str
    trading_date: date
    start_ns: int
    end_ns: int


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    if not db_path.exists():
        raise BadInput(f"--db {db_path}: no such DuckDB file; run `dbt build` first (or set TICKWINDOWS_DB)")
    try:
        return duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise BadInput(f"--db {db_path}: cannot open read-only ({exc}); is another process writing it?") from None


def relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables and views in schema main."""
    rows = con.execute("select table_name from information_schema.tables where table_schema = 'main'").fetchall()
    return {str(name) for (name,) in rows}


def has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def require_relation(con: duckdb.DuckDBPyConnection, db_path: Path, name: str) -> None:
    if not has_relation(con, name):
        raise BadInput(f"--db {db_path}: relation main.{name} is missing; run `dbt build` to create it")


def validate_symbol(symbol: object, *, event_id: str = "?") -> str:
    if not isinstance(symbol, str) or not SYMBOL_RE.match(symbol):
        raise BadInput(
            f"manifest_core: symbol {symbol!r} of event {event_id} is not a ticker "
            f"(expected {SYMBOL_RE.pattern}); refusing to turn it into a path or URL"
        )
    return symbol


def validate_event_id(event_id: object) -> str:
    if not isinstance(event_id, str) or not EVENT_ID_RE.match(event_id):
        raise BadInput(f"manifest_core: event_id {event_id!r} is not a lowercase hex hash; refusing it as a file name")
    return event_id


def read_windows(con: duckdb.DuckDBPyConnection, db_path: Path, limit: int | None = None) -> list[Window]:
    """Manifest windows in event_id order (the first `limit` of them), validated for use as paths."""
    require_relation(con, db_path, "manifest_core")
    sql = (
        "select event_id, symbol, session, trading_date, epoch_ns(window_start_utc), epoch_ns(window_end_utc)"
        " from main.manifest_core order by event_id"
    )
    if limit is not None:
        sql += f" limit {int(limit)}"
    windows = []
    for raw_id, raw_symbol, session, trading_date, start_ns, end_ns in con.execute(sql).fetchall():
        event_id = validate_event_id(raw_id)
        symbol = validate_symbol(raw_symbol, event_id=event_id)
        if start_ns is None or end_ns is None or not start_ns < end_ns:
            raise BadInput(f"manifest_core: event {event_id} has an empty or null window [{start_ns}, {end_ns})")
        if not isinstance(trading_date, date):
            raise BadInput(f"manifest_core: event {event_id} has trading_date {trading_date!r}, expected a DATE")
        windows.append(Window(event_id, symbol, str(session), trading_date, int(start_ns), int(end_ns)))
    return windows


def read_liquidity(con: duckdb.DuckDBPyConnection, db_path: Path) -> dict[str, float | None]:
    """adv20_dollar per manifest event (from events_enriched), for the pilot's strata."""
    require_relation(con, db_path, "events_enriched")
    rows = con.execute(
        "select m.event_id, e.adv20_dollar from main.manifest_core m"
        " left join main.events_enriched e using (event_id)"
    ).fetchall()
    return {str(event_id): (float(adv) if adv is not None else None) for event_id, adv in rows}
