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
Then the floor (FLOOR_STEPS): the steps no plan for these measures can skip, each timed alone with DuckDB
on the same files, and their sum as the rows/s no plan made of them can beat: the yardstick for the
model's figure (the issue sets an absolute target, 5M rows/s, and no tool outside computes these measures).
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
        env["TICKWINDOWS_DUCKDB_TICKS_MEMORY"] = memory  # the measures' own limit (macros/duckdb_memory.sql)
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
        row = (con.execute(f"select count(distinct event_id) from intermediate.{MODEL}").fetchone()
               if exists and exists[0] else None)
    return Run(model_s, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, int(row[0]) if row else 0)


def fresh_copy(db: Path, ticks: Path) -> Path:
    """A copy of the cached warehouse with the window list built for `ticks` (the tick staging is ephemeral)."""
    work = CACHE / "bench.duckdb"
    for stale in (work, work.with_name(work.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.copy(db, work)
    dbt(["run", "--quiet", "--select", "int_tick_windows_fingerprinted"], work, ticks)
    return work


# The steps no plan for these measures can do without, each timed alone with DuckDB on the same files:
# reading the columns with each row joined to its window (an integer key, the bounds), one sort-based window
# pass over the valid quotes (each holds until the next: the time weights; last of each nanosecond; repeated
# mids), the time weights summed per segment, the tick test's two window passes over the trades, the two ASOF
# joins (mid at t, mid5 at t + 300 s) over the quotes they look up, and the trades' signs and measures
# summed per segment. Each query is written once: the setup stores its rows as the table of its name (for
# the steps after it, so that each step runs alone on in-memory inputs), then each is timed on its own as
# `count(*), max(columns(*))` over its rows (every column computed), less the same over its stored rows
# (the time of that count and max, not the step's). Left out: the RTH-only quote rule, the
# final join of the two sides, writing the table and dbt's own statements. So their sum bounds from above
# the tick rows/s of any plan made of these operators. The windows' bounds here come from the files (first
# and last quote).
FLOOR_QUERIES = {
    "quotes_valid": """
        select windows.k, epoch_ns(q.sip_timestamp) as t, q.sequence_number, (q.bid_price + q.ask_price) / 2 as mid,
               (q.ask_price - q.bid_price) / ((q.bid_price + q.ask_price) / 2) as relative_spread
        from read_parquet('{ticks}/quotes/*/*/*.parquet', filename = true) as q
        inner join windows on windows.event_id = parse_filename(q.filename, true)
        where q.bid_price > 0 and q.ask_price > 0 and q.bid_size > 0 and q.ask_size > 0
          and epoch_ns(q.sip_timestamp) >= windows.start_ns and epoch_ns(q.sip_timestamp) < windows.end_ns""",
    "trades_valid": """
        select windows.k, epoch_ns(tr.sip_timestamp) as t, tr.sequence_number, tr.price, tr.size
        from read_parquet('{ticks}/trades/*/*/*.parquet', filename = true) as tr
        inner join windows on windows.event_id = parse_filename(tr.filename, true)
        where tr.price > 0 and tr.size > 0 and coalesce(tr.correction, 0) = 0
          and epoch_ns(tr.sip_timestamp) >= windows.start_ns and epoch_ns(tr.sip_timestamp) < windows.end_ns""",
    "quotes_held": """
        select k, t, mid, relative_spread, lead(t) over w as next_t, lag(t) over w as previous_t,
               lag(mid) over w as previous_mid
        from quotes_valid window w as (partition by k order by t, sequence_number)""",
    "quoted_time": """
        select k, sum(relative_spread * pre_ns), sum(pre_ns), sum(relative_spread * post_ns), sum(post_ns)
        from (select quotes_held.k, quotes_held.relative_spread,
                     greatest(0, least(coalesce(next_t, windows.end_ns), windows.event_ns) - t) as pre_ns,
                     greatest(0, coalesce(next_t, windows.end_ns) - greatest(t, windows.event_ns)) as post_ns
              from quotes_held inner join windows on windows.k = quotes_held.k)
        group by k""",
    "quotes_looked_up": """
        select k, t, mid from quotes_held
        where (next_t is null or next_t > t) and not coalesce(previous_t < t and previous_mid = mid, false)""",
    "trades_ticked": """
        select k, t, price, size,
               coalesce(last_value(nullif(change, 0) ignore nulls) over (
                   partition by k order by t, sequence_number rows between unbounded preceding and current row), 0)
                   as direction
        from (select *, sign(price - lag(price) over (partition by k order by t, sequence_number)) as change
              from trades_valid)""",
    "trades_quoted": """
        select now_.*, later.mid as mid5 from (
            select trades_ticked.*, quotes_looked_up.mid from trades_ticked
            asof left join quotes_looked_up
                on quotes_looked_up.k = trades_ticked.k and trades_ticked.t > quotes_looked_up.t
        ) as now_
        asof left join quotes_looked_up as later on later.k = now_.k and now_.t + 300000000000 > later.t""",
    "trade_measures": """
        select trades_quoted.k, trades_quoted.t >= windows.event_ns as in_post, count(*), sum(size),
               count(*) filter (where mid is null),
               sum(2 * abs(price - mid) / mid * price * size) filter (where mid is not null)
                   / sum(price * size) filter (where mid is not null),
               sum(2 * q * (price - mid5) / mid * price * size) filter (where mid5 is not null)
                   / sum(price * size) filter (where mid5 is not null),
               sum(2 * q * (mid5 - mid) / mid * price * size) filter (where mid5 is not null)
                   / sum(price * size) filter (where mid5 is not null),
               sum(q * size) filter (where mid is not null) / sum(size) filter (where mid is not null)
        from (select *, case when mid is null then null when abs(price - mid) <= 1e-9 * mid then direction
                             when price > mid then 1 else -1 end as q
              from trades_quoted) as trades_quoted
        inner join windows on windows.k = trades_quoted.k
        group by all""",
}
FLOOR_STEPS = {  # label -> the query it times
    "read the quotes, each row joined to its window": "quotes_valid",
    "read the trades, each row joined to its window": "trades_valid",
    "quote window pass (lead/lag)": "quotes_held",
    "time weights per segment": "quoted_time",
    "two ASOF joins": "trades_quoted",
    "tick test: two window passes": "trades_ticked",
    "trades signed, measures per segment": "trade_measures",
}


def floor(ticks: Path, rows: int, runs: int) -> None:
    con = duckdb.connect()
    con.execute(f"set threads = 2; set memory_limit = '{os.environ.get('TICKWINDOWS_DUCKDB_TICKS_MEMORY', '3GB')}'; "
                "set preserve_insertion_order = false; set asof_loop_join_threshold = 0")
    con.execute(f"""
        create temp table windows as
        select event_id, cast(row_number() over (order by event_id) as integer) as k, start_ns,
               start_ns + (end_ns - start_ns) // 2 as event_ns, end_ns
        from (select parse_filename(filename, true) as event_id, min(epoch_ns(sip_timestamp)) as start_ns,
                     max(epoch_ns(sip_timestamp)) + 1 as end_ns
              from read_parquet('{ticks}/quotes/*/*/*.parquet', filename = true) group by all)""")
    queries = {name: sql.format(ticks=ticks) for name, sql in FLOOR_QUERIES.items()}
    for name, sql in queries.items():
        con.execute(f"create temp table {name} as {sql}")
    def best(sql: str) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            con.execute(f"select count(*), max(columns(*)) from {sql}").fetchall()
            times.append(time.perf_counter() - started)
        return min(times)

    total = 0.0
    for label, name in FLOOR_STEPS.items():
        step = best(f"({queries[name]})") - best(name)  # less the count and max over its stored rows
        total += step
        print(f"  {label:<48} {step:>6.2f} s", flush=True)
    print(f"  {'sum: no plan of these steps is faster':<48} {total:>6.2f} s = {rows / total:,.0f} tick rows/s "
          f"(5M rows/s: {rows / 5e6:.2f} s)", flush=True)


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
          f"DuckDB memory_limit of the measures {os.environ.get('TICKWINDOWS_DUCKDB_TICKS_MEMORY', '3GB')} ===")
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
    rebind = ["run", "--quiet", "--select", "int_tick_windows_fingerprinted", MODEL]
    report("incremental: 100 more windows", rows - tick_rows(before), [dbt(rebind, work, ticks)])
    report("incremental: none new", 0, [dbt(rebind, work, ticks)])
    print(f"\nthe floor: the steps no plan for these measures can skip, each alone on the {windows:,} windows' files "
          f"(best of {runs})")
    floor(ticks, rows, runs)


if __name__ == "__main__":
    main()
