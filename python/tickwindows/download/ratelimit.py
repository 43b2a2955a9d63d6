"""Request pacing shared by all download workers.

`FixedRate` paces requests at an explicit `--rate-limit` (e.g. `5/min` for the free tier).
`AdaptiveRate` (the default) finds the server's limit by itself, AIMD style: it starts fast,
backs off multiplicatively on a 429 (once per reaction interval, harder when 429s keep coming
without a success in between) and climbs back additively while none come, so the sending rate
saws between ~90 % and ~100 % of the server's limit.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from ..errors import BadInput

_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}


def parse_rate(text: str) -> float:
    """`5/min`, `100/s`, `2/h`, `20` (per second) -> requests per second."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*([a-z]+?)s?)?\s*", text.lower())
    if not match or (match.group(2) and match.group(2) not in _UNITS):
        raise BadInput(f"--rate-limit {text!r}: expected N/s, N/min or N/h (e.g. 5/min, 100/s)")
    per = _UNITS[match.group(2) or "s"]
    rate = float(match.group(1)) / per
    if rate <= 0:
        raise BadInput(f"--rate-limit {text!r}: must be positive")
    return rate


class _Pacer:
    """Hands out send times spaced 1/rate apart; callers sleep outside the lock."""

    def __init__(self, rate: float, burst: float = 1.0):
        self._lock = threading.Lock()
        self._rate = rate
        self._burst = burst
        self._next = time.monotonic()
        self.waited = False

    def acquire(self, stop: threading.Event | None = None) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now - (self._burst - 1) / self._rate)
            self._next = slot + 1.0 / self._rate
            delay = slot - now
            if delay > 0:
                self.waited = True
        if delay > 0:
            if stop is not None:
                stop.wait(delay)
            else:
                time.sleep(delay)

    def set_rate(self, rate: float) -> None:
        with self._lock:
            now = time.monotonic()
            # Re-space the pending slot so a slowdown takes effect now, not after the old queue.
            if self._next > now:
                self._next = now + (self._next - now) * self._rate / rate
            self._rate = rate

    @property
    def rate(self) -> float:
        return self._rate


class FixedRate:
    """A token bucket at a user-given rate (burst 1: evenly spaced requests)."""

    def __init__(self, rate_per_s: float):
        self._pacer = _Pacer(rate_per_s)

    def acquire(self, stop: threading.Event | None = None) -> None:
        self._pacer.acquire(stop)

    def on_success(self) -> None:
        pass

    def on_rate_limited(self) -> None:
        pass

    @property
    def rate(self) -> float:
        return self._pacer.rate

    def describe(self) -> str:
        return f"fixed {self._pacer.rate:.3g} req/s"


@dataclass
class AimdParams:
    start_rate: float = 20.0
    min_rate: float = 1.0 / 60.0
    max_rate: float = 2000.0
    decrease: float = 0.9  # on a 429 after successes: the rate just proved a little too fast
    hard_decrease: float = 0.5  # on 429s with no success since the previous decrease
    growth: float = 2.0  # per second: slow start, and recovery back up to `recover_to` x ceiling
    recover_to: float = 0.85
    increase_share: float = 0.04  # of the ceiling, added per second when probing above recover_to
    react_s: float = 0.5  # at most one decrease per interval (in-flight 429s report the same event)


class AdaptiveRate:
    """AIMD pacing that converges on the server's limit and keeps >= 90 % of it in use.

    The ceiling is the rate at which a 429 followed successes (the limit's best estimate). Below
    `recover_to` x ceiling the rate grows multiplicatively (a 429 storm must not leave us crawling);
    above it, additively, so the rate saws between 0.9 x and ~1.0 x the ceiling.
    """

    def __init__(self, params: AimdParams | None = None):
        self.p = params or AimdParams()
        self._pacer = _Pacer(self.p.start_rate)
        self._lock = threading.Lock()
        self._ceiling: float | None = None
        self._last_change = time.monotonic()
        self._last_decrease = 0.0
        self._success_since_decrease = True
        self.decreases = 0

    def acquire(self, stop: threading.Event | None = None) -> None:
        self._maybe_increase()
        self._pacer.acquire(stop)

    def _maybe_increase(self) -> None:
        with self._lock:
            now = time.monotonic()
            dt = now - self._last_change
            if dt < 0.1:
                return
            self._last_change = now
            if not self._pacer.waited:
                return  # workers, not the pacer, are the bottleneck: don't inflate the rate
            self._pacer.waited = False
            rate = self._pacer.rate
            if self._ceiling is None or rate < self.p.recover_to * self._ceiling:
                rate *= self.p.growth**dt
                if self._ceiling is not None:
                    rate = min(rate, self.p.recover_to * self._ceiling)
            else:
                rate += self.p.increase_share * self._ceiling * dt
            self._pacer.set_rate(min(rate, self.p.max_rate))

    def on_success(self) -> None:
        self._success_since_decrease = True

    def on_rate_limited(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last_decrease < max(self.p.react_s, 1.0 / self._pacer.rate):
                return
            rate = self._pacer.rate
            if self._success_since_decrease:
                # One refusal lowers the estimate only a little: a 429 may be a blip, not the limit.
                self._ceiling = rate if self._ceiling is None else max(rate, self.p.decrease * self._ceiling)
                factor = self.p.decrease
            else:
                factor = self.p.hard_decrease
            self._success_since_decrease = False
            self._last_decrease = now
            self._last_change = now
            self.decreases += 1
            self._pacer.set_rate(max(self.p.min_rate, rate * factor))

    @property
    def rate(self) -> float:
        return self._pacer.rate

    def describe(self) -> str:
        return f"adaptive, now {self._pacer.rate:.3g} req/s"
