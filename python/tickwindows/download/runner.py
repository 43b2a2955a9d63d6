"""`tickwindows download`: fetch trades and quotes for every manifest window, resumably.

One job per (event, kind). Workers (threads, a requests.Session each) take jobs from a queue,
pace every request through the shared rate limiter, retry transient failures with exponential
backoff and full jitter (or the server's Retry-After), and stream pages into an atomic Parquet
file. The checkpoint store records each job, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import fcntl
import os
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pyarrow as pa
import requests

from ..batches import release
from ..checksum import file_sha256
from ..errors import (
    ApiError,
    BadInput,
    PaginationError,
    PermanentError,
    RateLimited,
    RetryableError,
)
from ..gate import require_go
from ..settings import KINDS
from ..warehouse import Window, connect_read_only, read_windows
from .checkpoint import CHECKPOINT_NAME, CheckpointStore, JobError, JobRow
from .pages import decode_page
from .polygon import (
    PAGE_LIMIT,
    ConnectionFailed,
    Redactor,
    check_base_url,
    fetch_page,
    first_page_url,
    safe_next_url,
)
from .ratelimit import AdaptiveRate, FixedRate
from .tickfiles import SCHEMAS, AtomicParquet, remove_stale_temps, tick_path

KEY_ENV_VARS = ("POLYGON_API_KEY", "MASSIVE_API_KEY")


def api_key_from_env() -> str:
    for name in KEY_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    raise BadInput("no API key: set POLYGON_API_KEY (or MASSIVE_API_KEY) in the environment")


def parse_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    bad = [k for k in kinds if k not in KINDS]
    if not kinds or bad:
        raise BadInput(f"--kinds {text!r}: expected a comma-separated subset of {','.join(KINDS)}")
    return kinds


@dataclass(frozen=True)
class DownloadSettings:
    """Everything a run needs; built once by the CLI (or a test) and passed down."""

    db_path: Path
    out_dir: Path
    base_url: str
    api_key: str = field(repr=False)
    workers: int = 1
    limit: int | None = None
    force: bool = False
    rate_limit: float | None = None  # requests/s; None = adaptive
    kinds: tuple[str, ...] = KINDS
    max_pages: int = 10_000
    resume: bool = True
    quiet: bool = False
    page_limit: int = PAGE_LIMIT
    retry_budget_s: float = 600.0  # per request; free-tier limits are per minute
    retry_base_s: float = 0.5  # first backoff step (full jitter: a uniform wait in [0, base * 2**n])
    retry_cap_s: float = 60.0
    timeout_s: float = 60.0
    job_attempts: int = 2
    # The whole run stops when every request has failed (no answer, or 5xx) for this long.
    give_up_after_s: float = 120.0

    def __post_init__(self) -> None:
        check_base_url(self.base_url)
        if self.workers < 1 or self.workers > 64:
            raise BadInput(f"--workers {self.workers}: expected 1..64")
        if self.limit is not None and self.limit < 0:
            raise BadInput(f"--limit {self.limit}: expected >= 0")
        if self.max_pages < 1:
            raise BadInput(f"--max-pages {self.max_pages}: expected >= 1")
        if not 1 <= self.page_limit <= PAGE_LIMIT:
            raise BadInput(f"--page-limit {self.page_limit}: expected 1..{PAGE_LIMIT}")
        if not self.give_up_after_s > 0:
            raise BadInput(f"--give-up-after {self.give_up_after_s:g}: expected seconds > 0")

    def public_args(self) -> dict[str, object]:
        """The settings as recorded in the run log: never the key."""
        args = asdict(self)
        args.pop("api_key")
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in args.items()}


@dataclass(frozen=True)
class Job:
    window: Window
    kind: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.window.event_id, self.kind)


@dataclass
class Counters:
    """Live totals for the progress bar and the run log (updated under a lock)."""

    jobs_total: int = 0
    jobs_done: int = 0
    jobs_skipped: int = 0
    jobs_failed: int = 0
    jobs_permanent: int = 0
    pages: int = 0
    rows: int = 0
    bytes: int = 0
    requests: int = 0
    http_429: int = 0
    retries: int = 0
    # retries by cause (they add up to `retries`)
    retry_connection: int = 0  # refused, reset, timed out, body cut short
    retry_5xx: int = 0
    retry_429: int = 0
    retry_other_http: int = 0  # 408, 425
    retry_bad_page: int = 0  # malformed JSON, not OK, rows out of bounds or order, wrong types
    # seconds every request has been failing (no answer or 5xx); 0 while the server answers
    failing_s: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: int) -> None:
        with self.lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "lock"}


@dataclass
class DownloadReport:
    run_id: int
    totals: dict[str, int]
    seconds: float
    failures: list[JobError]
    jobs: list[Job]

    @property
    def complete(self) -> bool:
        return self.totals["jobs_done"] + self.totals["jobs_skipped"] == self.totals["jobs_total"]


class RunLock:
    """One download per output directory at a time (the checkpoint and temp sweep assume it)."""

    def __init__(self, out_dir: Path):
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / "_download.lock"
        self._fh = open(self.path, "a+")  # noqa: SIM115 - held open for the lock's lifetime; release() closes it
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.close()
            raise BadInput(f"--out {out_dir}: another tickwindows download is running there") from None

    def release(self) -> None:
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()


ProgressSink = Callable[[dict[str, int], str], None]  # (counter snapshot, limiter description)
_QUERY = re.compile(r"[?][^\s:]*")
STOP_GRACE_S = 10.0  # after a stop, how long to wait for requests in flight before leaving anyway


class ServerUnreachable(ApiError):
    """Every request failed (no answer, or 5xx) for --give-up-after seconds: the run stopped."""


def _retry_waits(base_s: float = 0.5, cap_s: float = 60.0) -> Generator[float | None, BaseException | None, None]:
    """Wait generator: the server's Retry-After when given, else full-jitter exponential.

    Primed with send(None); then each exception is sent in and the wait before the next try comes out.
    """
    exc = yield None
    attempt = 0
    while True:
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = retry_after + random.uniform(0, 0.1)
        else:
            wait = random.uniform(0, min(cap_s, base_s * 2**attempt))
        attempt += 1
        exc = yield wait


def retry_cause(exc: RetryableError) -> str:
    """The Counters field a retry of `exc` is counted in."""
    if isinstance(exc, ConnectionFailed):
        return "retry_connection"
    if isinstance(exc, RateLimited):
        return "retry_429"
    if exc.status is not None:
        return "retry_5xx" if exc.status >= 500 else "retry_other_http"
    return "retry_bad_page"


class Health:
    """Whether the server answers: the time since every request started failing (no answer or 5xx)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self.last_failure = ""

    def answered(self) -> None:
        with self._lock:
            self._failing_since = None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._failing_since is None:
                self._failing_since = time.monotonic()
            self.last_failure = str(exc)

    def failing_for(self) -> float:
        with self._lock:
            return 0.0 if self._failing_since is None else time.monotonic() - self._failing_since


