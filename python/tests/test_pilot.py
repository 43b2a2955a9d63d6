"""`tickwindows pilot`: a deterministic stratified sample, downloaded and measured into the warehouse."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from tick_warehouse import Ev, build_warehouse, record_gate
from tickwindows.download.runner import DownloadSettings, download
from tickwindows.emulator.data import expected_rows
from tickwindows.emulator.server import Emulator, EmulatorConfig
from tickwindows.pilot import run_pilot, stratified_sample, tercile_of
from tickwindows.warehouse import Window

KEY = "sk-pilot-key-9f8e7d"
SESSION_HOURS = {"PM": 12, "RTH": 16, "AH": 22}  # UTC hours inside each ET session (March, EST)


def _events() -> list[Ev]:
    out = []
    for i in range(18):
        session = ("PM", "RTH", "AH")[i % 3]
        start = datetime(2024, 3, 5, SESSION_HOURS[session], 0) + timedelta(minutes=i)
        out.append(Ev(f"SYM{i}", session, start, 30, adv20=1e6 * (i + 1)))
    return out


def test_the_sample_covers_every_stratum_and_is_deterministic() -> None:
    windows = [Window(f"{i:08x}", f"S{i}", ("PM", "RTH", "AH")[i % 3], datetime(2024, 3, 5).date(), 1, 2)
               for i in range(30)]
    terciles = tercile_of({w.event_id: float(i) for i, w in enumerate(windows)})
    sample, strata = stratified_sample(windows, terciles, 9)
    assert len(sample) == 9 and len(strata) == 9 and set(strata.values()) == {1}  # one per (session, tercile)
    assert stratified_sample(list(reversed(windows)), terciles, 9)[0] == sample
    assert stratified_sample(windows, terciles, 100)[0] == sorted(windows, key=lambda w: w.event_id)
    three = stratified_sample(windows, terciles, 3)[0]
    assert {w.session for w in three} == {"PM", "RTH", "AH"} and {terciles[w.event_id] for w in three} == {1, 2, 3}


def test_pilot_measures_windows_into_the_warehouse_without_a_go(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    events = _events()
    build_warehouse(db, events, gate="nogo")
    out = tmp_path / "ticks"
    with Emulator(EmulatorConfig(), port=0) as emu:
        s = DownloadSettings(db_path=db, out_dir=out, base_url=emu.url, api_key=KEY, quiet=True, page_limit=50)
        result = run_pilot(s, 6)
        assert "does not need a GO" in result.gate_note and "NO-GO" in result.gate_note
        con = duckdb.connect(str(db), read_only=True)
        rows = con.execute("select event_id, symbol, session, kind, rows, bytes, pages, seconds, workers, base_url"
                           " from main.pilot_measurements order by event_id, kind").fetchall()
        types = dict(con.execute("select column_name, data_type from information_schema.columns"
                                 " where table_name = 'pilot_measurements'").fetchall())
        con.close()
        assert len(rows) == 12 and {r[2] for r in rows} == {"PM", "RTH", "AH"}
        by_id = {e.event_id: e for e in events}
        for event_id, symbol, _, kind, n, nbytes, pages, seconds, workers, base_url in rows:
            ev = by_id[event_id]
            assert n == expected_rows(kind, symbol, ev.start_ns, ev.end_ns)
            path = out / kind / f"symbol={symbol}" / f"date={ev.trading_date}" / f"{event_id}.parquet"
            assert nbytes == path.stat().st_size and pages >= 1 and seconds > 0
            assert workers == 1 and base_url == emu.url and KEY not in base_url
        assert types["rows"] == "BIGINT" and types["pages"] == "INTEGER" and types["measured_at"] == "TIMESTAMP"
        # a later download (after a GO) reuses the pilot's files instead of fetching them again
        con = duckdb.connect(str(db))
        record_gate(con, go=True)
        con.close()
        before = emu.stats["requests"]
        report = download(s)
        assert report.totals["jobs_skipped"] == 12 and report.totals["jobs_done"] == 2 * len(events) - 12
        assert emu.stats["requests"] - before == report.totals["requests"]
