"""A hand-built warehouse for the downloader's tests: the relations dbt would create, no dbt run.

manifest_fingerprint is created from the SQL of models/marts/manifest/manifest_fingerprint.sql itself, so
the gate check is exercised against the real checksum formula.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]


def fingerprint_view_sql() -> str:
    """models/marts/manifest/manifest_fingerprint.sql itself, with its ref() and Jinja resolved by hand."""
    model = (REPO / "models" / "marts" / "manifest" / "manifest_fingerprint.sql").read_text()
    body = model[model.index("\nselect") + 1:]
    return "create or replace view main.manifest_fingerprint as\n" + body.replace(
        "{{ ref('manifest_core') }}", "main.manifest_core")


@dataclass(frozen=True)
class Ev:
    symbol: str
    session: str
    start: datetime  # naive UTC
    seconds: int
    adv20: float = 1e7

    @property
    def event_id(self) -> str:
        return hashlib.md5(f"{self.symbol}|{self.start.isoformat()}|spike".encode()).hexdigest()

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    @property
    def start_ns(self) -> int:
        return int((self.start - datetime(1970, 1, 1)).total_seconds()) * 1_000_000_000

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.seconds * 1_000_000_000

    @property
    def trading_date(self) -> date:
        return (self.start - timedelta(hours=5)).date()  # EST in March before DST: fine for tests


def build_warehouse(db: Path, events: list[Ev], *, gate: str | None = "go") -> None:
    """gate: 'go' (a GO for this manifest), 'nogo', or None (no gate_runs table)."""
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "create or replace table main.manifest_core (event_id varchar, symbol varchar, session varchar,"
            " event_ts_utc timestamp, event_ts_et timestamp, window_start_utc timestamp, window_end_utc timestamp,"
            " trading_date date,"
            " event_type varchar, score double, symbol_rank integer, selection_stage varchar, profile varchar,"
            " config_hash varchar, enrichment_version varchar)"
        )
        con.execute(
            "create or replace table main.events_enriched (event_id varchar, symbol varchar, session varchar,"
            " adv20_dollar double, dollar_volume_day double)"
        )
        for i, ev in enumerate(events):
            con.execute(
                "insert into main.manifest_core values (?, ?, ?, ?, ?, ?, ?, ?, 'spike', ?, 1, 'one', 'core', 'cfg1',"
                " 'enrich-v1')",
                [ev.event_id, ev.symbol, ev.session, ev.start, ev.start - timedelta(hours=5), ev.start, ev.end,
                 ev.trading_date, 10.0 - i],
            )
            con.execute("insert into main.events_enriched values (?, ?, ?, ?, ?)",
                        [ev.event_id, ev.symbol, ev.session, ev.adv20, ev.adv20])
        con.execute(fingerprint_view_sql())
        if gate is not None:
            record_gate(con, go=(gate == "go"))
    finally:
        con.close()


def record_gate(con: duckdb.DuckDBPyConnection, *, go: bool, failed: str = "gate_03_session_share") -> None:
    con.execute(
        "create table if not exists main.gate_runs (evaluated_at timestamp, invocation_id varchar, command varchar,"
        " profile varchar, config_hash varchar, enrichment_version varchar, manifest_checksum varchar,"
        " manifest_rows bigint, tests_passed integer, tests_failed integer, failed_checks varchar, go boolean)"
    )
    con.execute(
        "insert into main.gate_runs select now()::timestamp, 'inv', 'build', 'core', 'cfg1', 'enrich-v1',"
        " manifest_checksum, manifest_rows, ?, ?, ?, ? from main.manifest_fingerprint",
        [12 if go else 11, 0 if go else 1, "" if go else failed, go],
    )
