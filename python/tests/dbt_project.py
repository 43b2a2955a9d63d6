"""Run the real dbt project from tests: a fresh DuckDB file per build, a private target/log path
per invocation (so parallel or repeated builds never share partial-parse state), no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class DbtRun:
    returncode: int
    output: str


def run_dbt(command: list[str], db: Path, vars_: dict, work: Path) -> DbtRun:
    """`dbt <command>` against `db`, with `vars_`, target/logs under `work`."""
    work.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        TICKWINDOWS_DB=str(db),
        DBT_PROFILES_DIR=str(REPO),
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    args = [
        str(BIN / "dbt"), *command,
        "--vars", json.dumps(vars_),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
    ]
    proc = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    return DbtRun(proc.returncode, proc.stdout + proc.stderr)


def input_vars(inputs: Path, profile: str = "smoke") -> dict:
    # ticks_dir beside the inputs: never the checkout's data/ticks, which `make demo` fills.
    return {
        "events_path": f"{inputs}/events/*.parquet",
        "daily_bars_dir": f"{inputs}/daily",
        "ticks_dir": f"{inputs}/ticks",
        "profile": profile,
    }


def generate_inputs(out: Path, *extra: str) -> Path:
    """`tickwindows demo-data --size small` into `out` (the real command)."""
    subprocess.run(
        [str(BIN / "tickwindows"), "demo-data", "--size", "small", "--out", str(out), *extra],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return out


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def latest_gate_run(db: Path) -> dict:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute("select * from main.gate_runs order by evaluated_at desc limit 1")
        names = [d[0] for d in cur.description]
        return dict(zip(names, cur.fetchone(), strict=True))
