"""`tickwindows download` against a real emulator on loopback, writing real Parquet files."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from scripted_server import ScriptedServer, page, trade
from tick_warehouse import Ev, build_warehouse, record_gate
from tickwindows.download import pages
from tickwindows.download.runner import DownloadSettings, download
from tickwindows.emulator.data import expected_rows
from tickwindows.emulator.server import Emulator, EmulatorConfig
from tickwindows.errors import ApiError, BadInput, GateClosed

KEY = "sk-test-Zq8vLk3Jr0TopSecret"
PAGE = 20  # rows per page: many pages from small windows
EVENTS = [
    Ev("AAPL", "RTH", datetime(2024, 3, 5, 15, 0), 120),  # 260 trades, 883 quotes
    Ev("QUIETX", "AH", datetime(2024, 3, 5, 21, 30), 600),
    Ev("NODATAX", "PM", datetime(2024, 3, 5, 12, 0), 60),  # the API has no data: empty files
    Ev("BRK.B", "PM", datetime(2024, 3, 5, 13, 0), 300),
]
TICKWINDOWS = Path(sys.executable).parent / "tickwindows"


def settings(db: Path, out: Path, url: str, **kw: object) -> DownloadSettings:
    base = dict(db_path=db, out_dir=out, base_url=url, api_key=KEY, page_limit=PAGE, timeout_s=5.0,
                retry_base_s=0.01, retry_cap_s=0.2, retry_budget_s=20.0, quiet=True)
    return DownloadSettings(**(base | kw))  # type: ignore[arg-type]


def hashes(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.parquet"))}


def jobs_by_status(out: Path) -> dict[str, int]:
    con = sqlite3.connect(out / "_checkpoint.sqlite")
    try:
        return dict(con.execute("select status, count(*) from jobs group by status").fetchall())
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("wh") / "tickwindows.duckdb"
    build_warehouse(db, EVENTS)
    return db


@pytest.fixture(scope="module")
def clean(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """An uninterrupted, fault-free run: the reference every other run must reproduce byte for byte."""
    out = tmp_path_factory.mktemp("clean") / "ticks"
    taken = []
    with pytest.MonkeyPatch.context() as mp, Emulator(EmulatorConfig(), port=0) as emu:
        fast = pages.fast_page
        mp.setattr(pages, "fast_page", lambda *a: taken.append(fast(*a)) or taken[-1])
        report = download(settings(warehouse, out, emu.url))
    assert report.complete and report.totals["jobs_done"] == 2 * len(EVENTS)
    assert len(taken) == report.totals["pages"] and all(p is not None for p in taken)  # all by the fast path
    return out, hashes(out)


@pytest.fixture(scope="module")
def reference(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The same run with every page decoded by the reference path: the original code (json.loads with
    exact ints, per-row checks, pa.array per column)."""
    out = tmp_path_factory.mktemp("reference") / "ticks"
    with pytest.MonkeyPatch.context() as mp, Emulator(EmulatorConfig(), port=0) as emu:
        mp.setattr(pages, "fast_page", lambda *a: None)
        report = download(settings(warehouse, out, emu.url))
    assert report.complete
    return hashes(out)


def test_the_fast_json_path_writes_the_original_paths_files_byte_for_byte(clean, reference) -> None:
    # every run below (each fault kind, more workers, resumes, kills) is compared with `clean`
    assert clean[1] == reference and len(reference) == 2 * len(EVENTS)


@pytest.fixture
def emulator():
    with Emulator(EmulatorConfig(), port=0) as emu:
        yield emu