class Downloader:
    """Runs a list of jobs with N workers against one API base URL."""

    def __init__(self, settings: DownloadSettings, store: CheckpointStore, run_id: int,
                 log: Callable[[str], None]):
        self.s = settings
        self.store = store
        self.run_id = run_id
        self.redact = Redactor(settings.api_key)
        self.limiter = FixedRate(settings.rate_limit) if settings.rate_limit else AdaptiveRate()
        self.counters = Counters()
        self.health = Health()
        self.stop = threading.Event()
        self.fatal: ApiError | None = None  # why the whole run stopped (the message is completed at the end)
        self._log = log

    def log(self, message: str) -> None:
        self._log(self.redact(message))

    def snapshot(self) -> dict[str, int]:
        totals = self.counters.snapshot()
        totals["failing_s"] = int(self.health.failing_for())
        return totals

    def stop_run(self, reason: ApiError) -> None:
        """Stop every worker now (a fatal condition); the first reason wins."""
        if self.fatal is None:
            self.fatal = reason
            self.log(f"stopping the run: {reason}")
        self.stop.set()

    def check_health(self) -> None:
        """Called by the run's main loop: give up once every request failed for --give-up-after seconds."""
        failing = self.health.failing_for()
        if failing >= self.s.give_up_after_s and not self.stop.is_set():
            last = _QUERY.sub("", self.redact(self.health.last_failure))  # the cursor says nothing to a human
            self.stop_run(ServerUnreachable(
                f"no answer from {self.s.base_url} for {failing:.0f} s: every request failed "
                f"(last: {last}); stopped after --give-up-after {self.s.give_up_after_s:g}"
            ))

    def _get_page(self, session: requests.Session, url: str, job: Job, first_page: bool,
                  last_ts: int | None) -> tuple[str | None, pa.Table, int | None]:
        """One page with retries: full-jitter backoff (or Retry-After) within --retry-budget seconds.

        Every wait is cut short when the run stops, so a stop takes effect at once.
        """
        started = time.monotonic()
        waits = _retry_waits(self.s.retry_base_s, self.s.retry_cap_s)
        next(waits)
        tries = 0
        while True:
            tries += 1
            try:
                return self._get_page_once(session, url, job, first_page, last_ts)
            except RetryableError as exc:
                elapsed = time.monotonic() - started
                if self.stop.is_set() or elapsed >= self.s.retry_budget_s:
                    raise
                wait = min(waits.send(exc) or 0.0, self.s.retry_budget_s - elapsed)
                self.counters.add(retries=1, **{retry_cause(exc): 1})
                self.log(f"retry {tries} in {wait:.2f}s: {exc}")
                if self.stop.wait(wait):
                    raise

    def _get_page_once(self, session: requests.Session, url: str, job: Job, first_page: bool,
                       last_ts: int | None) -> tuple[str | None, pa.Table, int | None]:
        self.limiter.acquire(self.stop)
        if self.stop.is_set():
            raise ApiError("run stopped")
        self.counters.add(requests=1)
        try:
            body = fetch_page(session, url, self.s.api_key, self.redact, timeout=self.s.timeout_s)
        except RateLimited:
            self.health.answered()
            self.counters.add(http_429=1)
            self.limiter.on_rate_limited()
            raise
        except (ConnectionFailed, RetryableError) as exc:
            if isinstance(exc, ConnectionFailed) or (exc.status or 0) >= 500:
                self.health.failed(exc)
            else:
                self.health.answered()
            raise
        except PermanentError:
            self.health.answered()
            raise
        self.health.answered()
        self.limiter.on_success()
        w = job.window
        page = decode_page(body, job.kind, w.start_ns, w.end_ns, last_ts, first_page=first_page, url=url,
                           redact=self.redact)
        next_url = None if page.next_url is None else safe_next_url(page.next_url, self.s.base_url)
        return next_url, page.table, page.last_ts

    def fetch_job(self, session: requests.Session, job: Job, final: Path) -> tuple[int, int, int, str]:
        """Stream every page of one window into `final`; returns (pages, rows, bytes, sha256)."""
        w = job.window
        url: str | None = first_page_url(self.s.base_url, job.kind, w.symbol, w.start_ns, w.end_ns, self.s.page_limit)
        seen = {url}
        pages = 0
        last_ts: int | None = None
        out = AtomicParquet(final, SCHEMAS[job.kind])
        try:
            while url is not None:
                if pages >= self.s.max_pages:
                    raise PaginationError(f"more than --max-pages {self.s.max_pages} pages; raise it", retryable=False)
                next_url, table, last_ts = self._get_page(session, url, job, pages == 0, last_ts)
                out.write(table)
                pages += 1
                self.counters.add(pages=1)
                url = next_url
                if url is None:
                    break
                if url in seen:
                    raise PaginationError(f"next_url repeats after page {pages}: {self.redact(url)}", retryable=True)
                seen.add(url)
            written = out.commit()
        except BaseException:
            out.abort()
            raise
        return pages, written.rows, written.bytes, written.sha256

    def run_job(self, session: requests.Session, job: Job) -> None:
        w = job.window
        final = tick_path(self.s.out_dir, job.kind, w.symbol, w.trading_date.isoformat(), w.event_id)
        for attempt in range(1, self.s.job_attempts + 1):
            self.store.mark_running(w.event_id, job.kind, self.run_id)
            started = time.monotonic()
            try:
                pages, rows, nbytes, sha = self.fetch_job(session, job, final)
            except PermanentError as exc:
                self._record(job, "permanent", exc, exc.status, started)
                if exc.key_refused:
                    self.stop_run(PermanentError(f"the API refused the key (HTTP {exc.status})", status=exc.status))
                return
            except (RetryableError, PaginationError) as exc:
                if self.stop.is_set():  # interrupted by a stop: not this job's fault, it simply waits
                    self._record(job, "pending", exc, getattr(exc, "status", None), started)
                    return
                again = isinstance(exc, PaginationError) and exc.retryable and attempt < self.s.job_attempts
                if again:
                    self.log(f"{job.kind} {w.event_id}: {exc}; restarting from page 1")
                    continue
                self._record(job, "failed", exc, getattr(exc, "status", None), started)
                return
            except ApiError as exc:  # the run stopped while this job waited for a request slot
                self._record(job, "failed" if not self.stop.is_set() else "pending", exc, None, started)
                return
            except OSError as exc:
                self._record(job, "failed", exc, None, started)
                return
            seconds = time.monotonic() - started
            self.store.mark_done(w.event_id, job.kind, path=str(final.relative_to(self.s.out_dir)), pages=pages,
                                 rows=rows, nbytes=nbytes, sha256=sha, seconds=seconds)
            self.counters.add(jobs_done=1, rows=rows, bytes=nbytes)
            return

    def _record(self, job: Job, status: str, exc: BaseException, http_status: int | None, started: float) -> None:
        message = self.redact(f"{type(exc).__name__}: {exc}")
        self.store.mark_error(job.window.event_id, job.kind, status=status, error=message, http_status=http_status,
                              pages=0, seconds=time.monotonic() - started)
        if status == "failed":
            self.counters.add(jobs_failed=1)
        elif status == "permanent":
            self.counters.add(jobs_permanent=1)
        self.log(f"{status}: {job.kind} {job.window.symbol} {job.window.event_id}: {message}")

    def worker(self, jobs: queue.Queue[Job]) -> None:
        with requests.Session() as session:
            session.trust_env = False  # no proxies or .netrc: the key goes only where --base-url says
            while not self.stop.is_set():
                try:
                    job = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    self.run_job(session, job)
                except Exception as exc:  # noqa: BLE001 - one broken job must not kill the worker silently
                    self._record(job, "failed", exc, None, time.monotonic())


