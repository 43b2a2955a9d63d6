"""Reading the warehouse: the manifest's windows and the gate's latest verdict.

The downloader opens the DuckDB file read-only; the gate check compares the latest `gate_runs`
row with `manifest_fingerprint` (a view, always current), so a manifest edited after its
verdict cannot be downloaded until the gate runs again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from .errors import BadInput, GateClosed
from .download.polygon import validate_event_id, validate_symbol


@dataclass(frozen=True)
class Window:
    event_id: str
    symbol: str
    session: str
    trading_date: date
    start_ns: int
    end_ns: int


@dataclass(frozen=True)
class GateVerdict:
    evaluated_at: str
    manifest_checksum: str
    manifest_rows: int


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    if not db_path.exists():
        raise BadInput(f"--db {db_path}: no such DuckDB file; run `dbt build` first (or set TICKWINDOWS_DB)")
    try:
        return duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise BadInput(f"--db {db_path}: cannot open read-only ({exc}); is another process writing it?") from None


def _has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def _require(con: duckdb.DuckDBPyConnection, db_path: Path, name: str) -> None:
    if not _has_relation(con, name):
        raise BadInput(f"--db {db_path}: relation main.{name} is missing; run `dbt build` to create it")


def read_windows(con: duckdb.DuckDBPyConnection, db_path: Path, limit: int | None = None) -> list[Window]:
    """Manifest windows in event_id order (the first `limit` of them), validated for use as paths."""
    _require(con, db_path, "manifest_core")
    sql = (
        "select event_id, symbol, session, trading_date, epoch_ns(window_start_utc), epoch_ns(window_end_utc)"
        " from main.manifest_core order by event_id"
    )
    if limit is not None:
        sql += f" limit {int(limit)}"
    windows = []
    for event_id, symbol, session, trading_date, start_ns, end_ns in con.execute(sql).fetchall():
        validate_event_id(event_id)
        validate_symbol(symbol, event_id=event_id)
        if start_ns is None or end_ns is None or not start_ns < end_ns:
            raise BadInput(f"manifest_core: event {event_id} has an empty or null window [{start_ns}, {end_ns})")
        if not isinstance(trading_date, date):
            raise BadInput(f"manifest_core: event {event_id} has trading_date {trading_date!r}, expected a DATE")
        windows.append(Window(event_id, symbol, session, trading_date, int(start_ns), int(end_ns)))
    return windows


def check_gate(con: duckdb.DuckDBPyConnection, db_path: Path) -> GateVerdict:
    """Pass only when the latest verdict is a GO for the manifest exactly as it is now."""
    if not _has_relation(con, "gate_runs"):
        raise GateClosed(
            f"{db_path}: no gate verdict yet (main.gate_runs is missing). Run `dbt build` (it evaluates the gate), "
            "then download; or pass --force to skip the gate knowingly."
        )
    if not _has_relation(con, "manifest_fingerprint"):
        raise GateClosed(f"{db_path}: main.manifest_fingerprint is missing, so the verdict cannot be matched to the "
                         "manifest. Run `dbt build` (all models), then download.")
    cols = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'main' and table_name = 'gate_runs'"
    ).fetchall()}
    messages = "failure_messages" if "failure_messages" in cols else "null"
    latest = con.execute(
        f"select evaluated_at, go, manifest_checksum, manifest_rows, failed_checks, {messages}"
        " from main.gate_runs order by evaluated_at desc limit 1"
    ).fetchone()
    if latest is None:
        raise GateClosed(
            f"{db_path}: main.gate_runs holds no verdict. Run `dbt build` to evaluate the gate, then download."
        )
    evaluated_at, go, checksum, rows, failed_checks, failure_messages = latest
    if not go:
        detail = failure_messages or failed_checks or "(no check named)"
        raise GateClosed(
            f"the latest gate verdict ({evaluated_at}) is NO-GO; failed checks: {detail}. "
            "Fix the inputs or config and run `dbt build` again."
        )
    now_rows, now_checksum = con.execute(
        "select manifest_rows, manifest_checksum from main.manifest_fingerprint"
    ).fetchone() or (None, None)
    if now_checksum != checksum:
        raise GateClosed(
            f"the manifest changed since the GO of {evaluated_at} (checksum {checksum}, {rows} rows; now "
            f"{now_checksum}, {now_rows} rows). Run `dbt build` to evaluate the gate on the current manifest."
        )
    return GateVerdict(str(evaluated_at), str(checksum), int(rows or 0))


def read_liquidity(con: duckdb.DuckDBPyConnection, db_path: Path) -> dict[str, float | None]:
    """adv20_dollar per manifest event (from events_enriched), for the pilot's strata."""
    _require(con, db_path, "events_enriched")
    rows = con.execute(
        "select m.event_id, e.adv20_dollar from main.manifest_core m"
        " left join main.events_enriched e using (event_id)"
    ).fetchall()
    return {event_id: (float(adv) if adv is not None else None) for event_id, adv in rows}
