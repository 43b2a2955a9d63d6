"""`make bench`: wall time, CPU, per-model times and peak RSS of `dbt build` at three scales, against
the same work written by hand in pandas/pyarrow (bench/pandas_peer.py), and the cost per million
events as the input grows.

Inputs are generated once per scale into .cache/bench/ and reused. At each scale the production
`dbt build` (the default selector of selectors.yml: seeds, models, data tests and the gate, no unit
tests, as a user runs it before any download: no tick files; a fresh DuckDB file each time) and the
pandas peer run alternately,
BENCH_RUNS times (default 3) each, every one as a subprocess whose wall time and peak RSS
(os.wait4's ru_maxrss: DuckDB runs inside the dbt process) are measured. Printed: the medians, the
ratios dbt/pandas, dbt's per-node times from target/run_results.json for its median run, whether both
selected the same event_ids, and the gate's verdict of the last build.

Past BENCH_PEER_MAX_EVENTS (default 10M) the build runs BENCH_RUNS_LARGE times (default 1) and the
pandas peer is not run: it holds every event in memory (3.8 GB at 10M), so 50M would need ~20 GB.
Last, a table of wall, CPU and peak RSS per million input events at every scale.

Environment: BENCH_EVENTS (default "default,10000000,60000000": the demo's default size of 700K
events, then 10M, then the 50M scale: `demo-data --events 60000000` writes 49.4M rows, 70x the plan's
input, because at that density the generator drops a sixth of its draws as (symbol, minute, type)
collisions), BENCH_RUNS (3), BENCH_RUNS_LARGE (1), BENCH_PEER_MAX_EVENTS (10000000), BENCH_PROFILE (core).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CACHE = ROOT / ".cache" / "bench"


def generate_inputs(size: str) -> Path:
    out = CACHE / f"inputs-{size}"
    stamp = out / ".complete"
    if stamp.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    args = [str(BIN / "tickwindows"), "demo-data", "--out", str(out)]
    if size != "default":
        args += ["--events", size]
    print(f"generating inputs ({size} events) into {out} ...", flush=True)
    started = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT)
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    stamp.touch()
    return out


def timed(args: list[str], env: dict | None = None) -> tuple[float, int, int, str, float]:
    """Run `args` from the repository root: (wall seconds, peak RSS bytes, exit code, stderr tail,
    CPU seconds user + system: less disturbed than wall time when other work shares the cores)."""
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a chatty child never blocks
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
        err.seek(0)
        tail = err.read().decode(errors="replace")[-2000:]
    return wall, usage.ru_maxrss * 1024, proc.returncode, tail, usage.ru_utime + usage.ru_stime


def build_once(
    inputs: Path, db: Path, profile: str, extra: list[str]
) -> tuple[float, int, list[dict], int, float, float]:
    """One `dbt build` into a fresh file: (wall seconds, peak RSS bytes, node timings, exit code,
    dbt's own elapsed time from run_results.json, CPU seconds)."""
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    env = dict(os.environ, TICKWINDOWS_DB=str(db), DBT_PROFILES_DIR=str(ROOT), DO_NOT_TRACK="1")
    vars_ = json.dumps({
        "events_path": f"{inputs}/events/*.parquet",
        "daily_bars_dir": f"{inputs}/daily",
        "ticks_dir": f"{inputs}/ticks",  # absent: the selection build, before any download
        "profile": profile,
    })
    wall, rss, code, tail, cpu = timed([str(BIN / "dbt"), "build", "--vars", vars_, "--quiet", *extra], env)
    if code != 0:
        sys.stderr.write(tail)
    run_results = json.loads((ROOT / "target" / "run_results.json").read_text())
    timings = [
        {"node": r["unique_id"], "seconds": r["execution_time"], "status": r["status"],
         "phases": {t["name"]: _seconds(t) for t in r.get("timing", [])}}
        for r in run_results["results"]
    ]
    return wall, rss, timings, code, float(run_results.get("elapsed_time") or 0.0), cpu


def _seconds(phase: dict) -> float:
    start, end = (datetime.fromisoformat(phase[k].replace("Z", "+00:00")) for k in ("started_at", "completed_at"))
    return (end - start).total_seconds()


def peer_once(inputs: Path, out: Path, profile: str) -> tuple[float, int, int, float]:
    """One run of bench/pandas_peer.py writing its selection to `out`: (wall seconds, peak RSS bytes,
    exit code, CPU seconds)."""
    out.unlink(missing_ok=True)
    wall, rss, code, tail, cpu = timed([
        str(BIN / "python"), str(ROOT / "bench" / "pandas_peer.py"),
        "--events", f"{inputs}/events/*.parquet", "--daily", f"{inputs}/daily",
        "--profile", profile, "--out", str(out),
    ])
    if code != 0:
        sys.stderr.write(tail)
    return wall, rss, code, cpu


def same_selection(db: Path, peer_out: Path) -> str:
    """Whether manifest_core (the last dbt build) and the peer's selection hold the same event_ids."""
    import duckdb
    import pyarrow.parquet as pq

    with duckdb.connect(str(db), read_only=True) as con:
        dbt_rows = dict(con.execute("select event_id, session from manifest_core").fetchall())
    peer = pq.read_table(peer_out, columns=["event_id", "session"]).to_pydict()
    peer_rows = dict(zip(peer["event_id"], peer["session"], strict=False))
    if dbt_rows.keys() == peer_rows.keys():
        sessions = "same session for every event" if dbt_rows == peer_rows else "SESSIONS DIFFER"
        return f"yes, {len(dbt_rows)} event_ids identical ({sessions})"
    only_dbt, only_peer = dbt_rows.keys() - peer_rows.keys(), peer_rows.keys() - dbt_rows.keys()
    return f"NO: {len(only_dbt)} only in manifest_core, {len(only_peer)} only in the pandas peer"


def _median_run(outcomes: list[tuple]) -> tuple:
    return sorted(outcomes, key=lambda o: o[0])[len(outcomes) // 2]


def report_dbt(title: str, outcomes: list[tuple]) -> None:
    walls = [o[0] for o in outcomes]
    runs = len(outcomes)
    wall, rss, timings, code, elapsed, _ = _median_run(outcomes)
    print(f"\n=== {title}: {runs} runs ===")
    print(f"wall (median of {runs}): {statistics.median(walls):.2f} s   runs: "
          + ", ".join(f"{w:.2f}" for w in walls))
    peak = max(o[1] for o in outcomes)
    print(f"peak RSS (median run): {rss / 2**20:.0f} MiB   max over runs: {peak / 2**20:.0f} MiB")
    print(f"CPU user+sys (median of {runs}): {statistics.median(o[5] for o in outcomes):.2f} s")
    print(f"exit code: {code}" + ("" if code == 0 else "  (non-zero: a test or the gate failed; see above)"))
    compile_s = sum(t["phases"].get("compile", 0.0) for t in timings)
    execute_s = sum(t["phases"].get("execute", 0.0) for t in timings)
    print(f"median run: dbt's own elapsed (run_results.json) {elapsed:.2f} s of {wall:.2f} s wall; "
          f"the other {wall - elapsed:.2f} s ({(wall - elapsed) / wall:.0%} of the wall time: dbt's start-up share) "
          "are process start-up, imports, parse and manifest")
    print(f"  {len(timings)} nodes: compile {compile_s:.2f} s + execute {execute_s:.2f} s summed over nodes "
          "(they overlap: dbt runs nodes on several threads), node execution_time total "
          f"{sum(t['seconds'] for t in timings):.2f} s")


def report_nodes(timings: list[dict]) -> None:
    models = [t for t in timings if t["node"].startswith(("model.", "seed."))]
    tests = [t for t in timings if t["node"].startswith(("test.", "unit_test."))]
    print(f"{'node':<60} {'seconds':>8}")
    for t in sorted(models, key=lambda t: -t["seconds"]):
        print(f"{t['node'].split('.', 2)[-1]:<60} {t['seconds']:>8.2f}")
    print(f"{'all models + seeds':<60} {sum(t['seconds'] for t in models):>8.2f}")
    print(f"{'all tests (' + str(len(tests)) + ')':<60} {sum(t['seconds'] for t in tests):>8.2f}")
    slowest = sorted(tests, key=lambda t: -t["seconds"])[:5]
    for t in slowest:
        print(f"  {t['node'].split('.', 2)[-1][:56]:<58} {t['seconds']:>8.2f}")


def input_events(inputs: Path) -> int:
    """The event rows the generator wrote (edge rows included): the scale the costs are divided by."""
    import duckdb

    with duckdb.connect() as con:
        (rows,) = con.execute(f"select count(*) from read_parquet('{inputs}/events/*.parquet')").fetchone()
    return int(rows)


def gate_verdict(db: Path) -> str:
    """The last build's verdict, from main.gate_runs (what download and export read)."""
    import duckdb

    from tickwindows.gate import latest_verdict

    with duckdb.connect(str(db), read_only=True) as con:
        verdict = latest_verdict(con)
    if verdict is None:
        return "no gate run recorded"
    checks = len(verdict.passed_checks) + len(verdict.failed_checks)
    word = "GO" if verdict.go else "NO-GO (failed: " + ", ".join(verdict.failed_checks) + ")"
    selected = verdict.manifest_rows or 0
    return f"{word}, {len(verdict.passed_checks)}/{checks} checks passed, {selected:,} events selected"


def bench(size: str, runs: int, profile: str, with_peer: bool) -> dict[str, float]:
    """The full `dbt build` and (when `with_peer`) the pandas peer, alternately, then the comparison.
    Returns the median build's figures for the cost-per-million table."""
    inputs = generate_inputs(size)
    events = input_events(inputs)
    db = CACHE / f"bench-{size}.duckdb"
    peer_out = CACHE / f"peer-{size}.parquet"
    print(f"\n##### {size} ({events:,} input event rows) #####", flush=True)
    dbt_runs, peer_runs = [], []
    for i in range(runs):
        dbt_runs.append(build_once(inputs, db, profile, []))
        line = f"  run {i + 1}/{runs}: dbt build {dbt_runs[-1][0]:.2f} s"
        if with_peer:
            peer_runs.append(peer_once(inputs, peer_out, profile))
            line += f", pandas peer {peer_runs[-1][0]:.2f} s"
        print(line, flush=True)
    report_dbt(f"dbt build (production: data tests and gate, no unit tests), {size} events, profile {profile}",
               dbt_runs)
    report_nodes(_median_run(dbt_runs)[2])
    print(f"gate (last build): {gate_verdict(db)}")
    figures = {
        "events": float(events),
        "wall": statistics.median(o[0] for o in dbt_runs),
        "cpu": statistics.median(o[5] for o in dbt_runs),
        "rss": float(statistics.median(o[1] for o in dbt_runs)),
    }
    if not with_peer:
        print(f"pandas peer: not run at {events:,} events (it holds every event in memory: ~3.8 GB at 10M)")
        return figures

    peer_walls = [o[0] for o in peer_runs]
    print(f"\n=== pandas peer (bench/pandas_peer.py), {size} events, profile {profile}: {runs} runs ===")
    print(f"wall (median of {runs}): {statistics.median(peer_walls):.2f} s   runs: "
          + ", ".join(f"{w:.2f}" for w in peer_walls))
    print(f"peak RSS (median run): {_median_run(peer_runs)[1] / 2**20:.0f} MiB   "
          f"max over runs: {max(o[1] for o in peer_runs) / 2**20:.0f} MiB")
    print(f"CPU user+sys (median of {runs}): {statistics.median(o[3] for o in peer_runs):.2f} s")
    print("exit codes: " + ", ".join(str(o[2]) for o in peer_runs))

    dbt_wall, peer_wall = figures["wall"], statistics.median(peer_walls)
    dbt_rss, peer_rss = figures["rss"], statistics.median(o[1] for o in peer_runs)
    print(f"\n=== dbt build / pandas peer, {size} events ===")
    print(f"wall (median of runs): {dbt_wall:.2f} s / {peer_wall:.2f} s = {dbt_wall / peer_wall:.2f}x")
    print(f"peak RSS (median of runs): {dbt_rss / 2**20:.0f} MiB / {peer_rss / 2**20:.0f} MiB "
          f"= {dbt_rss / peer_rss:.2f}x")
    dbt_cpu, peer_cpu = figures["cpu"], statistics.median(o[3] for o in peer_runs)
    print(f"CPU user+sys (median of runs): {dbt_cpu:.2f} s / {peer_cpu:.2f} s = {dbt_cpu / peer_cpu:.2f}x")
    if dbt_runs[-1][3] == 0 and peer_runs[-1][2] == 0:
        print(f"same selection (last runs): {same_selection(db, peer_out)}")
    else:
        print("same selection: not checked (a run failed)")
    return figures


def report_growth(rows: list[tuple[str, dict[str, float]]]) -> None:
    """Wall, CPU and peak RSS per million input events at each scale: the growth curve."""
    print("\n=== dbt build cost per million input events (median runs) ===")
    print(f"{'scale':<12} {'events':>12} {'wall s':>9} {'CPU s':>9} {'RSS MiB':>9} "
          f"{'wall s/M':>9} {'CPU s/M':>9} {'RSS MiB/M':>10}")
    for size, f in rows:
        millions = f["events"] / 1e6
        print(f"{size:<12} {int(f['events']):>12,} {f['wall']:>9.1f} {f['cpu']:>9.1f} {f['rss'] / 2**20:>9.0f} "
              f"{f['wall'] / millions:>9.2f} {f['cpu'] / millions:>9.2f} {f['rss'] / 2**20 / millions:>10.1f}")


def main() -> None:
    sizes = [s.strip() for s in os.environ.get("BENCH_EVENTS", "default,10000000,60000000").split(",")]
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    runs_large = int(os.environ.get("BENCH_RUNS_LARGE", "1"))
    peer_max = int(os.environ.get("BENCH_PEER_MAX_EVENTS", "10000000"))
    profile = os.environ.get("BENCH_PROFILE", "core")
    CACHE.mkdir(parents=True, exist_ok=True)
    growth = []
    for size in sizes:
        small = size == "default" or int(size) <= peer_max
        growth.append((size, bench(size, runs if small else runs_large, profile, with_peer=small)))
    report_growth(growth)


if __name__ == "__main__":
    main()
