"""`make bench` (part 2): tick rows per second and peak RSS of `window_liquidity` over >= 1,000 demo windows.

Inputs, prepared once and cached under .cache/bench-liquidity/ (delete it to start over):
the default demo universe (shared with bench_dbt.py: .cache/bench/inputs-default), a GO `dbt build`
(profile core) into warehouse.duckdb, and BENCH_WINDOWS (default 1,000) manifest windows downloaded
from the bundled emulator on loopback by the real `tickwindows download` (the first N in event_id
order: every session, quiet and hot tickers; about 35M tick rows for 1,000). Downloading takes ~2 min
(2026-11-25: the emulator renders every page once); it is resumable, so an interrupted preparation continues.

Measured: `dbt run --full-refresh -s int_window_liquidity_measured` (every window measured from the
files: the incremental model's worst case) into a copy of that warehouse, BENCH_RUNS times (default 3)
for each of BENCH_SIZES windows (default "250,1000": subsets are hard-linked file trees), then once with
DuckDB's memory limit lowered (BENCH_LOW_MEMORY, default 1GB), then incremental runs: 100 windows more
than a previous build (which measures only those 100), and nothing new.
Printed: tick rows (trades + quotes rows of the measured windows' files), the model's time as dbt
reports it, rows/s, the dbt process's wall and CPU (user + sys) seconds and its peak RSS (os.wait4;
DuckDB runs inside dbt). The machine is shared: CPU seconds are steadier than wall time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CACHE = ROOT / ".cache" / "bench-liquidity"
INPUTS = ROOT / ".cache" / "bench" / "inputs-default"  # the same demo inputs bench_dbt.py caches
sys.path.insert(0, str(ROOT / "python"))

from tickwindows.emulator.server import Emulator, EmulatorConfig  # noqa: E402


def dbt_env(db: Path) -> dict[str, str]:
    return dict(os.environ, TICKWINDOWS_DB=str(db), DBT_PROFILES_DIR=str(ROOT), DO_NOT_TRACK="1",
                DBT_SEND_ANONYMOUS_USAGE_STATS="False")


def dbt_vars(ticks: Path) -> str:
    return json.dumps({"events_path": f"{INPUTS}/events/*.parquet", "daily_bars_dir": f"{INPUTS}/daily",
                       "profile": "core", "ticks_dir": str(ticks)})


def demo_inputs() -> Path:
    stamp = INPUTS / ".complete"
    if not stamp.exists():
        shutil.rmtree(INPUTS, ignore_errors=True)
        print(f"generating the default demo inputs into {INPUTS} ...", flush=True)
        subprocess.run([str(BIN / "tickwindows"), "demo-data", "--out", str(INPUTS)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        stamp.touch()
    return INPUTS


def prepare(windows: int) -> tuple[Path, Path]:
    """(warehouse, ticks dir) with `windows` downloaded windows; cached."""
    db, ticks = CACHE / "warehouse.duckdb", CACHE / "ticks"
    stamp = CACHE / f".downloaded-{windows}"
    if stamp.exists():
        return db, ticks
    CACHE.mkdir(parents=True, exist_ok=True)
    demo_inputs()
    if not (CACHE / ".built").exists():
        print("dbt build (profile core) of the demo universe for a GO ...", flush=True)
        db.unlink(missing_ok=True)
        subprocess.run([str(BIN / "dbt"), "build", "--quiet", "--vars", dbt_vars(ticks)], check=True, cwd=ROOT,
                       env=dbt_env(db))
        (CACHE / ".built").touch()
    print(f"downloading {windows:,} windows from the emulator into {ticks} (cached; resumable) ...", flush=True)
    started = time.perf_counter()
    with Emulator(EmulatorConfig(), port=0) as emu:
        subprocess.run(
            [str(BIN / "tickwindows"), "download", "--db", str(db), "--base-url", emu.url, "--out", str(ticks),
             "--workers", "3", "--limit", str(windows), "--quiet"],
            check=True, cwd=ROOT, env=dict(os.environ, POLYGON_API_KEY="bench-key-loopback-only"),
        )
    print(f"  downloaded in {time.perf_counter() - started:.0f} s", flush=True)
    stamp.touch()
    return db, ticks


MODEL = "int_window_liquidity_measured"


@dataclass
class Run:
    model_s: float  # the node's execution time (run_results.json)
    wall_s: float
    cpu_s: float
    rss: int
    measured: int  # windows in the table afterwards


def subset(ticks: Path, windows: int, all_windows: int) -> Path:
    """A tick tree with the first `windows` windows (event_id order) as hard links; the whole tree for all."""
    if windows >= all_windows:
        return ticks
    out = CACHE / f"ticks-{windows}"
    stamp = out / ".complete"
    if stamp.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    ids = sorted({p.stem for p in (ticks / "trades").glob("symbol=*/date=*/*.parquet")})[:windows]
    keep = set(ids)
    for kind in ("trades", "quotes"):
        for path in (ticks / kind).glob("symbol=*/date=*/*.parquet"):
            if path.stem in keep:
                target = out / path.relative_to(ticks)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, target)
    stamp.touch()
    return out


def tick_rows(ticks: Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in ticks.glob("*/symbol=*/date=*/*.parquet"))


def dbt(args: list[str], db: Path, ticks: Path, memory: str | None = None) -> Run:
    target = CACHE / "target"
    env = dbt_env(db)
    if memory:
        env["TICKWINDOWS_DUCKDB_MEMORY"] = memory
    log = CACHE / "dbt-output.log"
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "dbt"), *args, "--vars", dbt_vars(ticks), "--target-path", str(target), "--log-path",
             str(CACHE / "logs")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(log.read_text(errors="replace")[-3000:])
        raise SystemExit(f"dbt {' '.join(args)} failed")
    results = json.loads((target / "run_results.json").read_text())["results"]
    model_s = sum(r["execution_time"] for r in results if r["unique_id"].endswith("." + MODEL))
    with duckdb.connect(str(db), read_only=True) as con:
        exists = con.execute("select count(*) from information_schema.tables where table_name = ?", [MODEL]).fetchone()
        row = con.execute(f"select count(distinct event_id) from main.{MODEL}").fetchone() if exists and exists[0] \
            else None
    return Run(model_s, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, int(row[0]) if row else 0)


def fresh_copy(db: Path, ticks: Path) -> Path:
    """A copy of the cached warehouse with the staging views and the window list built for `ticks`."""
    work = CACHE / "bench.duckdb"
    for stale in (work, work.with_name(work.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.copy(db, work)
    dbt(["run", "--quiet", "--select", "stg_ticks__trades", "stg_ticks__quotes", "int_tick_windows_fingerprinted"],
        work, ticks)
    return work


def report(label: str, rows: int, runs: list[Run]) -> None:
    median = sorted(runs, key=lambda r: r.model_s)[len(runs) // 2]
    print(f"{label:<34} {median.measured:>7,} {rows:>12,} {median.model_s:>8.2f} {rows / median.model_s:>11,.0f} "
          f"{median.wall_s:>7.1f} {median.cpu_s:>7.1f} {median.rss / 2**20:>8,.0f}"
          + (f"   (model s over {len(runs)} runs: " + ", ".join(f"{r.model_s:.2f}" for r in runs) + ")"
             if len(runs) > 1 else ""), flush=True)


def main() -> None:
    windows = int(os.environ.get("BENCH_WINDOWS", "1000"))
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", f"250,{windows}").split(",")]
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    low_memory = os.environ.get("BENCH_LOW_MEMORY", "1GB")
    db, ticks = prepare(windows)
    print(f"\n=== window_liquidity ({MODEL}, full refresh), emulator windows, dbt threads 2, "
          f"DuckDB memory_limit {os.environ.get('TICKWINDOWS_DUCKDB_MEMORY', '3GB')} ===")
    print(f"{'run':<34} {'windows':>7} {'tick rows':>12} {'model s':>8} {'rows/s':>11} {'wall s':>7} {'cpu s':>7} "
          f"{'RSS MiB':>8}")
    full = ["run", "--quiet", "--full-refresh", "--select", MODEL]
    for size in sizes:
        tree = subset(ticks, size, windows)
        rows = tick_rows(tree)
        work = fresh_copy(db, tree)
        report(f"{size:,} windows", rows, [dbt(full, work, tree) for _ in range(runs)])
    rows = tick_rows(ticks)
    work = fresh_copy(db, ticks)
    report(f"{windows:,} windows, memory_limit {low_memory}", rows, [dbt(full, work, ticks, low_memory)])
    # Incremental: the windows but the last 100 measured, then the 100 more "downloaded" (the full tree).
    before = subset(ticks, windows - 100, windows)
    work = fresh_copy(db, before)
    dbt(full, work, before)
    rebind = ["run", "--quiet", "--select", "stg_ticks__trades", "stg_ticks__quotes", "int_tick_windows_fingerprinted",
              MODEL]
    report("incremental: 100 more windows", rows - tick_rows(before), [dbt(rebind, work, ticks)])
    report("incremental: none new", 0, [dbt(rebind, work, ticks)])


if __name__ == "__main__":
    main()
