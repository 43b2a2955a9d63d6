"""The report as plain tables of display strings, shared by the terminal and the HTML page."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import SESSIONS
from .data import EVENT_STUDY_MEASURES, POOLED_EVENT_TYPES, EventStudyRow, ReportData, SummaryRow, session_band

# How each event-study measure is shown: (label, factor applied to the stored value, unit).
MEASURE_DISPLAY: dict[str, tuple[str, float, str]] = {
    "quoted_spread_tw": ("quoted spread (time-weighted)", 1e4, "bp"),
    "effective_spread_dvw": ("effective spread", 1e4, "bp"),
    "realized_spread_5m_dvw": ("realized spread 5 min", 1e4, "bp"),
    "price_impact_5m_dvw": ("price impact 5 min", 1e4, "bp"),
    "order_imbalance": ("order imbalance", 1.0, ""),
    "n_trades_per_min": ("trades per minute", 1.0, "/min"),
    "volume_per_min": ("volume per minute", 1.0, "sh/min"),
    "trades_unmatched_per_min": ("unmatched trades per minute", 1.0, "/min"),
    "trades_unsigned_per_min": ("unsigned trades per minute", 1.0, "/min"),
}


@dataclass(frozen=True)
class ReportTable:
    """A titled table of display strings; `statuses[i]` (ok / fail / info / "") colours row i."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    statuses: list[str]
    note: str = ""


