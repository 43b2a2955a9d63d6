"""`make bench-download`: the download client's CPU cost per row against the official client's, and
the emulator's serving rate, on the same windows of the same emulator.

Builds a GO warehouse from the small demo universe once (.cache/bench-download/), starts the
emulator (`tickwindows emulator`) as its own process, and runs each client as a child process, so
each CPU time (user + sys, from os.wait4; /proc for the emulator) is that process's alone:

1. the official `massive` client lists the trades and quotes of the first BENCH_EVENTS manifest
   windows (50,000-row pages, gzip, as it asks by default) into its Trade/Quote objects and writes
   nothing: the yardstick. Its first run also warms the emulator's page cache;
2. `tickwindows download --workers 1` fetches the same windows: parse, validate every row, Arrow,
   Parquet zstd, sha256, checkpoint. The two alternate BENCH_REPEATS times; medians are printed;
3. the emulator's rows per CPU-second: cold (the first run renders every page) and warm (the
   cached pages the measured runs get);
4. pacing: 1,000-row pages, 3 workers, the adaptive limiter against an emulator limit of
   BENCH_RATE req/s on the first BENCH_PACING_EVENTS windows: the share of the limit used, the 429s.

Environment: BENCH_EVENTS (manifest events, default 80), BENCH_REPEATS (3), BENCH_RATE (20),
BENCH_PACING_EVENTS (10).
Timings on a shared machine are noisy: CPU time, not wall time, and medians.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CACHE = ROOT / ".cache" / "bench-download"
KEY = "bench-key-loopback-only"


def go_warehouse() -> Path:
    db = CACHE / "warehouse.duckdb"
    if db.exists():
        return db
    CACHE.mkdir(parents=True, exist_ok=True)
    data = CACHE / "data"
    subprocess.run([str(BIN / "tickwindows"), "demo-data", "--size", "small", "--out", str(data), "--force"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    env = dict(os.environ, TICKWINDOWS_DB=str(db), DBT_PROFILES_DIR=str(ROOT), DO_NOT_TRACK="1")
    vars_ = json.dumps({"events_path": f"{data}/events/*.parquet", "daily_bars_dir": f"{data}/daily",
                        "profile": "smoke"})
    subprocess.run([str(BIN / "dbt"), "build", "--quiet", "--vars", vars_], check=True, cwd=ROOT, env=env)
    return db


def windows_file(db: Path, events: int) -> Path:
    """The first `events` manifest windows (as `download --limit` takes them), for the official client."""
    sys.path.insert(0, str(ROOT / "python"))
    from tickwindows.warehouse import connect_read_only, read_windows

    con = connect_read_only(db)
    try:
        windows = read_windows(con, db, events)
    finally:
        con.close()
    path = CACHE / f"windows-{events}.json"
    path.write_text(json.dumps([[w.symbol, w.start_ns, w.end_ns] for w in windows]))
    return path


def official_client(url: str, windows: Path) -> None:
    """Child process: the official client lists every row of the windows into its objects, writes nothing."""
    import massive

    client = massive.RESTClient(api_key=KEY, base=url, retries=0)
    rows = 0
    for symbol, start_ns, end_ns in json.loads(windows.read_text()):
        for lister in (client.list_trades, client.list_quotes):
            for _ in lister(symbol, timestamp_gte=start_ns, timestamp_lt=end_ns, order="asc", sort="timestamp",
                            limit=50_000):
                rows += 1
    print(rows)


class EmulatorProcess:
    """`tickwindows emulator` in its own process; cpu() reads its user + sys seconds from /proc."""

    def __init__(self, *extra: str):
        self.proc = subprocess.Popen([str(BIN / "tickwindows"), "emulator", "--port", "0", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        found = re.search(r"http://127\.0\.0\.1:\d+", self.proc.stdout.readline())
        if not found:
            raise SystemExit("the emulator did not start")
        self.url = found.group(0)

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        return out.strip().splitlines()[-1] if out.strip() else ""


def run_child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, str]:
    """(CPU seconds of the child alone, wall seconds, peak RSS bytes, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(err[-3000:])
        raise SystemExit(f"{args[0]} failed")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss * 1024, out


def download(db: Path, url: str, events: int, out: Path, *extra: str) -> tuple[float, float, int, dict[str, int]]:
    shutil.rmtree(out, ignore_errors=True)
    cpu, wall, rss, _ = run_child(
        [str(BIN / "tickwindows"), "download", "--db", str(db), "--base-url", url, "--out", str(out),
         "--limit", str(events), "--quiet", *extra], env=dict(os.environ, POLYGON_API_KEY=KEY))
    with sqlite3.connect(out / "_checkpoint.sqlite") as con:
        pages, rows, size = con.execute("select sum(pages), sum(rows), sum(bytes) from jobs").fetchone()
        requests, http_429 = con.execute("select requests, http_429 from runs").fetchone()
    return cpu, wall, rss, {"pages": pages, "rows": rows, "bytes": size, "requests": requests, "http_429": http_429}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--official":
        official_client(sys.argv[2], Path(sys.argv[3]))
        return
    events = int(os.environ.get("BENCH_EVENTS", "80"))
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    rate = float(os.environ.get("BENCH_RATE", "20"))
    pacing_events = int(os.environ.get("BENCH_PACING_EVENTS", "10"))
    db = go_warehouse()
    windows = windows_file(db, events)
    official_cmd = [str(BIN / "python"), str(Path(__file__).resolve()), "--official"]
    out = CACHE / "ticks"

    emu = EmulatorProcess()
    try:
        cpu0 = emu.cpu()
        _, _, _, printed = run_child([*official_cmd, emu.url, str(windows)])  # warms the page cache
        cold_rows, cold_cpu = int(printed), emu.cpu() - cpu0
        official, ours, served_cpu, served_rows = [], [], 0.0, 0
        for _ in range(repeats):  # alternate, so both see the same machine load
            cpu0 = emu.cpu()
            cpu, wall, rss, printed = run_child([*official_cmd, emu.url, str(windows)])
            official.append((cpu, wall, rss))
            rows = int(printed)
            cpu, wall, rss, totals = download(db, emu.url, events, out)
            ours.append((cpu, wall, rss))
            if totals["rows"] != rows:
                raise SystemExit(f"the clients disagree: official {rows:,} rows, tickwindows {totals['rows']:,}")
            served_cpu += emu.cpu() - cpu0
            served_rows += 2 * rows
        cpu3, wall3, rss3, _ = download(db, emu.url, events, out, "--workers", "3")
    finally:
        emu_stats = emu.stop()

    def med(runs: list[tuple[float, float, int]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    pages = totals["pages"]
    print(f"{events} manifest windows x trades + quotes: {rows:,} rows in {pages:,} pages of <= 50,000 "
          f"(emulator on loopback, gzip); median of {repeats}, run alternately")
    print(f"{'client (its own process)':<44} {'CPU s':>7} {'rows/CPU-s':>11} {'wall s':>7} {'RSS MiB':>8}")
    for name, runs in (("official massive client (parse only)", official),
                       ("tickwindows download, 1 worker", ours)):
        print(f"{name:<44} {med(runs, 0):>7.2f} {rows / med(runs, 0):>11,.0f} {med(runs, 1):>7.1f} "
              f"{med(runs, 2) / 2**20:>8.0f}")
    print(f"{'tickwindows download, 3 workers (1 run)':<44} {cpu3:>7.2f} {rows / cpu3:>11,.0f} {wall3:>7.1f} "
          f"{rss3 / 2**20:>8.0f}")
    ratio = med(official, 0) / med(ours, 0)
    print(f"tickwindows: {rows / med(ours, 0):,.0f} rows per CPU-second = {ratio:.2f}x the official client "
          f"(targets: >= 500,000 and >= 2.5x)")
    print(f"emulator (one process, GIL-bound: one core): {served_rows / served_cpu:,.0f} rows per CPU-second "
          f"serving the measured runs (cached pages); {cold_rows / cold_cpu:,.0f} on the first run, which "
          f"renders every page and the per-day count tables (target >= 1,000,000)")
    print(f"  {emu_stats}")

    emu = EmulatorProcess("--rate-limit", f"{rate:g}")
    try:
        cpu, wall, _, totals = download(db, emu.url, pacing_events, CACHE / "ticks-paced", "--workers", "3",
                                        "--page-limit", "1000")
    finally:
        emu.stop()
    useful = totals["pages"] / wall
    print(f"pacing ({pacing_events} windows): 1,000-row pages, 3 workers, adaptive limiter vs the emulator's "
          f"{rate:g} req/s: "
          f"{useful:.1f} useful req/s = {useful / rate:.0%} of the limit, {totals['http_429']} 429s, "
          f"{wall:.1f} s wall, {totals['rows'] / cpu:,.0f} rows/CPU-s")


if __name__ == "__main__":
    main()
