"""Rows per session second of a (kind, ticker, day): `data.day_prefix`, computed vectorised and lazily.

`data.day_prefix` (the readable definition, kept as the reference) draws one random stream per
(kind, ticker, day) and walks the 57,600 session seconds in order: a second whose rate `lam` is
below 30 takes a Poisson count by Knuth's method (multiply draws until the product falls to
exp(-lam): k + 1 draws for k rows), a busier one a rounded normal (2 draws). Every second's count
depends on how many draws the seconds before it took, so the walk is sequential; done in Python
it costs ~20 ms a table. Here it gives the same counts:

- the stream is taken in bulk (`getrandbits`, turned into `random()` doubles bit for bit);
- Knuth's method is read in log space: with R the running sum of -log(u), a second starting at
  draw b ends at the first draw q > b with R[q] - R[b] >= lam. Busy runs (normal draws) are
  plain array arithmetic. Quiet runs (lam < 0.4, most seconds without rows and one draw) look
  only at the draws that could start a second with rows (-log(u) < lam: a quarter of them at
  most); the rest walk R in a short Python loop, one step per second (the chain is sequential:
  each second starts where the one before ended);
- log space and numpy's log/exp/cos can differ from Python's products and libm in the last bits,
  so every decision that lands within 1e-7 of its threshold (and every normal count within 1e-9 of
  an integer) is settled again in plain Python, which then takes over that run: exact, not close.
Tables are extended only as far as a page needs (a window late in the day still needs the whole
morning, for sequence numbers), and kept in a byte-bounded LRU.
"""

from __future__ import annotations

import _random
import math
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict

import numpy as np
from numpy.typing import NDArray

from . import data

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

NORMAL_FROM = 30.0  # data.day_prefix: Knuth below this rate, a rounded normal from it on
QUIET_BELOW = 0.4  # Knuth runs below this rate visit only the draws that could give rows
MARGIN = 1e-7  # log-space decisions closer than this to their threshold are settled in Python
STEP = 256  # seconds added at least per extension (a page's neighbours usually follow)

_INTENSITY: F64 | None = None


def intensity() -> F64:
    """data._intensity() as a numpy array (the same doubles)."""
    global _INTENSITY  # a pure function of the second; computed once
    if _INTENSITY is None:
        _INTENSITY = np.frombuffer(data._intensity(), dtype=np.float64)
    return _INTENSITY


def doubles(words: NDArray[np.uint32]) -> F64:
    """Pairs of Mersenne Twister outputs -> random.random() values, bit for bit."""
    pairs = words.reshape(-1, 2)
    a = (pairs[:, 0] >> 5).astype(np.float64)
    b = (pairs[:, 1] >> 6).astype(np.float64)
    out: F64 = (a * 67108864.0 + b) / 9007199254740992.0
    return out


