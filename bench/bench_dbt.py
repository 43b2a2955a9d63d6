"""`make bench`: wall time, per-model times and peak RSS of `dbt build` at two scales.

Inputs are generated once per scale into .cache/bench/ and reused. Each scale is built
BENCH_RUNS times (default 3) into a fresh DuckDB file; the median run is reported, with the
per-node times dbt wrote to target/run_results.json and the dbt process's peak RSS
(os.wait4's ru_maxrss: DuckDB runs inside the dbt process).

Each scale is measured twice: the full `dbt build` (unit tests included, as in `make test`), and
`dbt build --exclude-resource-type unit_test` (models, data tests and the gate: a production run).

Environment: BENCH_EVENTS (default "default,10000000": the demo's default size, then 10M events),
BENCH_RUNS (3), BENCH_PROFILE (core).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
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


def build_once(inputs: Path, db: Path, profile: str, extra: list[str]) -> tuple[float, int, list[dict], int]:
    """One `dbt build` into a fresh file: (wall seconds, peak RSS bytes, node timings, exit code)."""
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    env = dict(os.environ, TICKWINDOWS_DB=str(db), DBT_PROFILES_DIR=str(ROOT), DO_NOT_TRACK="1")
    vars_ = json.dumps({
        "events_path": f"{inputs}/events/*.parquet",
        "daily_bars_dir": f"{inputs}/daily",
        "profile": profile,
    })
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "dbt"), "build", "--vars", vars_, "--quiet", *extra],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and proc.stderr is not None:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-2000:])
    results = json.loads((ROOT / "target" / "run_results.json").read_text())["results"]
    timings = [
        {"node": r["unique_id"], "seconds": r["execution_time"], "status": r["status"]} for r in results
    ]
    return wall, usage.ru_maxrss * 1024, timings, code


def bench(size: str, runs: int, profile: str, extra: list[str]) -> None:
    inputs = generate_inputs(size)
    db = CACHE / f"bench-{size}.duckdb"
    outcomes = [build_once(inputs, db, profile, extra) for _ in range(runs)]
    walls = [o[0] for o in outcomes]
    median_run = sorted(outcomes, key=lambda o: o[0])[len(outcomes) // 2]
    _, rss, timings, code = median_run
    print(f"\n=== dbt build {' '.join(extra)}, {size} events, profile {profile}: {runs} runs ===")
    print(f"wall (median of {runs}): {statistics.median(walls):.2f} s   runs: "
          + ", ".join(f"{w:.2f}" for w in walls))
    peak = max(o[1] for o in outcomes)
    print(f"peak RSS (median run): {rss / 2**20:.0f} MiB   max over runs: {peak / 2**20:.0f} MiB")
    print(f"exit code: {code}" + ("" if code == 0 else "  (non-zero: a test or the gate failed; see above)"))
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


def main() -> None:
    sizes = os.environ.get("BENCH_EVENTS", "default,10000000").split(",")
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    profile = os.environ.get("BENCH_PROFILE", "core")
    CACHE.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        bench(size.strip(), runs, profile, [])
        # Production runs usually skip dbt unit tests (they test logic, not data); show that too.
        bench(size.strip(), runs, profile, ["--exclude-resource-type", "unit_test"])


if __name__ == "__main__":
    main()
