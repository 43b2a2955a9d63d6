"""Releasing the manifest in batches while detection still runs (docs/CONTRACT.md, "Batches").

`release` pins the current manifest, after a current GO, as the next batch in main.manifest_batches:
one row per event not pinned yet, exactly as it stands in manifest_core (window, symbol, session,
score, stage, config). Every later `dbt build` keeps those events in manifest_core unchanged and
selects new picks around them; the gate (check 15) fails if one goes missing or moves. `download`
and `export` release what they consume, so nothing downloaded is ever unpinned.

`release --discard` starts a new lineage (recorded in main.manifest_lineages with its reason): the
next build selects from scratch. No file is deleted: downloaded windows stay where they are, and a
window selected again is verified by checksum and not fetched twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .errors import BadInput
from .gate import GateVerdict, require_go
from .warehouse import has_relation, require_relation

# The same tables as the dbt project's on-run-start hook creates (macros/tickwindows_tables.sql), so that
# `release` works on any warehouse dbt has built; python/tests/test_batches.py checks both create the same.
BATCHES_DDL = """
create table if not exists main.manifest_batches (
    lineage integer not null,
    batch integer not null,
    released_at timestamp not null,
    event_id varchar not null,
    symbol varchar not null,
    session varchar not null,
    event_ts_utc timestamp,
    event_ts_et timestamp,
    window_start_utc timestamp not null,
    window_end_utc timestamp not null,
    trading_date date not null,
    event_type varchar,
    score double,
    selection_stage varchar,
    profile varchar,
    config_hash varchar,
    enrichment_version varchar,
    coverage double,
    manifest_checksum varchar,
    primary key (lineage, event_id)
)"""

LINEAGES_DDL = """
create table if not exists main.manifest_lineages (
    lineage integer primary key,
    started_at timestamp not null,
    reason varchar not null
)"""


@dataclass(frozen=True)
class BatchInfo:
    """One released batch of the current lineage."""

    batch: int
    events: int
    released_at: str
    manifest_checksum: str | None
    coverage: float | None


@dataclass(frozen=True)
class ReleaseResult:
    lineage: int
    batch: int | None  # the batch this call released; None when there was nothing new
    released: int  # events pinned by this call
    pinned_total: int  # events pinned in the current lineage after this call
    message: str


def _connect_rw(db_path: Path) -> duckdb.DuckDBPyConnection:
    if not db_path.exists():
        raise BadInput(f"--db {db_path}: no such DuckDB file; run `dbt build` first (or set TICKWINDOWS_DB)")
    try:
        return duckdb.connect(str(db_path))
    except duckdb.Error as exc:
        raise BadInput(
            f"--db {db_path}: cannot open for writing ({exc}); is dbt or another command using it?"
        ) from None


def _scalar_int(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    value = row[0] if row else None
    return int(value) if isinstance(value, int | float) else 0


def current_lineage(con: duckdb.DuckDBPyConnection) -> int:
    """The latest lineage started (0 before the first release), as the dbt project defines it: the view
    main.manifest_lineage_current (models/intermediate/selection/int_manifest_lineage_current.sql), which
    the selection and the gate read too."""
    if not has_relation(con, "manifest_lineage_current"):
        raise BadInput("main.manifest_lineage_current is missing: this warehouse was built by an older version of "
                       "tickwindows; run `dbt build` first")
    return _scalar_int(con, "select lineage from main.manifest_lineage_current")


def batches(con: duckdb.DuckDBPyConnection) -> list[BatchInfo]:
    """The batches of the current lineage, in order."""
    if not has_relation(con, "manifest_batches"):
        return []
    rows = con.execute(
        "select batch, count(*), cast(min(released_at) as varchar), min(manifest_checksum), min(coverage)"
        " from main.manifest_batches where lineage = ? group by batch order by batch",
        [current_lineage(con)],
    ).fetchall()
    return [
        BatchInfo(int(b), int(n), str(at), None if cs is None else str(cs), None if cov is None else float(cov))
        for b, n, at, cs, cov in rows
    ]


def release(db_path: Path, *, force: bool = False) -> ReleaseResult:
    """Pin every manifest_core event not pinned yet as the next batch; requires a current GO unless
    `force` (then the batch is pinned all the same, since what is downloaded must stay pinned)."""
    con = _connect_rw(db_path)
    try:
        require_relation(con, db_path, "manifest_core")
        verdict: GateVerdict | None = None if force else require_go(con, db_path)
        return _pin_new_events(con, verdict)
    finally:
        con.close()


def _pin_new_events(con: duckdb.DuckDBPyConnection, verdict: GateVerdict | None) -> ReleaseResult:
    con.execute("begin transaction")
    try:
        con.execute(BATCHES_DDL)
        con.execute(LINEAGES_DDL)
        lineage = current_lineage(con)
        if lineage == 0:
            lineage = 1
            con.execute("insert into main.manifest_lineages values (?, ?, ?)",
                        [lineage, _now(), "first release"])
        new = _scalar_int(
            con,
            "select count(*) from main.manifest_core m"
            " where not exists (select 1 from main.manifest_batches b where b.lineage = ? and b.event_id = m.event_id)",
            [lineage],
        )
        pinned_before = _scalar_int(con, "select count(*) from main.manifest_batches where lineage = ?", [lineage])
        if new == 0:
            con.execute("commit")
            return ReleaseResult(lineage, None, 0, pinned_before,
                                 f"nothing new to release: the {pinned_before:,} manifest events are already pinned "
                                 f"(lineage {lineage})")
        batch = _scalar_int(con, "select coalesce(max(batch), 0) + 1 from main.manifest_batches")
        coverage = (
            "(select coverage from main.selection_config)" if has_relation(con, "selection_config") else "null"
        )
        checksum = verdict.manifest_checksum if verdict is not None else None
        con.execute(
            f"""insert into main.manifest_batches
            select ?, ?, ?, m.event_id, m.symbol, m.session, m.event_ts_utc, m.event_ts_et,
                   m.window_start_utc, m.window_end_utc, m.trading_date, m.event_type, m.score,
                   m.selection_stage, m.profile, m.config_hash, m.enrichment_version, {coverage}, ?
            from main.manifest_core m
            where not exists (select 1 from main.manifest_batches b where b.lineage = ? and b.event_id = m.event_id)
            order by m.event_id""",
            [lineage, batch, _now(), checksum, lineage],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    forced = "" if verdict is not None else " WITHOUT a current GO (--force)"
    return ReleaseResult(
        lineage, batch, new, pinned_before + new,
        f"released batch {batch}{forced}: {new:,} events pinned "
        f"(lineage {lineage}, {pinned_before + new:,} pinned in all). "
        "The next `dbt build` keeps them as they are and selects new events around them.",
    )


def discard(db_path: Path, reason: str) -> ReleaseResult:
    """Start a new lineage: earlier pins no longer bind the selection. Deletes nothing."""
    if not reason.strip():
        raise BadInput("release --discard needs --reason TEXT: why the pinned batches are being set aside")
    con = _connect_rw(db_path)
    try:
        con.execute("begin transaction")
        con.execute(BATCHES_DDL)
        con.execute(LINEAGES_DDL)
        old = current_lineage(con)
        if old == 0:
            con.execute("rollback")
            raise BadInput(f"--db {db_path}: nothing to discard, no batch has been released yet")
        pinned = _scalar_int(con, "select count(*) from main.manifest_batches where lineage = ?", [old])
        new = old + 1
        con.execute("insert into main.manifest_lineages values (?, ?, ?)", [new, _now(), f"discard: {reason.strip()}"])
        con.execute("commit")
    finally:
        con.close()
    return ReleaseResult(
        new, None, 0, 0,
        f"started lineage {new}: the {pinned:,} events pinned in lineage {old} no longer bind the selection "
        "(they stay recorded in main.manifest_batches). Every downloaded file is kept: windows selected again "
        "are verified by checksum and not fetched twice. Run `dbt build` to select afresh.",
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