def test_pages_stream_into_files_with_every_row_of_the_window(clean: tuple[Path, dict[str, str]]) -> None:
    out, _ = clean
    for ev in EVENTS:
        for kind in ("trades", "quotes"):
            path = out / kind / f"symbol={ev.symbol}" / f"date={ev.trading_date}" / f"{ev.event_id}.parquet"
            table = pq.read_table(path)
            assert table.num_rows == expected_rows(kind, ev.symbol, ev.start_ns, ev.end_ns)
            assert table.schema.field("sip_timestamp").type == pa.timestamp("ns", tz="UTC")
            assert table.schema.field("conditions").type == pa.list_(pa.int32())
            assert table.num_rows == 0 or pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
            ts = table.column("sip_timestamp").cast(pa.int64()).to_pylist()
            assert ts == sorted(ts) and all(ev.start_ns <= t < ev.end_ns for t in ts)
            keys = list(zip(ts, table.column("sequence_number").to_pylist(), strict=True))
            assert len(set(keys)) == len(keys)  # no page written twice
    con = sqlite3.connect(out / "_checkpoint.sqlite")
    pages = dict(con.execute("select kind, pages from jobs where symbol = 'AAPL'").fetchall())
    assert pages == {"trades": -(-260 // PAGE), "quotes": -(-883 // PAGE)}
    assert expected_rows("quotes", "AAPL", EVENTS[0].start_ns, EVENTS[0].end_ns) == 883


def test_nanosecond_timestamps_survive_exactly(clean: tuple[Path, dict[str, str]], emulator: Emulator) -> None:
    out, _ = clean
    ev = EVENTS[0]
    raw = requests.get(f"{emulator.url}/v3/trades/AAPL", timeout=5, params={
        "timestamp.gte": ev.start_ns, "timestamp.lt": ev.end_ns, "order": "asc", "sort": "timestamp", "limit": PAGE,
    }).json()["results"]
    path = out / "trades" / "symbol=AAPL" / f"date={ev.trading_date}" / f"{ev.event_id}.parquet"
    table = pq.read_table(path).slice(0, PAGE)
    for name in ("sip_timestamp", "participant_timestamp"):
        assert table.column(name).cast(pa.int64()).to_pylist() == [r[name] for r in raw]
    assert table.column("price").to_pylist() == [r["price"] for r in raw]


def test_identical_files_from_a_second_run_with_more_workers(warehouse: Path, clean, tmp_path: Path,
                                                            emulator: Emulator) -> None:
    out = tmp_path / "ticks"
    report = download(settings(warehouse, out, emulator.url, workers=3))
    assert report.complete
    assert hashes(out) == clean[1]


@pytest.mark.parametrize("fault", ["429", "500", "502", "503", "reset", "truncate", "malformed", "slow",
                                   "null_results"])
def test_each_injected_fault_is_survived(fault: str, warehouse: Path, clean, tmp_path: Path) -> None:
    # A "429" fault starts a storm of 2-5 refusals, so a lower rate gives a similar share of bad answers.
    rate = 0.1 if fault == "429" else 0.3
    config = EmulatorConfig(seed=3, fault_rate=rate, faults=(fault,), retry_after=False, slow_s=1.5)
    with Emulator(config, port=0) as emu:
        report = download(settings(warehouse, tmp_path / "ticks", emu.url, workers=2, timeout_s=0.5))
        injected = emu.stats["by_fault"].get(fault, 0)
    assert injected >= 3, f"the emulator injected only {injected} {fault} faults"
    assert report.complete, report.failures
    assert report.totals["retries"] >= injected if fault != "429" else report.totals["http_429"] >= injected
    assert hashes(tmp_path / "ticks") == clean[1]


def test_all_faults_at_once_with_retry_after(warehouse: Path, clean, tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(seed=11, fault_rate=0.25, slow_s=1.0, storm_length=(1, 2)), port=0) as emu:
        report = download(settings(warehouse, tmp_path / "ticks", emu.url, workers=3, timeout_s=0.5))
    assert report.complete, report.failures
    assert hashes(tmp_path / "ticks") == clean[1]


def test_resume_skips_verified_files_and_refetches_damaged_ones(warehouse: Path, clean, tmp_path: Path,
                                                               emulator: Emulator) -> None:
    out = tmp_path / "ticks"
    assert download(settings(warehouse, out, emulator.url)).complete
    files = sorted(out.rglob("*.parquet"))
    truncated, flipped, deleted = files[0], files[1], files[2]
    truncated.write_bytes(truncated.read_bytes()[:-100])
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    deleted.unlink()
    before = emulator.stats["requests"]
    report = download(settings(warehouse, out, emulator.url))
    assert report.complete
    assert (report.totals["jobs_done"], report.totals["jobs_skipped"]) == (3, 2 * len(EVENTS) - 3)
    assert emulator.stats["requests"] - before == report.totals["requests"] > 0
    assert hashes(out) == clean[1]
    # --no-resume fetches everything again, to the same bytes
    again = download(settings(warehouse, out, emulator.url, resume=False))
    assert again.totals["jobs_done"] == 2 * len(EVENTS) and hashes(out) == clean[1]


def test_a_run_killed_at_random_moments_resumes_to_identical_files(warehouse: Path, clean, tmp_path: Path) -> None:
    out = tmp_path / "ticks"
    env = {**os.environ, "POLYGON_API_KEY": KEY}
    rng = random.Random(20240305)
    kills = 0
    with Emulator(EmulatorConfig(latency_ms=15), port=0) as emu:
        cmd = [str(TICKWINDOWS), "download", "--db", str(warehouse), "--out", str(out), "--base-url", emu.url,
               "--workers", "2", "--page-limit", str(PAGE), "--quiet"]
        for _ in range(4):
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                proc.wait(timeout=rng.uniform(0.8, 2.2))
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                kills += 1
            # a killed run leaves only complete files: every one that exists reads back whole
            for path in out.rglob("*.parquet"):
                pq.read_table(path)
        final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert kills >= 2, "the runs finished before they could be killed; slow the emulator down"
    _assert_resumed_to_clean(final, out, clean)


# ---------------------------------------------------------------- the gate


def test_gate_refuses_without_a_verdict(tmp_path: Path, emulator: Emulator) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS[:1], gate=None)
    with pytest.raises(GateClosed, match=r"no gate verdict.*dbt build"):
        download(settings(db, tmp_path / "ticks", emulator.url))
    assert emulator.stats["requests"] == 0


def test_gate_refuses_a_no_go_and_names_the_failed_check(tmp_path: Path, emulator: Emulator) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS[:1], gate="nogo")
    with pytest.raises(GateClosed, match=r"NO-GO.*gate_03_session_share.*dbt build"):
        download(settings(db, tmp_path / "ticks", emulator.url))


