"""A hand-built warehouse for the downloader's tests: the relations dbt would create, no dbt run.

The views the CLI reads to judge the gate and the lineage (manifest_fingerprint, manifest_lineage_current)
are created from the SQL of the dbt models themselves (their ref()/source() resolved by hand), so the gate
check is exercised against the real checksum formulas and the real definition of the current lineage.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from tickwindows.batches import BATCHES_DDL, LINEAGES_DDL
from tickwindows.gate import GATE_CHECKS

REPO = Path(__file__).resolve().parents[2]
# What each ref()/source() of those models is in the hand-built warehouse.
RELATIONS = {
    "ref('manifest_core')": "main.manifest_core",
    "ref('selection_config')": "main.selection_config",
    "ref('download_estimate_totals')": "main.download_estimate_totals",
    "ref('manifest_lineage_current')": "main.manifest_lineage_current",
    "ref('stg_tickwindows__manifest_batches')": "main.manifest_batches",
    "ref('stg_tickwindows__manifest_lineages')": "main.manifest_lineages",
    "source('tickwindows', 'manifest_batches')": "main.manifest_batches",
}


def model_view_sql(model: str, view: str) -> str:
    """`create or replace view main.<view>` from models/<model>, Jinja comments and config dropped, every
    {{ ref(...) }} / {{ source(...) }} replaced by its relation in RELATIONS."""
    text = (REPO / "models" / model).read_text()
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    text = re.sub(r"\{\{\s*config\(.*?\)\s*\}\}", "", text, flags=re.S)
    text = re.sub(r"\{\{\s*((?:ref|source)\(.*?\))\s*\}\}", lambda m: RELATIONS[m.group(1)], text)
    assert "{{" not in text and "{%" not in text, text
    return f"create or replace view main.{view} as\n{text}"


def fingerprint_view_sql() -> str:
    """models/marts/manifest/manifest_fingerprint.sql itself, with its ref() and Jinja resolved by hand."""
    return model_view_sql("marts/manifest/manifest_fingerprint.sql", "manifest_fingerprint")


def lineage_view_sql() -> str:
    """The definition of the current lineage (int_manifest_lineage_current.sql) as main.manifest_lineage_current."""
    return model_view_sql("intermediate/selection/int_manifest_lineage_current.sql", "manifest_lineage_current")


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
        con.execute("create or replace table main.selection_config as select 'core' as profile, 'cfg1' as config_hash,"
                    " 'enrich-v1' as enrichment_version, 1.0::double as coverage")
        con.execute("create or replace table main.download_estimate_totals as select 400 as draws,"
                    f" {len(events)} as events, {len(events)} as events_covered, 1.0::double as storage_gb_p90,"
                    " 0.1::double as download_days_p90")
        con.execute(BATCHES_DDL)
        con.execute(LINEAGES_DDL)
        con.execute(lineage_view_sql())
        con.execute(fingerprint_view_sql())
        if gate is not None:
            record_gate(con, go=(gate == "go"))
    finally:
        con.close()


def record_gate(con: duckdb.DuckDBPyConnection, *, go: bool, failed: str = "gate_03_session_share") -> None:
    """A gate_runs row as the on-run-end hook records it, for the tables as they are now: a GO passes every
    check of GATE_CHECKS, a NO-GO fails `failed`."""
    con.execute(
        "create table if not exists main.gate_runs (evaluated_at timestamp, invocation_id varchar, command varchar,"
        " profile varchar, config_hash varchar, enrichment_version varchar, manifest_checksum varchar,"
        " manifest_rows bigint, tests_expected integer, tests_passed integer, tests_failed integer,"
        " passed_checks varchar, failed_checks varchar, failure_messages varchar, go boolean,"
        " judged_checksum varchar)"
    )
    passed = [c for c in GATE_CHECKS if go or c != failed]
    con.execute(
        "insert into main.gate_runs by name select now()::timestamp as evaluated_at, 'inv' as invocation_id,"
        " 'build' as command, 'core' as profile, 'cfg1' as config_hash, 'enrich-v1' as enrichment_version,"
        " manifest_checksum, manifest_rows, ? as tests_expected, ? as tests_passed, ? as tests_failed,"
        " ? as passed_checks, ? as failed_checks, null as failure_messages, ? as go, judged_checksum"
        " from main.manifest_fingerprint",
        [len(GATE_CHECKS), len(passed), 0 if go else 1, ",".join(passed), "" if go else failed, go],
    )