def plan_jobs(settings: DownloadSettings, store: CheckpointStore, windows: list[Window]) -> tuple[list[Job], list[Job]]:
    """Split jobs into (to fetch, already done and verified); reset the rest to pending."""
    todo: list[Job] = []
    skipped: list[Job] = []
    for window in windows:
        for kind in settings.kinds:
            job = Job(window, kind)
            row = store.get(window.event_id, kind)
            if settings.resume and row is not None and row.status == "done" and _still_valid(settings, job, row):
                skipped.append(job)
                continue
            store.upsert_pending(window.event_id, kind, window.symbol, window.trading_date.isoformat(),
                                 window.start_ns, window.end_ns)
            todo.append(job)
    return todo, skipped


def _fatal_with_resume_hint(fatal: ApiError, settings: DownloadSettings, totals: dict[str, int]) -> ApiError:
    """The reason the run stopped, plus what is kept and how to resume."""
    kept = totals["jobs_done"] + totals["jobs_skipped"]
    fix = ("set POLYGON_API_KEY (or MASSIVE_API_KEY) to a key your plan accepts, then "
           if isinstance(fatal, PermanentError) else "when the server answers again, ")
    message = (f"{fatal}. {kept} of {totals['jobs_total']} jobs are done and kept in {settings.out_dir}; "
               f"no half-written file was kept. To resume, {fix}run the same command again "
               f"(`tickwindows status --out {settings.out_dir}` shows the checkpoint store).")
    if isinstance(fatal, PermanentError):
        return PermanentError(message, status=fatal.status)
    return ServerUnreachable(message)