def test_gate_refuses_a_manifest_changed_after_its_go(tmp_path: Path, emulator: Emulator) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS[:2], gate="go")
    con = duckdb.connect(str(db))
    con.execute("update main.manifest_core set window_end_utc = window_end_utc + interval 1 minute"
                " where symbol = 'AAPL'")
    con.close()
    with pytest.raises(GateClosed, match=r"manifest changed since the GO.*dbt build"):
        download(settings(db, tmp_path / "ticks", emulator.url))
    con = duckdb.connect(str(db))
    record_gate(con, go=True)  # a fresh GO for the edited manifest opens the gate again
    con.close()
    assert download(settings(db, tmp_path / "ticks", emulator.url, kinds=("trades",))).complete


def test_force_skips_the_gate_loudly_and_is_logged(tmp_path: Path, emulator: Emulator) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS[1:2], gate="nogo")
    out = tmp_path / "ticks"
    run = subprocess.run(
        [str(TICKWINDOWS), "download", "--db", str(db), "--out", str(out), "--base-url", emulator.url, "--force",
         "--page-limit", str(PAGE)],
        env={**os.environ, "POLYGON_API_KEY": KEY}, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "GATE SKIPPED (--force)" in run.stderr
    con = sqlite3.connect(out / "_checkpoint.sqlite")
    assert con.execute("select forced, exit_code from runs").fetchall() == [(1, 0)]
    refused = subprocess.run(
        [str(TICKWINDOWS), "download", "--db", str(db), "--out", str(out), "--base-url", emulator.url],
        env={**os.environ, "POLYGON_API_KEY": KEY}, capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode == 3 and "NO-GO" in refused.stderr


# ---------------------------------------------------------------- security


def test_the_key_never_leaks_into_output_logs_or_the_store(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, [*EVENTS, Ev("NOAUTHX", "RTH", datetime(2024, 3, 5, 16, 0), 60)])
    out = tmp_path / "ticks"
    config = EmulatorConfig(seed=5, fault_rate=0.3, api_key=KEY, slow_s=1.0, storm_length=(1, 2))
    with Emulator(config, port=0) as emu:
        run = subprocess.run(
            [str(TICKWINDOWS), "download", "--db", str(db), "--out", str(out), "--base-url", emu.url,
             "--page-limit", str(PAGE), "--workers", "2", "--timeout", "0.5"],
            env={**os.environ, "POLYGON_API_KEY": KEY, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120,
        )
        status = subprocess.run([str(TICKWINDOWS), "status", "--out", str(out)], capture_output=True, text=True,
                                timeout=60)
        assert emu.stats["by_status"].get(401, 0) == 0  # the key was sent, and accepted
    assert run.returncode == 1  # NOAUTHX is a permanent 403: the run is not complete
    assert "NOAUTHX" in run.stdout and "permanent" in status.stdout
    everything = run.stdout + run.stderr + status.stdout + status.stderr
    assert KEY not in everything
    for path in out.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_a_wrong_key_is_permanent_and_stops_the_run(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS)
    with Emulator(EmulatorConfig(api_key="the-right-key-000"), port=0) as emu:
        with pytest.raises(ApiError, match="refused the key"):
            download(settings(db, tmp_path / "ticks", emu.url))
        assert emu.stats["by_status"] == {401: 1}  # not retried, and nothing else was tried
    assert jobs_by_status(tmp_path / "ticks") == {"permanent": 1, "pending": 2 * len(EVENTS) - 1}


def test_404_and_403_are_permanent_not_retried(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, [Ev("NOAUTHX", "RTH", datetime(2024, 3, 5, 16, 0), 60)])
    with Emulator(EmulatorConfig(), port=0) as emu:
        report = download(settings(db, tmp_path / "ticks", emu.url))
        assert emu.stats["by_status"] == {403: 2}
    assert not report.complete and report.totals["jobs_permanent"] == 2
    server = ScriptedServer(lambda path, n: (404, {}, b'{"status":"NOT_FOUND","message":"no such ticker"}'))
    try:
        report = download(settings(db, tmp_path / "ticks404", server.url, kinds=("trades",)))
    finally:
        server.stop()
    assert len(server.seen) == 1 and report.totals["jobs_permanent"] == 1
    con = sqlite3.connect(tmp_path / "ticks404" / "_checkpoint.sqlite")
    assert con.execute("select status, attempts, http_status from jobs").fetchall() == [("permanent", 1, 404)]


@pytest.mark.parametrize("hostile", ["https://evil.example.com/v3/trades/AAPL?cursor=x", "OTHER_PORT"])
def test_a_next_url_to_another_origin_is_refused(hostile: str, tmp_path: Path) -> None:
    ev = Ev("AAPL", "RTH", datetime(2024, 3, 5, 15, 0), 120)
    db = tmp_path / "w.duckdb"
    build_warehouse(db, [ev])
    other = ScriptedServer(lambda path, n: (200, {}, page([])))
    target = hostile if hostile != "OTHER_PORT" else f"{other.url}/v3/trades/AAPL?cursor=x"
    server = ScriptedServer(lambda path, n: (200, {}, page([trade(ev.start_ns)], next_url=target)))
    try:
        report = download(settings(db, tmp_path / "ticks", server.url, kinds=("trades",)))
    finally:
        server.stop()
        other.stop()
    assert other.seen == []  # the key never went there
    assert report.totals["jobs_failed"] == 1
    assert "refused next_url" in report.failures[0]["last_error"]
    assert not list((tmp_path / "ticks").rglob("*.parquet"))


def test_the_key_is_sent_as_a_bearer_header_never_in_the_url(tmp_path: Path) -> None:
    ev = Ev("AAPL", "RTH", datetime(2024, 3, 5, 15, 0), 120)
    db = tmp_path / "w.duckdb"
    build_warehouse(db, [ev])

    def respond(path: str, n: int):
        if n == 0:  # a server that echoes the key into next_url must not get it back as a query param
            return 200, {}, page([trade(ev.start_ns)], next_url=f"/v3/trades/AAPL?cursor=2&apiKey={KEY}")
        return 200, {}, page([trade(ev.start_ns + 5, 2)])

    server = ScriptedServer(respond)
    try:
        report = download(settings(db, tmp_path / "ticks", server.url, kinds=("trades",)))
    finally:
        server.stop()
    assert report.complete and report.totals["rows"] == 2
    assert [s.authorization for s in server.seen] == [f"Bearer {KEY}"] * 2
    assert all(KEY not in s.path for s in server.seen)


@pytest.mark.parametrize("symbol", ["../ETC", "AAPL/../../X", "aapl", "A B"])
def test_a_symbol_that_could_escape_the_output_dir_is_refused(symbol: str, tmp_path: Path,
                                                              emulator: Emulator) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, [Ev(symbol, "RTH", datetime(2024, 3, 5, 15, 0), 60)])
    with pytest.raises(BadInput, match="is not a ticker"):
        download(settings(db, tmp_path / "out" / "ticks", emulator.url))
    assert emulator.stats["requests"] == 0
    assert not (tmp_path / "out" / "ticks" / "trades").exists() and not (tmp_path / "ETC").exists()


def test_plain_http_is_refused_off_loopback(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="clear text"):
        settings(tmp_path / "w.duckdb", tmp_path, "http://api.polygon.io")
    for ok in ("http://127.0.0.1:1", "http://localhost:8", "http://[::1]:9", "https://api.polygon.io"):
        settings(tmp_path / "w.duckdb", tmp_path, ok)


# ---------------------------------------------------------------- guards against silent ends


def _guard_run(tmp_path: Path, respond, **kw) -> tuple[dict, ScriptedServer]:
    ev = Ev("AAPL", "RTH", datetime(2024, 3, 5, 15, 0), 120)
    db = tmp_path / "w.duckdb"
    build_warehouse(db, [ev])
    server = ScriptedServer(lambda path, n: respond(ev, path, n))
    try:
        report = download(settings(db, tmp_path / "ticks", server.url, kinds=("trades",), retry_budget_s=0.4, **kw))
    finally:
        server.stop()
    assert not report.complete and report.totals["jobs_failed"] == 1
    return report.failures[0], server


@pytest.mark.parametrize("case, expected", [
    ("loop", "next_url repeats"),
    ("outside", "outside the requested window"),
    ("descending", "not ascending"),
    ("float_ts", "not an integer"),
    ("status_error", "not OK"),
    ("null_with_next", "results missing/null"),
    ("not_json", "malformed or truncated JSON"),
    ("page_cap", "--max-pages"),
])
def test_inconsistent_pages_are_errors_never_a_silent_end(case: str, expected: str, tmp_path: Path) -> None:
    def respond(ev: Ev, path: str, n: int):
        t = ev.start_ns
        body = {
            "loop": page([trade(t)], next_url="/v3/trades/AAPL?cursor=same"),
            "outside": page([trade(ev.end_ns)]),
            "descending": page([trade(t + 10), trade(t + 5)]),
            "float_ts": json.dumps({"results": [{"sip_timestamp": float(t)}], "status": "OK"}).encode(),
            "status_error": page([trade(t)], status="ERROR"),
            "null_with_next": page(None, next_url="/v3/trades/AAPL?cursor=a"),
            "not_json": b'{"results": [',
            "page_cap": page([trade(t + n)], next_url=f"/v3/trades/AAPL?cursor={n}"),
        }[case]
        return 200, {}, body

    failure, server = _guard_run(tmp_path, respond, max_pages=3)
    assert expected in failure["last_error"]
    assert len(server.seen) >= 2  # retried (or followed) before giving up


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    def respond(ev: Ev, path: str, n: int):
        if n == 0:
            return 429, {"Retry-After": "1"}, b'{"status":"ERROR","error":"slow down"}'
        return 200, {}, page([trade(ev.start_ns)])

    ev = Ev("AAPL", "RTH", datetime(2024, 3, 5, 15, 0), 120)
    db = tmp_path / "w.duckdb"
    build_warehouse(db, [ev])
    server = ScriptedServer(lambda path, n: respond(ev, path, n))
    try:
        report = download(settings(db, tmp_path / "ticks", server.url, kinds=("trades",)))
    finally:
        server.stop()
    assert report.complete and report.totals["http_429"] == 1
    gap = server.seen[1].at - server.seen[0].at
    # retry_base_s is 0.01 and retry_cap_s 0.2: only Retry-After explains a wait of 1 s or more. The upper
    # bound only rules out a unit mistake (e.g. milliseconds read as seconds) and is wide for a loaded machine.
    assert 1.0 <= gap < 30.0, gap


def test_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("POLYGON_API_KEY", "MASSIVE_API_KEY")}
    run = subprocess.run([str(TICKWINDOWS), "download", "--db", str(tmp_path / "w.duckdb")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "POLYGON_API_KEY" in run.stderr


def test_settings_never_show_the_key(tmp_path: Path) -> None:
    s = settings(tmp_path / "w.duckdb", tmp_path, "http://127.0.0.1:1")
    assert KEY not in repr(s) and KEY not in json.dumps(s.public_args())
    assert replace(s, workers=2).api_key == KEY


# ---------------------------------------------------------------- fail fast, lose nothing


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_emulator(port: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([str(TICKWINDOWS), "emulator", "--port", str(port), *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    assert f"127.0.0.1:{port}" in line, line
    return proc


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _done_jobs(out: Path) -> int:
    try:
        return jobs_by_status(out).get("done", 0)
    except sqlite3.Error:
        return 0


def _assert_resumed_to_clean(resumed: subprocess.CompletedProcess[str], out: Path, clean) -> None:
    """The rerun of a stopped, killed or abandoned run: it ends well with the uninterrupted run's files,
    every job done and no temporary file left."""
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert hashes(out) == clean[1]
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    assert jobs_by_status(out) == {"done": 2 * len(EVENTS)}


def test_a_dead_server_stops_the_run_and_it_resumes_to_identical_files(warehouse: Path, clean, tmp_path: Path) -> None:
    """The emulator is killed mid-run: the run gives up after --give-up-after (5 s here, 120 s by
    default) instead of retrying every request for --retry-budget (600 s), says why and how to
    resume, keeps what is done, and the same command resumes to the uninterrupted run's files."""
    out, log = tmp_path / "ticks", tmp_path / "download.log"
    port = _free_port()
    emu = _start_emulator(port, "--latency-ms", "40")
    cmd = [str(TICKWINDOWS), "download", "--db", str(warehouse), "--out", str(out), "--base-url",
           f"http://127.0.0.1:{port}", "--workers", "2", "--page-limit", str(PAGE), "--give-up-after", "5",
           "--progress-interval", "0.5"]
    env = {**os.environ, "POLYGON_API_KEY": KEY}
    try:
        with log.open("w") as fh:  # stdout and stderr to a file, as under nohup: not a terminal
            run = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)
            assert _wait_for(lambda: _done_jobs(out) >= 1, 60), "no job finished before the kill"
            emu.kill()  # SIGKILL: connections refused from now on
            emu.wait(timeout=10)
            killed = time.monotonic()
            code = run.wait(timeout=300)
            stopped_after = time.monotonic() - killed
    finally:
        emu.kill()
    text = log.read_text()
    assert code == 4, text[-3000:]
    # generous: well past 5 s, far below the 600 s retry budget a request would otherwise get
    assert stopped_after < 60, stopped_after
    assert f"no answer from http://127.0.0.1:{port}" in text and "--give-up-after 5" in text
    assert "ConnectionError" in text and "run the same command again" in text
    assert re.search(r"download: jobs \d+/8 done .*retries \d+ \(connection \d+", text)
    assert "NO ANSWER for" in text
    statuses = jobs_by_status(out)
    assert statuses.get("done", 0) >= 1 and "failed" not in statuses and "running" not in statuses, statuses
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    for rel, sha in hashes(out).items():  # what is kept is whole, and final
        assert sha == clean[1][rel], rel

    emu = _start_emulator(port)  # the server is back, on the same port
    try:
        resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    finally:
        emu.kill()
    _assert_resumed_to_clean(resumed, out, clean)


def test_a_refused_key_stops_the_run_and_says_how_to_resume(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    build_warehouse(db, EVENTS)
    out = tmp_path / "ticks"
    with Emulator(EmulatorConfig(api_key=KEY), port=0) as emu:
        cmd = [str(TICKWINDOWS), "download", "--db", str(db), "--out", str(out), "--base-url", emu.url,
               "--workers", "2", "--page-limit", str(PAGE)]
        refused = subprocess.run(cmd, env={**os.environ, "POLYGON_API_KEY": "not-the-key"}, capture_output=True,
                                 text=True, timeout=120)
        assert emu.stats["by_status"].get(401, 0) <= 2  # one per worker at most: nothing else was tried
        assert refused.returncode == 4
        assert "refused the key (HTTP 401)" in refused.stderr and "POLYGON_API_KEY" in refused.stderr
        assert "run the same command again" in refused.stderr and "not-the-key" not in refused.stderr
        resumed = subprocess.run(cmd, env={**os.environ, "POLYGON_API_KEY": KEY}, capture_output=True, text=True,
                                 timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert jobs_by_status(out) == {"done": 2 * len(EVENTS)}


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_in_a_log(warehouse: Path, tmp_path: Path,
                                                                  emulator: Emulator) -> None:
    env = {**os.environ, "POLYGON_API_KEY": KEY, "COLUMNS": "160"}
    base = [str(TICKWINDOWS), "download", "--db", str(warehouse), "--base-url", emulator.url,
            "--page-limit", str(PAGE), "--progress-interval", "0.2"]
    plain = subprocess.run([*base, "--out", str(tmp_path / "a")], env=env, capture_output=True, text=True,
                           timeout=120)
    assert plain.returncode == 0, plain.stderr
    lines = [line for line in plain.stderr.splitlines() if " download: jobs " in line]
    assert len(lines) >= 2 and "\x1b[" not in plain.stderr  # the first and the final state, no escapes
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d download: jobs 8/8 done \(0 failed, 0 permanent\), "
                        r"\d+ pages, [\d,]+ rows, .*, [\d,]+ rows/s, [\d.]+ req/s, 429s 0, retries 0, .*", lines[-1])
    if shutil.which("script") is None:
        pytest.skip("no `script` (util-linux) to run the download on a pseudo-terminal")
    command = " ".join(shlex.quote(a) for a in [*base, "--out", str(tmp_path / "b")])
    tty = subprocess.run(["script", "-qec", command, "/dev/null"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert tty.returncode == 0, tty.stdout[-3000:]
    assert "━" in tty.stdout and " download: jobs " not in tty.stdout  # rich's bar, not the log lines


@pytest.mark.parametrize("stop_with", ["SIGTERM", "SIGINT"])
def test_a_stopped_run_says_how_to_resume_and_resumes_to_identical_files(stop_with: str, warehouse: Path, clean,
                                                                          tmp_path: Path) -> None:
    """`kill` (SIGTERM, as from a service manager or a cron wrapper) or Ctrl-C mid-run: the run stops within
    seconds, says so and how to resume, leaves only whole files, and the same command resumes to the
    uninterrupted run's files."""
    out = tmp_path / "ticks"
    env = {**os.environ, "POLYGON_API_KEY": KEY}
    with Emulator(EmulatorConfig(latency_ms=40), port=0) as emu:
        cmd = [str(TICKWINDOWS), "download", "--db", str(warehouse), "--out", str(out), "--base-url", emu.url,
               "--workers", "2", "--page-limit", str(PAGE), "--quiet"]
        # SIGINT at its default in the child, as under a terminal (this suite may itself run under `&`)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            assert _wait_for(lambda: _done_jobs(out) >= 1, 60), "no job finished"
            assert proc.poll() is None, "the run ended before it could be stopped; slow the emulator down"
            proc.send_signal(getattr(signal, stop_with))
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == (143 if stop_with == "SIGTERM" else 130), err
        assert "resume" in err, err
        for path in out.rglob("*.parquet"):
            pq.read_table(path)
        final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    _assert_resumed_to_clean(final, out, clean)