def fmt_count(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def fmt_share(v: float | None) -> str:
    return "-" if v is None else f"{v:.1%}"


def fmt_gb(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f} GB"


def fmt_days(v: float | None) -> str:
    """Days, with a human unit beside it: 0.0054 d is easier read as 7.8 min."""
    if v is None:
        return "-"
    hours = v * 24
    human = f"{hours * 60:.1f} min" if hours < 1 else f"{hours:.1f} h" if hours < 48 else f"{v:.1f} d"
    return f"{v:.3f} d ({human})"


def fmt_measure(measure: str, v: float | None) -> str:
    """An event-study value in the measure's display unit (spreads in basis points)."""
    if v is None:
        return "-"
    _, factor, unit = MEASURE_DISPLAY[measure]
    x = v * factor
    text = f"{x:,.2f}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"
    return f"{text} {unit}".rstrip()


def pooled_event_study(data: ReportData) -> list[EventStudyRow]:
    """The event study over all event types, by session (day order) and measure (display order)."""
    rows = {(r.session, r.measure): r for r in data.event_study if r.event_type == POOLED_EVENT_TYPES}
    return [rows[(s, m)] for s in SESSIONS for m in EVENT_STUDY_MEASURES if (s, m) in rows]


def _status(row: SummaryRow | None) -> str:
    return row.status if row is not None else "fail"


def _value(row: SummaryRow | None) -> float | None:
    return row.value if row is not None else None


def verdict_rows(data: ReportData) -> list[tuple[str, str]]:
    cfg, gate = data.config, data.gate
    if gate is None:
        matches = "no verdict to compare: run `dbt build` (or `dbt test --select tag:gate`)"
    elif data.matches_now:
        matches = f"yes ({data.manifest_rows_now:,} rows, checksum {data.manifest_checksum_now})"
    elif gate.manifest_checksum == data.manifest_checksum_now:
        matches = ("NO: the manifest is the same, but what else the gate judged changed since (selection_config, "
                   "download_estimate_totals or the pinned events); run `dbt build` again")
    else:
        matches = (f"NO: the verdict was for {gate.manifest_rows} rows / {gate.manifest_checksum}, the manifest is "
                   f"now {data.manifest_rows_now:,} rows / {data.manifest_checksum_now}; run `dbt build` again")
    rows = [
        ("profile", str(cfg.get("profile"))),
        ("config_hash", str(cfg.get("config_hash"))),
        ("enrichment_version", str(cfg.get("enrichment_version"))),
        ("verdict", data.verdict),
        ("evaluated_at", gate.evaluated_at if gate else "-"),
        ("invocation", f"{gate.invocation_id} (dbt {gate.command})" if gate else "-"),
        ("checks passed", f"{gate.tests_passed} of {gate.tests_expected}"
         + (f" (not passed: {', '.join(gate.missing_checks)})" if gate.go and gate.missing_checks else "")
         if gate else "-"),
        ("matches the manifest now", matches),
        ("download / export allowed", "yes" if data.current_go else "no"),
        ("figures below (manifest_summary)",
         f"STALE: built for {data.summary_events} events, the manifest now holds {data.manifest_rows_now:,}; "
         "run `dbt build` to refresh them" if data.summary_stale else f"current ({data.manifest_rows_now:,} events)"),
    ]
    return rows


def report_tables(data: ReportData) -> list[ReportTable]:
    cfg = data.config
    header = verdict_rows(data)
    colour = {"verdict": "ok" if data.current_go else "fail",
              "figures below (manifest_summary)": "fail" if data.summary_stale else ""}
    tables = [ReportTable("verdict", "Gate verdict", ["", ""], [list(r) for r in header],
                          [colour.get(k, "") for k, _ in header])]

    funnel = data.section("funnel")
    tables.append(ReportTable(
        "funnel", "Funnel: input events to selection", ["step", "events", "detail"],
        [[r.metric, fmt_count(r.value), r.detail or ""] for r in funnel], ["info"] * len(funnel),
    ))

    session_rows, session_status = [], []
    for s in SESSIONS:
        low = s.lower()
        share = data.metric(f"share_{low}")
        quota, shortfall = data.metric(f"quota_{low}"), data.metric(f"shortfall_{low}")
        band_min, band_max = session_band(cfg, s)
        session_rows.append([
            s, fmt_share(_value(share)), f"{fmt_share(band_min)} - {fmt_share(band_max)}",
            _status(share), fmt_count(_value(quota)), fmt_count(_value(shortfall)),
            "; ".join(x for x in ((share.detail if share else None), (shortfall.detail if shortfall else None)) if x),
        ])
        session_status.append(_status(share))
    tables.append(ReportTable(
        "sessions", "Session mix against the bands",
        ["session", "share", "band", "status", "quota", "shortfall", "detail"], session_rows, session_status,
    ))

    events, symbols = data.metric("selected_events"), data.metric("selected_symbols")
    cap, top20 = data.metric("max_events_per_symbol"), data.metric("top20_symbols_share")
    # The count bands as the gate judged them: scaled to the universe's coverage (selection_config).
    min_events = cfg.get("min_events_scaled", cfg.get("min_events"))
    max_events = cfg.get("max_events_scaled", cfg.get("max_events"))
    conc = [
        ("selected events", fmt_count(_value(events)), f"{min_events:,} - {max_events:,}",
         events, events.detail if events else ""),
        ("symbols", fmt_count(_value(symbols)), f">= {cfg.get('min_symbols_scaled', cfg.get('min_symbols')):,}",
         symbols, symbols.detail if symbols else ""),
        ("max events per symbol", fmt_count(_value(cap)), f"<= {cfg.get('max_per_symbol')}", cap, ""),
        ("top-20 symbols' share", fmt_share(_value(top20)), f"< {fmt_share(cfg.get('top20_max_share'))}", top20, ""),
    ]
    tables.append(ReportTable(
        "concentration", "Selection and concentration", ["figure", "value", "target", "status", "detail"],
        [[name, value, target, _status(row), detail or ""] for name, value, target, row, detail in conc],
        [_status(row) for *_, row, _ in conc],
    ))

    batches = data.section("batches")
    if batches:
        tables.append(ReportTable(
            "batches", "Coverage and released batches", ["figure", "value", "detail"],
            [[r.metric, fmt_share(r.value) if r.metric == "coverage" else fmt_count(r.value), r.detail or ""]
             for r in batches],
            ["fail" if r.metric == "pinned_not_eligible" and (r.value or 0) > 0 else "info" for r in batches],
        ))

    t = data.totals
    storage90, days90 = data.metric("storage_gb_p90"), data.metric("download_days_p90")
    calibrated = bool(t.get("calibrated"))
    basis = (f"calibrated by a pilot of {t.get('pilot_windows')} windows ({t.get('calibrated_at')})" if calibrated
             else "priors (seeds/estimate_priors.csv): run `tickwindows pilot` to calibrate")
    tables.append(ReportTable(
        "estimates", "Download estimates (Monte Carlo p50 / p90)", ["figure", "p50", "p90", "gate limit", "status"],
        [
            ["storage", fmt_gb(t.get("storage_gb_p50")), fmt_gb(t.get("storage_gb_p90")),
             f"p90 < {fmt_gb(cfg.get('storage_p90_max_gb'))}", _status(storage90)],
            ["download time", fmt_days(t.get("download_days_p50")), fmt_days(t.get("download_days_p90")),
             f"p90 < {cfg.get('download_p90_max_days')} d", _status(days90)],
            ["API requests", fmt_count(t.get("requests_p50")), fmt_count(t.get("requests_p90")), "", "info"],
        ],
        [_status(storage90), _status(days90), "info"],
        note=f"basis: {basis}; {len(data.storage_draws)} draws",
    ))

    study = pooled_event_study(data)
    if study:
        tables.append(ReportTable(
            "event_study", f"Event study: post vs pre event, {data.downloaded_windows:,} downloaded windows",
            ["session", "measure", "windows", "median pre", "median post", "median post - pre", "95 % interval"],
            [[r.session, MEASURE_DISPLAY[r.measure][0], fmt_count(r.windows), fmt_measure(r.measure, r.median_pre),
              fmt_measure(r.measure, r.median_post), fmt_measure(r.measure, r.median_post_minus_pre),
              "-" if r.ci95_low is None or r.ci95_high is None
              else f"{fmt_measure(r.measure, r.ci95_low)} .. {fmt_measure(r.measure, r.ci95_high)}"]
             for r in study],
            ["info"] * len(study),
            note="All event types pooled (main.event_study also has each session x event_type). The interval is "
                 "rank-based (sign test) for the median of the per-window difference post - pre; counts are per "
                 "minute of segment. Definitions: docs/CONTRACT.md (window_liquidity, event_study).",
        ))

    checks = data.gate.checks if data.gate else []
    tables.append(ReportTable(
        "checks", "Gate checks (latest gate_runs row)", ["check", "result", "failure"],
        [[c.name, "GO" if c.passed else "NO-GO", c.message] for c in checks],
        ["ok" if c.passed else "fail" for c in checks],
        note="" if checks else "no gate verdict recorded yet: run `dbt build`",
    ))
    return tables
