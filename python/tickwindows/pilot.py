"""`tickwindows pilot`: download a small stratified sample and measure it, to calibrate estimates.

The sample covers every (session, liquidity tercile) stratum in turn — PM/RTH/AH crossed with
adv20_dollar terciles of the manifest's events — taking events in event_id order within each
stratum, so the same manifest always gives the same sample. Downloads go through the normal
downloader (same out dir and checkpoint store: a later `download` reuses them). The measurements
replace `main.pilot_measurements` in the warehouse, which the estimate models read.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .download.checkpoint import CHECKPOINT_NAME, CheckpointStore
from .download.runner import DownloadReport, DownloadSettings, ProgressSink, run_jobs
from .errors import BadInput, GateClosed
from .gate import require_go
from .settings import SESSIONS
from .warehouse import Window, connect_read_only, read_liquidity, read_windows

# The table the dbt project's on-run-start hook creates empty (macros/tickwindows_tables.sql), replaced
# whole by each pilot; python/tests/test_batches.py checks both sides create the same columns.
PILOT_MEASUREMENTS_DDL = (
    "create or replace table main.pilot_measurements (event_id varchar, symbol varchar, session varchar,"
    " kind varchar, rows bigint, bytes bigint, pages integer, seconds double, workers integer,"
    " base_url varchar, measured_at timestamp)"
)


@dataclass(frozen=True)
class Measurement:
    event_id: str
    symbol: str
    session: str
    kind: str
    rows: int
    bytes: int
    pages: int
    seconds: float


@dataclass
class PilotResult:
    sample: list[Window]
    strata: dict[str, int]
    report: DownloadReport
    measurements: list[Measurement]
    gate_note: str


def tercile_of(liquidity: dict[str, float | None]) -> dict[str, int]:
    """1 (least liquid) .. 3 (most) over the manifest's events; 0 when adv20_dollar is unknown."""
    known = sorted((adv, event_id) for event_id, adv in liquidity.items() if adv is not None)
    out = {event_id: 0 for event_id, adv in liquidity.items() if adv is None}
    n = len(known)
    for i, (_, event_id) in enumerate(known):
        out[event_id] = 1 + (3 * i) // n
    return out


def stratified_sample(windows: list[Window], terciles: dict[str, int], n: int) -> tuple[list[Window], dict[str, int]]:
    """Round-robin over strata (session x tercile), event_id order inside each: deterministic."""
    strata: OrderedDict[tuple[int, int], list[Window]] = OrderedDict()
    session_rank = {s: i for i, s in enumerate(SESSIONS)}
    for w in sorted(windows, key=lambda w: (session_rank.get(w.session, 9), terciles.get(w.event_id, 0), w.event_id)):
        strata.setdefault((session_rank.get(w.session, 9), terciles.get(w.event_id, 0)), []).append(w)
    # Visit strata diagonally (PM/t1, RTH/t2, AH/t3, PM/t2, ...) so that even a sample of 3 spans
    # every session and every tercile; unknown liquidity (tercile 0) comes last.
    order = sorted(strata, key=lambda k: (k[1] == 0, (k[1] - 1 - k[0]) % 3, k[0]))
    queues = [strata[k] for k in order]
    sample: list[Window] = []
    depth = 0
    while len(sample) < n and any(depth < len(q) for q in queues):
        for q in queues:
            if depth < len(q) and len(sample) < n:
                sample.append(q[depth])
        depth += 1
    counts: dict[str, int] = {}
    for w in sample:
        label = f"{w.session}/adv20-t{terciles.get(w.event_id, 0)}"
        counts[label] = counts.get(label, 0) + 1
    return sorted(sample, key=lambda w: w.event_id), counts


def _gate_note(con: duckdb.DuckDBPyConnection, db_path: Path) -> str:
    try:
        require_go(con, db_path)
    except GateClosed as exc:
        return f"the gate is closed ({exc}); the pilot does not need a GO: it calibrates the gate's estimates"
    return "the gate is GO; the pilot does not need it either way"


def write_measurements(db_path: Path, measurements: list[Measurement], workers: int, base_url: str) -> None:
    """Replace main.pilot_measurements (the only write the Python side makes to the warehouse)."""
    measured_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.Error as exc:
        raise BadInput(f"--db {db_path}: cannot open for writing pilot_measurements ({exc}); is dbt running?") from None
    try:
        con.execute("begin")
        con.execute(PILOT_MEASUREMENTS_DDL)
        if measurements:
            con.executemany(
                "insert into main.pilot_measurements values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[m.event_id, m.symbol, m.session, m.kind, m.rows, m.bytes, m.pages, m.seconds, workers, base_url,
                  measured_at] for m in measurements],
            )
        con.execute("commit")
    finally:
        con.close()


def run_pilot(settings: DownloadSettings, events: int, *, progress: ProgressSink | None = None) -> PilotResult:
    if events < 1:
        raise BadInput(f"--events {events}: expected >= 1")
    con = connect_read_only(settings.db_path)
    try:
        gate_note = _gate_note(con, settings.db_path)
        windows = read_windows(con, settings.db_path)
        terciles = tercile_of(read_liquidity(con, settings.db_path))
    finally:
        con.close()
    if not windows:
        raise BadInput(f"--db {settings.db_path}: manifest_core is empty; nothing to pilot")
    sample, strata = stratified_sample(windows, terciles, events)
    report = run_jobs(replace(settings, limit=None), sample, command="pilot", forced=False, progress=progress)
    store = CheckpointStore(settings.out_dir / CHECKPOINT_NAME)
    try:
        stats = store.job_stats([j.key for j in report.jobs])
    finally:
        store.close()
    measurements = []
    for job in sorted(report.jobs, key=lambda j: j.key):
        row = stats.get(job.key)
        if row is None or row["status"] != "done":
            continue
        w = job.window
        measurements.append(Measurement(w.event_id, w.symbol, w.session, job.kind, int(row["rows"]),
                                        int(row["bytes"]), int(row["pages"]), float(row["seconds"] or 0.0)))
    write_measurements(settings.db_path, measurements, settings.workers, settings.base_url)
    return PilotResult(sample, strata, report, measurements, gate_note)
