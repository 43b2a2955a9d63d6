"""`make bench-batches`: the plan's batch workflow on the default demo universe, measured.

The default demo universe (2,200 symbols) is generated at 25 %, 60 % and 100 % of its symbols
(`demo-data --symbols-fraction`, nested subsets; cached in .cache/bench/). Each stage is a real
`dbt build --vars '{universe_symbols: 2200}'` (profile core) into one warehouse, followed by a real
`tickwindows release`; then a one-shot build of the full universe into a fresh warehouse.

Printed: per stage the verdict, events, coverage, pinned events kept unchanged, wall time and
peak RSS of dbt; at the end the final incremental manifest against the one-shot one: mean score
(ratio; the plan asks >= 97 %) and the share of the one-shot picks it contains.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CACHE = ROOT / ".cache" / "bench"
UNIVERSE = 2200
FRACTIONS = (0.25, 0.6, 1.0)


def inputs_at(fraction: float) -> Path:
    out = CACHE / f"inputs-default-{int(fraction * 100)}pct"
    if (out / ".complete").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    print(f"generating the default universe at {fraction:.0%} of its symbols into {out} ...", flush=True)
    subprocess.run([str(BIN / "tickwindows"), "demo-data", "--out", str(out), "--symbols-fraction", str(fraction)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    (out / ".complete").touch()
    return out


def dbt_build(db: Path, inputs: Path, work: Path, universe: int | None) -> tuple[int, float, int]:
    """(exit code, wall seconds, peak RSS bytes) of one `dbt build`."""
    vars_: dict[str, object] = {"events_path": f"{inputs}/events/*.parquet", "daily_bars_dir": f"{inputs}/daily",
                                "profile": "core"}
    if universe is not None:
        vars_["universe_symbols"] = universe
    env = dict(os.environ, TICKWINDOWS_DB=str(db), DBT_PROFILES_DIR=str(ROOT), DO_NOT_TRACK="1")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "dbt"), "build", "--quiet", "--vars", json.dumps(vars_),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), time.perf_counter() - started, usage.ru_maxrss * 1024


def one(db: Path, sql: str) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return row


def main() -> None:
    work = CACHE / "batches"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "incremental.duckdb"
    print(f"{'stage':>6} {'verdict':>7} {'events':>7} {'symbols':>7} {'coverage':>8} {'pinned':>7} "
          f"{'kept as released':>16} {'build s':>7} {'peak RSS':>8}")
    for i, fraction in enumerate(FRACTIONS):
        inputs = inputs_at(fraction)
        code, wall, rss = dbt_build(db, inputs, work / f"stage{i}", UNIVERSE)
        go, = one(db, "select go from gate_runs order by evaluated_at desc limit 1")
        events, symbols = one(db, "select count(*), count(distinct symbol) from manifest_core")
        coverage, = one(db, "select coverage from selection_config")
        pinned, kept = one(db, """
            select count(*), count(m.event_id) from manifest_batches b
            left join manifest_core m on m.event_id = b.event_id and m.symbol = b.symbol and m.session = b.session
             and m.window_start_utc = b.window_start_utc and m.window_end_utc = b.window_end_utc"""
                           ) if i else (0, 0)
        print(f"{fraction:>6.0%} {'GO' if go and code == 0 else 'NO-GO':>7} {events:>7,} {symbols:>7,} "
              f"{coverage:>8.3f} {pinned:>7,} {f'{kept:,} of {pinned:,}':>16} {wall:>7.1f} {rss / 1e9:>6.2f} GB",
              flush=True)
        if i < len(FRACTIONS) - 1:
            subprocess.run([str(BIN / "tickwindows"), "release", "--db", str(db)], check=True,
                           stdout=subprocess.DEVNULL)
    one_shot = work / "one_shot.duckdb"
    code, wall, rss = dbt_build(one_shot, inputs_at(1.0), work / "one_shot", None)
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute(f"attach '{one_shot}' as one_shot (read_only)")
        inc_mean, one_mean, contained, one_rows, inc_rows, one_go = con.execute("""
            select (select avg(score) from main.manifest_core),
                   (select avg(score) from one_shot.manifest_core),
                   (select count(*) from one_shot.manifest_core o
                    where o.event_id in (select event_id from main.manifest_core)),
                   (select count(*) from one_shot.manifest_core),
                   (select count(*) from main.manifest_core),
                   (select go from one_shot.gate_runs order by evaluated_at desc limit 1)""").fetchone()
    print(f"one-shot build of the full universe: {'GO' if one_go else 'NO-GO'}, {one_rows:,} events, "
          f"{wall:.1f} s, {rss / 1e9:.2f} GB")
    print(f"final incremental manifest vs one-shot: mean score {inc_mean:.4f} vs {one_mean:.4f} "
          f"= {inc_mean / one_mean:.1%} (plan: >= 97 %); contains {contained:,} of the one-shot's {one_rows:,} picks "
          f"({contained / one_rows:.1%}); {inc_rows:,} events in all")


if __name__ == "__main__":
    main()
