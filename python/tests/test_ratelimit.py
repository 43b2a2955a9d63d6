"""Request pacing: explicit token bucket and adaptive AIMD, measured against the emulator's limit."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from tick_warehouse import Ev, build_warehouse
from tickwindows.download.ratelimit import AdaptiveRate, FixedRate, parse_rate
from tickwindows.download.runner import DownloadSettings, download
from tickwindows.emulator.server import Emulator, EmulatorConfig
from tickwindows.errors import BadInput


@pytest.mark.parametrize("text, per_s", [("5/min", 5 / 60), ("100/s", 100.0), ("2/h", 2 / 3600), ("20", 20.0),
                                         ("300 / minute", 5.0), ("1.5/sec", 1.5)])
def test_rates_parse(text: str, per_s: float) -> None:
    assert parse_rate(text) == pytest.approx(per_s)


@pytest.mark.parametrize("text", ["fast", "5/fortnight", "0/s", "-1/s", ""])
def test_bad_rates_name_the_option(text: str) -> None:
    with pytest.raises(BadInput, match="--rate-limit"):
        parse_rate(text)


def test_fixed_rate_spaces_requests_evenly() -> None:
    bucket = FixedRate(50.0)
    start = time.monotonic()
    for _ in range(26):
        bucket.acquire()
    assert 0.48 <= time.monotonic() - start < 0.7  # 25 gaps of 20 ms


def test_adaptive_rate_backs_off_on_429_and_recovers() -> None:
    limiter = AdaptiveRate()
    start = limiter.rate
    limiter.on_rate_limited()
    assert limiter.rate == pytest.approx(0.9 * start)
    time.sleep(0.6)
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


def test_adaptive_rate_keeps_at_least_90_percent_of_the_servers_limit_in_use(tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(rate_limit=20, rate_limit_window_s=1.0), port=0) as emu:
        seconds, totals = _run(_many_pages(tmp_path), tmp_path / "ticks", emu.url, None)
        useful = emu.stats["by_status"][200]
    rate = useful / seconds
    print(f"\nadaptive: {useful} useful requests in {seconds:.1f}s = {rate:.1f}/s against a limit of 20/s "
          f"({totals['http_429']} 429s)")
    assert rate >= 0.9 * 20
    assert totals["http_429"] <= 0.25 * useful  # it found the limit instead of hammering it


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
