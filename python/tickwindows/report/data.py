"""What the report shows, read once: the warehouse's figures on the manifest and its GO/NO-GO.

`load_report` reads everything from a read-only connection into `ReportData`; tables.py turns it
into plain tables that the terminal (terminal.py) and the HTML page (html.py) both render, so the
two always show the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypedDict, cast

import duckdb

from ..errors import BadInput
from ..gate import Fingerprint, GateVerdict, latest_verdict, read_fingerprint
from ..warehouse import connect_read_only, relations

REQUIRED_RELATIONS = (
    "manifest_summary", "manifest_core", "selection_config", "download_estimate_totals",
    "download_estimate_draws", "manifest_fingerprint",
)
# The event study (main.event_study) is shown once windows are downloaded; a warehouse built before
# it existed simply has none.
EVENT_STUDY_MEASURES = (
    "quoted_spread_tw", "effective_spread_dvw", "realized_spread_5m_dvw", "price_impact_5m_dvw",
    "order_imbalance", "n_trades_per_min", "volume_per_min", "trades_unmatched_per_min", "trades_unsigned_per_min",
)
POOLED_EVENT_TYPES = "(all types)"


class SelectionConfig(TypedDict):
    """The columns of main.selection_config (one row: the active profile) that the report reads."""

    profile: str
    config_hash: str
    enrichment_version: str
    min_events: int
    max_events: int
    min_symbols: int
    max_per_symbol: int
    top20_max_share: float
    pm_min: float
    pm_max: float
    rth_min: float
    rth_max: float
    ah_min: float
    ah_max: float
    storage_p90_max_gb: float
    download_p90_max_days: float


class EstimateTotals(TypedDict, total=False):
    """main.download_estimate_totals (one row; empty when the table is)."""

    storage_gb_p50: float | None
    storage_gb_p90: float | None
    download_days_p50: float | None
    download_days_p90: float | None
    requests_p50: float | None
    requests_p90: float | None
    calibrated: bool | None
    pilot_windows: int | None
    calibrated_at: datetime | None


def session_band(config: SelectionConfig, session: str) -> tuple[float, float]:
    """The configured (min, max) share of a session (PM, RTH or AH)."""
    bands = {
        "PM": (config["pm_min"], config["pm_max"]),
        "RTH": (config["rth_min"], config["rth_max"]),
        "AH": (config["ah_min"], config["ah_max"]),
    }
    return bands[session]


@dataclass(frozen=True)
class SummaryRow:
    section: str
    metric: str
    value: float | None
    target: str | None
    status: str  # info; or, for a row a gate check judges, the gate's ok / fail (pending before any verdict)
    gate_check: str | None
    detail: str | None


@dataclass(frozen=True)
class EventStudyRow:
    """A row of main.event_study: one measure's pre vs post medians for a session x event_type."""

    session: str
    event_type: str
    measure: str
    windows: int
    median_pre: float | None
    median_post: float | None
    median_post_minus_pre: float | None
    ci95_low: float | None
    ci95_high: float | None


@dataclass
class ReportData:
    db_path: Path
    config: SelectionConfig
    summary: list[SummaryRow]
    gate: GateVerdict | None
    manifest_rows_now: int
    manifest_checksum_now: str
    events_per_symbol: list[int]  # descending: the concentration curve and the histogram
    storage_draws: list[float]
    days_draws: list[float]
    totals: EstimateTotals = field(default_factory=lambda: EstimateTotals())
    event_study: list[EventStudyRow] = field(default_factory=list)
    downloaded_windows: int = 0  # windows in main.window_liquidity (both files present)

    @property
    def matches_now(self) -> bool:
        return self.gate is not None and self.gate.is_current

    @property
    def verdict(self) -> str:
        if self.gate is None:
            return "NO VERDICT"
        return "GO" if self.gate.go else "NO-GO"

    @property
    def current_go(self) -> bool:
        """What `download`, `release` and `export` will accept: a current GO with every gate check passed."""
        return self.gate is not None and self.gate.current_go

    @property
    def summary_events(self) -> int | None:
        row = self.metric("selected_events")
        return int(row.value) if row is not None and row.value is not None else None

    @property
    def summary_stale(self) -> bool:
        """manifest_summary is a table: `dbt test` alone re-judges an edited manifest without
        rebuilding it, so its figures can describe an older manifest than the gate did."""
        return self.summary_events != self.manifest_rows_now

    def metric(self, name: str) -> SummaryRow | None:
        return next((r for r in self.summary if r.metric == name), None)

    def section(self, name: str) -> list[SummaryRow]:
        return [r for r in self.summary if r.section == name]


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, object]]:
    """Rows as {column: value}; the caller names their types (the warehouse's columns are typed)."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _optional_float(value: object) -> float | None:
    return None if value is None else float(cast(float, value))


def _event_study(con: duckdb.DuckDBPyConnection, present: set[str]) -> tuple[list[EventStudyRow], int]:
    """main.event_study's rows and how many windows window_liquidity measured (none before a download)."""
    if "event_study" not in present or "window_liquidity" not in present:
        return [], 0
    row = con.execute("select count(distinct event_id) from main.window_liquidity").fetchone()
    downloaded = int(row[0]) if row else 0
    rows = con.execute(
        "select session, event_type, measure, windows, median_pre, median_post, median_post_minus_pre,"
        " ci95_low, ci95_high from main.event_study order by session, event_type, measure"
    ).fetchall()
    study = [
        EventStudyRow(str(session), str(event_type), str(measure), int(windows), _optional_float(pre),
                      _optional_float(post), _optional_float(diff), _optional_float(low), _optional_float(high))
        for session, event_type, measure, windows, pre, post, diff, low, high in rows
    ]
    return study, downloaded


def load_report(db_path: Path) -> ReportData:
    """Everything the report shows, from one read-only connection. gate_runs may be absent
    (no gate has run yet): the report then says NO VERDICT."""
    con = connect_read_only(db_path)
    try:
        present = relations(con)
        missing = [r for r in REQUIRED_RELATIONS if r not in present]
        if missing:
            raise BadInput(
                f"--db {db_path}: missing {', '.join('main.' + m for m in missing)}; run `dbt build` first"
            )
        config_rows = _dicts(con, "select * from main.selection_config")
        if len(config_rows) != 1:
            raise BadInput(f"--db {db_path}: main.selection_config has {len(config_rows)} rows, expected 1; "
                           "run `dbt build` again")
        summary = [SummaryRow(*r) for r in con.execute(
            "select section, metric, value, target, status, gate_check, detail from main.manifest_summary").fetchall()]
        now = read_fingerprint(con) or Fingerprint(None, None)  # present: checked above
        per_symbol = [n for (n,) in con.execute(
            "select count(*) as n from main.manifest_core group by symbol order by n desc, any_value(symbol)"
        ).fetchall()]
        draws = con.execute(
            "select storage_gb, download_days from main.download_estimate_draws order by draw").fetchall()
        totals = _dicts(con, "select * from main.download_estimate_totals")
        study, downloaded = _event_study(con, present)
        return ReportData(
            db_path=db_path,
            config=cast(SelectionConfig, config_rows[0]),
            summary=summary,
            gate=latest_verdict(con),
            manifest_rows_now=int(now.rows or 0),
            manifest_checksum_now=str(now.checksum),
            events_per_symbol=per_symbol,
            storage_draws=[float(s) for s, _ in draws if s is not None],
            days_draws=[float(d) for _, d in draws if d is not None],
            totals=cast(EstimateTotals, totals[0]) if totals else EstimateTotals(),
            event_study=study,
            downloaded_windows=downloaded,
        )
    finally:
        con.close()
