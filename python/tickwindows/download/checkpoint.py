"""The checkpoint store: `{out}/_checkpoint.sqlite`, one row per (event_id, kind) plus a run log.

A job is `done` only after its Parquet file was fsynced and atomically renamed into place, and
the row records the file's sha256, so a later run can tell a good file from a missing, truncated
or corrupted one. Anything not `done` restarts from page 1 on the next run. SQLite in WAL mode
with synchronous=FULL keeps every committed row across a kill -9.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, cast

STATUSES = ("pending", "running", "done", "failed", "permanent")
CHECKPOINT_NAME = "_checkpoint.sqlite"

_SCHEMA = """
create table if not exists jobs (
    event_id text not null,
    kind text not null,
    symbol text not null,
    trading_date text not null,
    window_start_ns integer not null,
    window_end_ns integer not null,
    status text not null check (status in ('pending', 'running', 'done', 'failed', 'permanent')),
    path text,
    pages integer not null default 0,
    rows integer not null default 0,
    bytes integer not null default 0,
    sha256 text,
    attempts integer not null default 0,
    last_error text,
    http_status integer,
    started_at text,
    finished_at text,
    seconds real,
    run_id integer,
    primary key (event_id, kind)
);
create table if not exists runs (
    run_id integer primary key autoincrement,
    command text not null,
    started_at text not null,
    finished_at text,
    args_json text not null,
    forced integer not null default 0,
    jobs_total integer,
    jobs_done integer,
    jobs_skipped integer,
    jobs_failed integer,
    jobs_permanent integer,
    pages integer,
    rows integer,
    bytes integer,
    requests integer,
    http_429 integer,
    exit_code integer
);
"""


SqlValue = str | int | float | None


class RunRow(TypedDict):
    """A row of `runs`: one per download or pilot invocation."""

    run_id: int
    command: str
    started_at: str
    finished_at: str | None
    args_json: str
    forced: int
    jobs_total: int | None
    jobs_done: int | None
    jobs_skipped: int | None
    jobs_failed: int | None
    jobs_permanent: int | None
    pages: int | None
    rows: int | None
    bytes: int | None
    requests: int | None
    http_429: int | None
    exit_code: int | None


class StatusCount(TypedDict):
    kind: str
    status: str
    jobs: int
    rows: int | None
    bytes: int | None
    pages: int | None


class JobError(TypedDict):
    """The latest error of a job that is not done."""

    event_id: str
    kind: str
    symbol: str
    status: str
    attempts: int
    http_status: int | None
    last_error: str | None


class JobStat(TypedDict):
    event_id: str
    kind: str
    status: str
    rows: int
    bytes: int
    pages: int
    seconds: float | None


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class JobRow:
    event_id: str
    kind: str
    symbol: str
    trading_date: str
    window_start_ns: int
    window_end_ns: int
    status: str
    path: str | None
    pages: int
    rows: int
    bytes: int
    sha256: str | None
    attempts: int
    last_error: str | None


class CheckpointStore:
    """Thread-safe (one connection behind a lock); every write is its own committed transaction."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=full")
        self._db.executescript(_SCHEMA)

    @classmethod
    def open_existing(cls, out_dir: Path) -> CheckpointStore | None:
        path = out_dir / CHECKPOINT_NAME
        return cls(path) if path.exists() else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, params: Sequence[SqlValue] | Mapping[str, SqlValue] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def _query(self, sql: str, params: Sequence[SqlValue] = ()) -> list[dict[str, Any]]:
        """Rows as {column: value}. SQLite's values are untyped here, at the boundary: each public
        method below gives its query's columns their types (JobRow or a TypedDict)."""
        with self._lock:
            cur = self._db.execute(sql, params)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    # --- runs
    def start_run(self, command: str, args: Mapping[str, object], forced: bool) -> int:
        cur = self._exec(
            "insert into runs (command, started_at, args_json, forced) values (?, ?, ?, ?)",
            (command, utc_now(), json.dumps(args, sort_keys=True, default=str), int(forced)),
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, totals: dict[str, int]) -> None:
        cols = ("jobs_total", "jobs_done", "jobs_skipped", "jobs_failed", "jobs_permanent",
                "pages", "rows", "bytes", "requests", "http_429", "exit_code")
        sets = ", ".join(f"{c} = :{c}" for c in cols)
        params: dict[str, SqlValue] = {c: int(totals.get(c, 0)) for c in cols}
        params.update(run_id=run_id, finished_at=utc_now())
        self._exec(f"update runs set finished_at = :finished_at, {sets} where run_id = :run_id", params)

    def runs(self) -> list[RunRow]:
        return cast(list[RunRow], self._query("select * from runs order by run_id"))

    # --- jobs
    def get(self, event_id: str, kind: str) -> JobRow | None:
        rows = self._query(
            "select event_id, kind, symbol, trading_date, window_start_ns, window_end_ns, status, path, pages, rows,"
            " bytes, sha256, attempts, last_error from jobs where event_id = ? and kind = ?",
            (event_id, kind),
        )
        return JobRow(**rows[0]) if rows else None

    def upsert_pending(self, event_id: str, kind: str, symbol: str, trading_date: str, start_ns: int,
                       end_ns: int) -> None:
        """Register a job (or reset one that is not done) so it starts cleanly from page 1."""
        self._exec(
            "insert into jobs (event_id, kind, symbol, trading_date, window_start_ns, window_end_ns, status)"
            " values (?, ?, ?, ?, ?, ?, 'pending')"
            " on conflict (event_id, kind) do update set symbol = excluded.symbol,"
            " trading_date = excluded.trading_date, window_start_ns = excluded.window_start_ns,"
            " window_end_ns = excluded.window_end_ns, status = 'pending', pages = 0, rows = 0, bytes = 0,"
            " sha256 = null, path = null, finished_at = null, seconds = null",
            (event_id, kind, symbol, trading_date, start_ns, end_ns),
        )

    def mark_running(self, event_id: str, kind: str, run_id: int) -> None:
        self._exec(
            "update jobs set status = 'running', attempts = attempts + 1, started_at = ?, run_id = ?,"
            " pages = 0, rows = 0, bytes = 0, sha256 = null where event_id = ? and kind = ?",
            (utc_now(), run_id, event_id, kind),
        )

    def mark_done(self, event_id: str, kind: str, *, path: str, pages: int, rows: int, nbytes: int,
                  sha256: str, seconds: float) -> None:
        self._exec(
            "update jobs set status = 'done', path = ?, pages = ?, rows = ?, bytes = ?, sha256 = ?,"
            " last_error = null, http_status = null, finished_at = ?, seconds = ? where event_id = ? and kind = ?",
            (path, pages, rows, nbytes, sha256, utc_now(), seconds, event_id, kind),
        )

    def mark_error(self, event_id: str, kind: str, *, status: str, error: str, http_status: int | None,
                   pages: int, seconds: float) -> None:
        assert status in ("failed", "permanent", "pending")
        self._exec(
            "update jobs set status = ?, last_error = ?, http_status = ?, pages = ?, finished_at = ?, seconds = ?"
            " where event_id = ? and kind = ?",
            (status, error, http_status, pages, utc_now(), seconds, event_id, kind),
        )

    def counts(self) -> list[StatusCount]:
        return cast(list[StatusCount], self._query(
            "select kind, status, count(*) as jobs, sum(rows) as rows, sum(bytes) as bytes, sum(pages) as pages"
            " from jobs group by kind, status order by kind, status"
        ))

    def errors(self, limit: int = 10) -> list[JobError]:
        return cast(list[JobError], self._query(
            "select event_id, kind, symbol, status, attempts, http_status, last_error from jobs"
            " where last_error is not null and status != 'done' order by finished_at desc limit ?",
            (limit,),
        ))

    def iter_jobs(self) -> Iterator[JobRow]:
        for row in self._query(
            "select event_id, kind, symbol, trading_date, window_start_ns, window_end_ns, status, path, pages, rows,"
            " bytes, sha256, attempts, last_error from jobs order by event_id, kind"
        ):
            yield JobRow(**row)

    def job_stats(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], JobStat]:
        wanted = set(keys)
        out: dict[tuple[str, str], JobStat] = {}
        rows = cast(list[JobStat], self._query("select event_id, kind, status, rows, bytes, pages, seconds from jobs"))
        for row in rows:
            key = (row["event_id"], row["kind"])
            if key in wanted:
                out[key] = row
        return out
