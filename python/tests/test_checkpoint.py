"""The checkpoint store: durable job states and a run log that never holds the key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tickwindows.download.checkpoint import CheckpointStore


def test_jobs_move_through_their_states_and_reset_cleanly(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "_checkpoint.sqlite")
    store.upsert_pending("ab12cd34", "trades", "AAPL", "2024-03-05", 1, 2)
    store.mark_running("ab12cd34", "trades", run_id=1)
    store.mark_done("ab12cd34", "trades", path="x.parquet", pages=3, rows=10, nbytes=99, sha256="f" * 64, seconds=0.5)
    row = store.get("ab12cd34", "trades")
    assert row is not None and (row.status, row.pages, row.rows, row.bytes, row.attempts) == ("done", 3, 10, 99, 1)
    store.upsert_pending("ab12cd34", "trades", "AAPL", "2024-03-05", 1, 3)  # e.g. the window changed
    row = store.get("ab12cd34", "trades")
    assert row is not None and (row.status, row.rows, row.sha256, row.window_end_ns) == ("pending", 0, None, 3)
    store.mark_running("ab12cd34", "trades", run_id=2)
    store.mark_error("ab12cd34", "trades", status="permanent", error="HTTP 404", http_status=404, pages=0, seconds=0.1)
    assert store.errors()[0]["status"] == "permanent" and store.get("ab12cd34", "trades").attempts == 2
    store.close()


def test_the_store_is_wal_and_records_runs(tmp_path: Path) -> None:
    path = tmp_path / "_checkpoint.sqlite"
    store = CheckpointStore(path)
    run_id = store.start_run("download", {"workers": 2, "base_url": "https://api.polygon.io"}, forced=True)
    store.finish_run(run_id, {"jobs_total": 4, "jobs_done": 4, "exit_code": 0})
    store.close()
    con = sqlite3.connect(path)
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert con.execute("select command, forced, jobs_done, exit_code from runs").fetchall() == [("download", 1, 4, 0)]
    try:
        con.execute("insert into jobs (event_id, kind, symbol, trading_date, window_start_ns, window_end_ns, status)"
                    " values ('a', 'trades', 'A', 'd', 1, 2, 'weird')")
        raise AssertionError("a status outside the five states was accepted")
    except sqlite3.IntegrityError:
        pass