class DayCounts:
    """The count prefix of one (kind, ticker, day), computed up to `done` seconds and extended on demand."""

    def __init__(self, kind: str, ticker: str, ordinal: int):
        prof = data.ticker_profile(ticker)
        per_s = prof.trades_per_s if kind == "trades" else prof.quotes_per_s
        day_rnd = _random.Random(data._seed("day", ticker, ordinal)).random
        day_factor = min(3.0, max(0.3, math.exp(0.35 * data._gauss(day_rnd))))
        self.scale = per_s * day_factor
        # the reference's random.Random stream, from numpy's Mersenne Twister in the same state:
        # Generator.random() computes random()'s doubles the same way (two words, 53 bits)
        state = _random.Random(data._seed("counts", kind, ticker, ordinal)).getstate()
        bits = np.random.MT19937()
        bits.state = {"bit_generator": "MT19937",
                      "state": {"key": np.array(state[:624], dtype=np.uint32), "pos": state[624]}}
        self._rng = np.random.Generator(bits)
        self._draws: F64 = np.zeros(0)  # generated, not yet consumed from self._pos on
        self._pos = 0
        self.prefix: I64 = np.zeros(data.SESSION_SECONDS + 1, dtype=np.int64)  # valid up to [done]
        self.done = 0
        self.lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return int(self.prefix.nbytes + self._draws.nbytes) + 200

    def upto(self, second: int) -> I64:
        """The prefix, valid at least up to prefix[second] (rows before session second `second`)."""
        with self.lock:
            if second > self.done:
                target = min(data.SESSION_SECONDS, max(second, self.done + STEP))
                counts = self._counts(self.done, target)
                np.cumsum(counts, out=self.prefix[self.done + 1: target + 1])
                self.prefix[self.done + 1: target + 1] += self.prefix[self.done]
                self.done = target
            return self.prefix

    # ---------------------------------------------------------------- the stream

    def _ensure(self, n: int) -> F64:
        """At least n unconsumed draws (more are generated as needed); returns them from the first."""
        have = len(self._draws) - self._pos
        if have < n:
            extra = n - have + 4096
            self._draws = np.concatenate((self._draws[self._pos:], self._rng.random(extra)))
            self._pos = 0
        return self._draws[self._pos:]

    # ---------------------------------------------------------------- counts of seconds [a, b)

    def _counts(self, a: int, b: int) -> I64:
        lam = np.minimum(data.MAX_RATE_PER_S, self.scale * intensity()[a:b])
        out = np.empty(b - a, dtype=np.int64)
        normal = lam >= NORMAL_FROM
        quiet = lam < QUIET_BELOW
        kind_of = np.where(normal, 2, np.where(quiet, 0, 1))
        cuts = np.flatnonzero(np.diff(kind_of)) + 1
        for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), b - a], strict=True):
            run = int(kind_of[lo])
            if run == 2:
                out[lo:hi] = self._normal(lam[lo:hi])
            elif run == 0:
                out[lo:hi] = self._knuth_quiet(lam[lo:hi])
            else:
                out[lo:hi] = self._knuth_walk(lam[lo:hi])
        return out

    def _normal(self, lam: F64) -> I64:
        """k = max(0, int(lam + z * sqrt(lam) + 0.5)) with z from 2 draws (Box-Muller), as data.day_prefix."""
        m = len(lam)
        u = self._ensure(2 * m)[: 2 * m]
        u1, u2 = u[0::2], u[1::2]
        u1 = np.where(u1 == 0.0, 1e-300, u1)
        z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
        x = lam + z * np.sqrt(lam) + 0.5
        k: I64 = np.maximum(0, x.astype(np.int64))
        near = np.abs(x - np.rint(x)) < 1e-9 * np.maximum(1.0, np.abs(x))
        for i in np.flatnonzero(near).tolist():  # libm may differ from numpy in the last bit: ask libm
            zi = math.sqrt(-2.0 * math.log(float(u1[i]))) * math.cos(2.0 * math.pi * float(u2[i]))
            li = float(lam[i])
            k[i] = max(0, int(li + zi * math.sqrt(li) + 0.5))
        self._pos += 2 * m
        return k

    def _knuth_exact(self, lam: F64) -> I64:
        """Knuth's method one second at a time in Python, exactly as data.day_prefix (the fallback)."""
        out = np.empty(len(lam), dtype=np.int64)
        exp = math.exp
        u: list[float] = self._ensure(2 * len(lam) + 256).tolist()
        j = 0
        for i, x in enumerate(lam.tolist()):
            limit, j0 = exp(-x), j
            while True:
                try:
                    k, p = 0, u[j]
                    j += 1
                    while p > limit:
                        k += 1
                        p *= u[j]
                        j += 1
                    break
                except IndexError:  # more draws, and this second again
                    j = j0
                    u = self._ensure(len(u) + 4096).tolist()
            out[i] = k
        self._pos += j
        return out

    def _log_sums(self, need: int) -> tuple[F64, F64]:
        """(-log u of the next `need`+ draws, their running sum from 0)."""
        e = -np.log(self._ensure(need))
        rsum = np.empty(len(e) + 1)
        rsum[0] = 0.0
        np.cumsum(e, out=rsum[1:])
        return e, rsum

    def _knuth_walk(self, lam: F64) -> I64:
        """Knuth seconds in log space, one Python step per second, checked afterwards."""
        total = float(lam.sum())
        need = int(len(lam) + total + 8.0 * math.sqrt(total + 1.0) + 256)
        while True:
            _, rsum = self._log_sums(need)
            ends = _walk(rsum, lam)
            if ends is not None:
                break
            need *= 2
        starts = np.concatenate(([0], ends[:-1]))
        over = rsum[ends] - rsum[starts] - lam
        under = rsum[ends - 1] - rsum[starts] - lam
        if not (np.all(over >= MARGIN) and np.all((under <= -MARGIN) | (ends - 1 == starts))):
            return self._knuth_exact(lam)
        self._pos += int(ends[-1])
        out: I64 = ends - starts - 1
        return out

    def _knuth_quiet(self, lam: F64) -> I64:
        """Quiet Knuth seconds (mostly one draw and no rows): visit only the draws that could give a
        second rows.

        A second starting at draw q has rows iff -log(u_q) < its lam; between such draws every second
        takes exactly one draw. So only draws with -log(u) < max(lam) (+ MARGIN) need a look, one
        Python step each, and everything else moves one draw per second.
        """
        m = len(lam)
        total = float(lam.sum())
        need = int(m + 1.2 * total + 8.0 * math.sqrt(total + 1.0) + 256)
        try:
            while (found := _quiet_walk(*self._log_sums(need), lam)) is None:
                need *= 2
        except _Unclear:
            return self._knuth_exact(lam)
        rows, consumed = found
        self._pos += consumed
        return rows


