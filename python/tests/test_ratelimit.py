"""Request pacing: explicit token bucket and adaptive AIMD, measured against the emulator's limit."""

from __future__ import annotations

import heapq
import itertools
import math
import time
from datetime import datetime
from pathlib import Path

import pytest

from tick_warehouse import Ev, build_warehouse
from tickwindows.download import ratelimit
from tickwindows.download.ratelimit import AdaptiveRate, FixedRate, parse_rate
from tickwindows.download.runner import DownloadSettings, download
from tickwindows.emulator import server as emulator_module
from tickwindows.emulator.server import Emulator, EmulatorConfig, TokenBucket
from tickwindows.errors import BadInput


@pytest.mark.parametrize("text, per_s", [("5/min", 5 / 60), ("100/s", 100.0), ("2/h", 2 / 3600), ("20", 20.0),
                                         ("300 / minute", 5.0), ("1.5/sec", 1.5)])
def test_rates_parse(text: str, per_s: float) -> None:
    assert parse_rate(text) == pytest.approx(per_s)


@pytest.mark.parametrize("text", ["fast", "5/fortnight", "0/s", "-1/s", ""])
def test_bad_rates_name_the_option(text: str) -> None:
    with pytest.raises(BadInput, match="--rate-limit"):
        parse_rate(text)


class VirtualClock:
    """Stands in for the `time` module of tickwindows.ratelimit (and of the emulator's token bucket):
    time passes only when the code sleeps, so what is measured is the pacing itself, never the load
    of the machine. `sleep` adds to `slept` (callers decide when the clock moves) unless `advance`."""

    def __init__(self, advance: bool = True) -> None:
        self.now = 1_000.0
        self.advance = advance
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.advance:
            self.now += max(seconds, 0.0)
        else:
            self.slept += max(seconds, 0.0)


