"""The report as ONE self-contained HTML file: inline CSS, the report's tables and four inline
SVG plots (five once windows are downloaded: the event study); no scripts, fonts, images or links
to fetch, so it opens offline and can be mailed."""

from __future__ import annotations

import os
import re
import tempfile
from html import escape
from pathlib import Path

from .. import __version__
from ..settings import SESSIONS
from . import svg
from .data import EVENT_STUDY_MEASURES, ReportData, session_band
from .tables import MEASURE_DISPLAY, ReportTable, pooled_event_study, report_tables

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1180px;
       color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin: 26px 0 8px; }
.verdict { display: inline-block; font-size: 44px; font-weight: 800; color: #fff; padding: 10px 36px;
           border-radius: 8px; margin: 12px 0; letter-spacing: 2px; }
.verdict.go { background: #2d6a4f; } .verdict.nogo { background: #c0392b; } .verdict.stale { background: #d68910; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 6px; }
th, td { border: 1px solid #ddd; padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fdecea; } tr.ok td.status { color: #2d6a4f; font-weight: 600; }
tr.fail td.status { color: #c0392b; font-weight: 700; }
td.status { white-space: nowrap; }
table.kv td:first-child { font-weight: 600; background: #fafafa; }
.note { color: #666; font-size: 12px; margin: 2px 0 10px; }
.plots { display: flex; flex-wrap: wrap; gap: 18px; }
.plot { border: 1px solid #eee; background: #fff; }
footer { color: #888; font-size: 11px; margin-top: 30px; }
"""

STATUS_WORDS = {"ok", "fail", "GO", "NO-GO"}


NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?(%| GB| d \(.*\))?$")


def _is_number(cell: str) -> bool:
    return bool(NUMBER.match(cell))


def table_html(table: ReportTable) -> str:
    kv = table.key == "verdict"
    out = [f'<h2 id="{table.key}">{escape(table.title)}</h2>', f'<table class="{"kv" if kv else "data"}">']
    if not kv:
        out.append("<tr>" + "".join(f"<th>{escape(c)}</th>" for c in table.columns) + "</tr>")
    for row, status in zip(table.rows, table.statuses, strict=True):
        cells = []
        for cell in row:
            cls = "status" if cell in STATUS_WORDS else "num" if _is_number(cell) else ""
            cells.append(f'<td class="{cls}">{escape(cell)}</td>' if cls else f"<td>{escape(cell)}</td>")
        out.append(f'<tr class="{escape(status)}">' + "".join(cells) + "</tr>")
    out.append("</table>")
    if table.note:
        out.append(f'<p class="note">{escape(table.note)}</p>')
    return "\n".join(out)


def plots_html(data: ReportData) -> str:
    cfg = data.config
    shares = {s: (row.value if (row := data.metric(f"share_{s.lower()}")) else None) for s in SESSIONS}
    bands: dict[str, tuple[float, float]] = {}
    for s in SESSIONS:
        low, high = session_band(cfg, s)
        bands[s] = (float(low), float(high))
    figures = [
        svg.session_shares(shares, bands),
        svg.events_per_symbol(data.events_per_symbol, int(cfg["max_per_symbol"])),
        svg.concentration(data.events_per_symbol, 20, float(cfg["top20_max_share"])),
        svg.estimates(data.storage_draws, data.days_draws, cfg.get("storage_p90_max_gb"),
                             cfg.get("download_p90_max_days")),
    ]
    study = event_study_figure(data)
    if study:
        figures.append(study)
    return '<h2 id="plots">Plots</h2>\n<div class="plots">\n' + "\n".join(figures) + "\n</div>"


PANEL_TITLES = {
    "quoted_spread_tw": "quoted spread (tw)", "effective_spread_dvw": "effective spread",
    "realized_spread_5m_dvw": "realized spread 5m", "price_impact_5m_dvw": "price impact 5m",
    "order_imbalance": "order imbalance", "n_trades_per_min": "trades", "volume_per_min": "volume",
    "trades_unmatched_per_min": "unmatched trades", "trades_unsigned_per_min": "unsigned trades",
}


def event_study_figure(data: ReportData) -> str:
    """main.event_study (all event types pooled) as one panel per measure; empty before any download."""
    rows = pooled_event_study(data)
    if not rows:
        return ""
    panels = []
    for measure in EVENT_STUDY_MEASURES:
        _, factor, unit = MEASURE_DISPLAY[measure]
        label = PANEL_TITLES[measure]
        points = [
            svg.StudyPoint(r.session, r.windows,
                           *(None if v is None else v * factor
                             for v in (r.median_post_minus_pre, r.ci95_low, r.ci95_high)))
            for r in rows if r.measure == measure
        ]
        if points:
            panels.append(svg.StudyPanel(label, unit, points))
    return svg.event_study(panels)


def render_html(data: ReportData) -> str:
    cfg = data.config
    if data.current_go:
        cls, word = "go", "GO"
    elif data.gate is not None and data.gate.go:
        cls, word = "stale", "GO (STALE)"
    else:
        cls, word = "nogo", data.verdict
    tables = report_tables(data)
    body = [
        f"<h1>tickwindows report: profile {escape(str(cfg.get('profile')))}</h1>",
        f'<div class="note">{escape(str(data.db_path))} &middot; config {escape(str(cfg.get("config_hash")))}'
        f' &middot; {escape(str(cfg.get("enrichment_version")))}</div>',
        f'<div class="verdict {cls}" id="verdict-banner">{escape(word)}</div>',
        table_html(tables[0]),
        plots_html(data),
        *(table_html(t) for t in tables[1:]),
        f"<footer>tickwindows {escape(__version__)}; a self-contained file, no external resources.</footer>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>tickwindows report: {escape(word)}</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_html(data: ReportData, path: Path) -> Path:
    """Write the page atomically (temp file + rename), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(render_html(data))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