def _quiet_walk(e: F64, rsum: F64, lam: F64) -> tuple[I64, int] | None:
    """(rows per second, draws consumed) of quiet Knuth seconds, or None if the draws at hand run
    out; raises _Unclear if a decision is within MARGIN of its threshold."""
    m, n = len(lam), len(e)
    # Draw q starts second q - (row draws before it): at most q, at least q - (n - m). The largest lam
    # in that range bounds the one it meets; a draw above the bound starting a second leaves it empty.
    reach = max(1, n - m)
    top = _window_max(lam, reach)
    cand = np.flatnonzero(e < top[np.minimum(np.arange(n), m - 1)] + MARGIN)
    lam_l = array("d", lam.tobytes())
    r = array("d", rsum.tobytes())
    margin = MARGIN
    seconds: list[int] = []
    rows: list[int] = []
    b = d = 0  # draws before b are settled; d row draws so far, so draw q starts second q - d
    for q, eq in zip(cand.tolist(), e[cand].tolist(), strict=True):
        if q < b:
            continue  # a row of the second before
        j = q - d
        if j >= m:
            break
        x = lam_l[j]
        gap = eq - x
        if gap >= margin:  # no rows after all: one draw, like the draws in between
            continue
        if gap > -margin:
            raise _Unclear
        t = r[q] + x
        end = q + 2
        while end <= n and r[end] < t:
            end += 1
        if end > n:
            return None
        if r[end] - t < margin or t - r[end - 1] < margin:
            raise _Unclear
        seconds.append(j)
        rows.append(end - q - 1)
        d += end - q - 1
        b = end
    consumed = m + d  # one draw per second and its rows
    if consumed > n or (seconds and b > consumed):
        return None
    out = np.zeros(m, dtype=np.int64)
    out[seconds] = rows
    return out, consumed


def _window_max(values: F64, width: int) -> F64:
    """out[i] = max(values[max(0, i - width): i + 1]) (in blocks of `width`, a window spans two)."""
    m = len(values)
    pad = (-m) % width
    blocks = np.concatenate((values, np.full(pad, -np.inf))).reshape(-1, width)
    ahead = np.maximum.accumulate(blocks, axis=1).ravel()[:m]  # max from the block start to i
    behind = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()[:m]  # max from i to block end
    out = np.maximum.accumulate(values)  # windows that start at 0
    lo = np.arange(m) - width
    ok = lo >= 0
    out[ok] = np.maximum(ahead[ok], behind[lo[ok]])  # the window's part in each of its two blocks
    return out


class _Unclear(Exception):
    """A log-space answer too close to a threshold to trust."""


def _walk(rsum: F64, lam: F64) -> I64 | None:
    """End draw (exclusive) of each second: the first q > b with rsum[q] >= rsum[b] + lam, from b = 0;
    None if the draws at hand run out."""
    n = len(rsum)
    r = array("d", rsum.tobytes())
    r.append(math.inf)  # the sentinel stops every scan
    ends: list[int] = []
    push = ends.append
    b = 0
    for x in array("d", lam.tobytes()):
        t = r[b] + x
        if x < 4.0:  # a few draws: step through them
            b += 1
            while r[b] < t:
                b += 1
        else:  # many: bisect a window, then the rest if it was too short
            hi = b + 24 + int(x + x)
            q = bisect_left(r, t, b + 1, hi)
            b = q if q < hi else bisect_left(r, t, hi)
        push(b)
    if b >= n:
        return None
    return np.array(ends, dtype=np.int64)


class CountCache:
    """A byte-bounded LRU of DayCounts, shared by every emulator of the process (thread-safe)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._tables: OrderedDict[tuple[str, str, int], DayCounts] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, ticker: str, ordinal: int) -> DayCounts:
        key = (kind, ticker, ordinal)
        with self._lock:
            found = self._tables.get(key)
            if found is not None:
                self._tables.move_to_end(key)
                return found
            found = DayCounts(kind, ticker, ordinal)
            self._tables[key] = found
            while len(self._tables) > 1 and sum(t.nbytes for t in self._tables.values()) > self.max_bytes:
                self._tables.popitem(last=False)
            return found


COUNTS = CountCache(128 * 2**20)


def prefix(kind: str, ticker: str, ordinal: int, second: int) -> I64:
    """data.day_prefix(kind, ticker, ordinal), valid at least up to [second]."""
    return COUNTS.get(kind, ticker, ordinal).upto(second)