def _still_valid(settings: DownloadSettings, job: Job, row: JobRow) -> bool:
    w = job.window
    if (row.window_start_ns, row.window_end_ns, row.symbol) != (w.start_ns, w.end_ns, w.symbol):
        return False
    path = tick_path(settings.out_dir, job.kind, w.symbol, w.trading_date.isoformat(), w.event_id)
    try:
        return path.stat().st_size == row.bytes and file_sha256(path) == row.sha256
    except OSError:
        return False


def run_jobs(settings: DownloadSettings, windows: list[Window], *, command: str, forced: bool,
             progress: ProgressSink | None = None) -> DownloadReport:
    """Download `windows` (both kinds) into settings.out_dir; resumable, one run at a time per out dir."""
    lock = RunLock(settings.out_dir)
    store = CheckpointStore(settings.out_dir / CHECKPOINT_NAME)
    log_path = settings.out_dir / "_download.log"
    log_lock = threading.Lock()

    def write_log(line: str) -> None:
        with log_lock, open(log_path, "a", encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")

    lingering = False
    try:
        run_id = store.start_run(command, settings.public_args(), forced)
        if forced:
            write_log(f"run {run_id}: GATE SKIPPED with --force")
        remove_stale_temps(settings.out_dir, settings.kinds)
        todo, skipped = plan_jobs(settings, store, windows)
        dl = Downloader(settings, store, run_id, write_log)
        stats = store.job_stats([j.key for j in skipped])
        dl.counters.add(jobs_total=len(todo) + len(skipped), jobs_skipped=len(skipped),
                        rows=sum(int(stats[j.key]["rows"] or 0) for j in skipped),
                        bytes=sum(int(stats[j.key]["bytes"] or 0) for j in skipped))
        jobs: queue.Queue[Job] = queue.Queue()
        for job in todo:
            jobs.put(job)
        started = time.monotonic()
        threads = [threading.Thread(target=dl.worker, args=(jobs,), name=f"download-{i}", daemon=True)
                   for i in range(min(settings.workers, max(1, len(todo))))]
        for t in threads:
            t.start()
        stopped_at: float | None = None
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.2)
                dl.check_health()
                if progress is not None:
                    progress(dl.snapshot(), dl.limiter.describe())
                if dl.stop.is_set():
                    stopped_at = stopped_at or time.monotonic()
                    if time.monotonic() - stopped_at > STOP_GRACE_S:
                        break  # a request still in flight (e.g. a hung server): leave it, nothing of it is kept
        except KeyboardInterrupt:
            dl.stop.set()
            raise
        seconds = time.monotonic() - started
        if progress is not None:
            progress(dl.snapshot(), dl.limiter.describe())
        lingering = any(t.is_alive() for t in threads)
        totals = dl.counters.snapshot()
        report = DownloadReport(run_id, totals, seconds, store.errors(limit=20), todo + skipped)
        totals["exit_code"] = 0 if report.complete else (dl.fatal.exit_code if dl.fatal else 1)
        store.finish_run(run_id, totals)
        if dl.fatal is not None:
            raise _fatal_with_resume_hint(dl.fatal, settings, totals)
        return report
    finally:
        if not lingering:  # a thread still in a request may yet write: the process exit closes both
            store.close()
            lock.release()


def download(settings: DownloadSettings, *, progress: ProgressSink | None = None,
             on_forced: Callable[[], None] | None = None) -> DownloadReport:
    """The `download` command: gate check (unless --force), release of the manifest's new events
    as the next batch (what is downloaded stays pinned), then every manifest window."""
    con = connect_read_only(settings.db_path)
    try:
        if settings.force:
            if on_forced is not None:
                on_forced()
        else:
            require_go(con, settings.db_path)
    finally:
        con.close()
    release(settings.db_path, force=settings.force)
    con = connect_read_only(settings.db_path)
    try:
        windows = read_windows(con, settings.db_path, settings.limit)
    finally:
        con.close()
    return run_jobs(settings, windows, command="download", forced=settings.force, progress=progress)
