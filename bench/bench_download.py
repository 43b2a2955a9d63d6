"""`make bench-download`: downloader throughput against the bundled emulator on loopback.

Builds a GO warehouse from the small demo universe once (.cache/bench-download/), serves the
emulator in this process (rate limit BENCH_RATE req/s, default 20) and runs the real
`tickwindows download` as a child process, so its peak RSS (os.wait4) is the downloader's alone:

1. full 50,000-row pages, 1 and 3 workers: rows/s, pages/s, MB/s, peak RSS;
2. 1,000-row pages (many requests), 3 workers, adaptive limiter: the share of the server's limit
   used (useful requests/s / limit) and the 429 rate.

Environment: BENCH_EVENTS_LIMIT (manifest events per run, default 40), BENCH_RATE (20).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CACHE = ROOT / ".cache" / "bench-download"
sys.path.insert(0, str(ROOT / "python"))

from tickwindows.emulator.server import Emulator, EmulatorConfig  # noqa: E402


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


def run_download(db: Path, url: str, workers: int, limit: int, extra: list[str]) -> dict:
    out = CACHE / f"ticks-w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    args = [str(BIN / "tickwindows"), "download", "--db", str(db), "--base-url", url, "--out", str(out),
            "--workers", str(workers), "--limit", str(limit), "--quiet", *extra]
    env = dict(os.environ, POLYGON_API_KEY="bench-key-loopback-only")
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-2000:])
        raise SystemExit("download failed")
    with sqlite3.connect(out / "_checkpoint.sqlite") as con:
        pages, rows, size = con.execute("select sum(pages), sum(rows), sum(bytes) from jobs").fetchone()
    return {"wall": wall, "pages": pages, "rows": rows, "bytes": size, "rss": usage.ru_maxrss * 1024}


def main() -> None:
    limit = int(os.environ.get("BENCH_EVENTS_LIMIT", "40"))
    rate = float(os.environ.get("BENCH_RATE", "20"))
    db = go_warehouse()
    print(f"emulator on loopback, rate limit {rate:g} req/s; {limit} manifest events (x trades + quotes)")
    print(f"{'scenario':<44} {'wall s':>7} {'pages/s':>8} {'rows/s':>9} {'MB/s':>6} {'RSS MiB':>8} {'429s':>5} "
          f"{'limit used':>10}")
    scenarios = [
        ("50,000-row pages, 1 worker", 1, []),
        ("50,000-row pages, 3 workers", 3, []),
        ("1,000-row pages, 3 workers, adaptive", 3, ["--page-limit", "1000"]),
    ]
    for name, workers, extra in scenarios:
        with Emulator(EmulatorConfig(rate_limit=rate)) as emu:
            result = run_download(db, emu.url, workers, limit, extra)
            stats = dict(emu.stats)
        throttled = stats.get("by_status", {}).get(429, 0)
        useful = result["pages"] / result["wall"]
        print(f"{name:<44} {result['wall']:>7.1f} {useful:>8.1f} {result['rows'] / result['wall']:>9,.0f} "
              f"{result['bytes'] / result['wall'] / 1e6:>6.2f} {result['rss'] / 2**20:>8.0f} {throttled:>5} "
              f"{useful / rate:>10.0%}")


if __name__ == "__main__":
    main()