def test_fixed_rate_spaces_requests_evenly(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = VirtualClock()
    monkeypatch.setattr(ratelimit, "time", clock)
    bucket = FixedRate(50.0)
    clock.sleep(5.0)  # idle time earns no burst (burst 1)
    sent = []
    for _ in range(26):
        bucket.acquire()
        sent.append(clock.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert gaps == pytest.approx([0.02] * 25)  # 25 gaps of exactly 20 ms


def test_fixed_rate_is_never_faster_on_the_real_clock() -> None:
    bucket = FixedRate(50.0)
    time.sleep(0.2)  # idle time earns no burst
    start = time.monotonic()
    for _ in range(26):
        bucket.acquire()
    # 25 gaps of 20 ms at least. No upper bound: a loaded machine can only make it slower.
    assert time.monotonic() - start >= 0.48


def test_adaptive_rate_backs_off_on_429_and_recovers(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = VirtualClock()
    monkeypatch.setattr(ratelimit, "time", clock)
    limiter = AdaptiveRate()
    start = limiter.rate
    limiter.on_rate_limited()
    assert limiter.rate == pytest.approx(0.9 * start)
    clock.sleep(0.6)
    limiter.on_rate_limited()  # refused again with no success in between: a real limit, halve
    assert limiter.rate == pytest.approx(0.45 * start)
    limiter.on_success()
    for _ in range(40):  # keep the pacer busy so the rate may grow
        limiter.acquire()
    assert limiter.rate > 0.45 * start


def _many_pages(tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    # ~190 pages of 6 rows: ten seconds of requests at 20/s
    build_warehouse(db, [Ev("AAPL", "RTH", datetime(2024, 3, 5, 15, 0), 120)])
    return db


def _run(db: Path, out: Path, url: str, rate_limit: float | None) -> tuple[float, dict]:
    s = DownloadSettings(db_path=db, out_dir=out, base_url=url, api_key="k-rate-test", page_limit=6, quiet=True,
                         workers=4, rate_limit=rate_limit, retry_base_s=0.05, retry_cap_s=1.0)
    started = time.monotonic()
    report = download(s)
    assert report.complete
    return time.monotonic() - started, report.totals


def test_adaptive_rate_finds_the_servers_limit_without_hammering_it(tmp_path: Path) -> None:
    """The real download against the emulator's 20/s limit. Asserted on counts only: how many requests
    per wall second a loaded 2-core machine manages is not the limiter's doing (the share of the limit
    in use is proven on a virtual clock below)."""
    with Emulator(EmulatorConfig(rate_limit=20, rate_limit_window_s=1.0), port=0) as emu:
        seconds, totals = _run(_many_pages(tmp_path), tmp_path / "ticks", emu.url, None)
        useful = emu.stats["by_status"][200]
    print(f"\nadaptive: {useful} useful requests in {seconds:.1f}s = {useful / seconds:.1f}/s against a limit of "
          f"20/s ({totals['http_429']} 429s)")
    assert useful == totals["requests"] - totals["http_429"] > 0
    assert totals["http_429"] <= 0.25 * useful  # it found the limit instead of hammering it


def _simulate_adaptive(workers: int, latency_s: float, useful_wanted: int, limit: float,
                       monkeypatch: pytest.MonkeyPatch) -> tuple[float, int, int]:
    """Discrete-event run of the real AdaptiveRate against the emulator's real TokenBucket on a virtual
    clock, shaped like Downloader: each worker acquires a slot (the pacer reserves it, then sleeps),
    sends, gets its answer `latency_s` later and, after a 429, waits the Retry-After the emulator
    gives (plus the client's 0.05 s of jitter). Returns (useful requests per virtual second, useful, 429s)."""
    clock = VirtualClock(advance=False)
    monkeypatch.setattr(ratelimit, "time", clock)
    monkeypatch.setattr(emulator_module, "time", clock)
    limiter = AdaptiveRate()
    server = TokenBucket(limit, 1.0)
    events = [(clock.now, w, "ready", 0.0) for w in range(workers)]
    heapq.heapify(events)
    useful = refused = 0
    first = last = None
    while useful < useful_wanted:
        at, worker, what, retry_after = heapq.heappop(events)
        clock.now = at
        if what == "ready":
            clock.slept = 0.0
            limiter.acquire()
            heapq.heappush(events, (at + clock.slept, worker, "send", 0.0))
        elif what == "send":
            wait = server.take()
            if wait == 0.0:
                useful += 1
                first = at if first is None else first
                last = at
                heapq.heappush(events, (at + latency_s, worker, "ok", 0.0))
            else:
                refused += 1
                heapq.heappush(events, (at + latency_s, worker, "429", max(1, math.ceil(wait)) + 0.05))
        else:
            limiter.on_success() if what == "ok" else limiter.on_rate_limited()
            heapq.heappush(events, (at + retry_after, worker, "ready", 0.0))
    assert first is not None and last is not None
    return (useful - 1) / (last - first), useful, refused


@pytest.mark.parametrize("workers, latency_s", [(1, 0.005), (2, 0.02), (4, 0.005), (4, 0.05)])
def test_adaptive_rate_keeps_at_least_90_percent_of_the_servers_limit_in_use(
    workers: int, latency_s: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate, useful, refused = _simulate_adaptive(workers, latency_s, 400, 20.0, monkeypatch)
    assert rate >= 0.9 * 20, (rate, useful, refused)
    assert refused <= 0.25 * useful  # it found the limit instead of hammering it


def test_an_explicit_rate_limit_is_never_exceeded(tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(rate_limit=12, rate_limit_window_s=1.0), port=0) as emu:
        db = _many_pages(tmp_path)
        s = DownloadSettings(db_path=db, out_dir=tmp_path / "ticks", base_url=emu.url, api_key="k-rate-test",
                             page_limit=40, quiet=True, workers=4, rate_limit=parse_rate("10/s"))
        started = time.monotonic()
        report = download(s)
        seconds = time.monotonic() - started
        stats = emu.stats
    assert report.complete and 429 not in stats["by_status"]
    assert stats["requests"] / seconds <= 10.5
