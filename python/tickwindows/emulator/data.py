"""Deterministic synthetic US-equity trades and NBBO quotes, served by the emulator.

Every row is a pure function of (kind, ticker, time): no seed, no clock, no state. Rows arrive
per second of the ET session (04:00-20:00, weekdays) with a Poisson count whose intensity
depends on the ticker's hash-derived "heat" and the time of day (quiet pre-market, U-shaped
regular session with open/close spikes, fading after-hours). Each (ticker, day) keeps only
per-second count prefixes (for sequence numbers and exact row counts) and per-minute price
levels; the rows of a second are generated on demand from a hash of (kind, ticker, day,
second), so a page anywhere in the day costs only the seconds it covers.

Ticker conventions (documented so tests and demos can pick behaviour by name):
  HOT*    heat 1.0 (hundreds of quotes per second in the regular session)
  QUIET*  heat 0.0 (a few hundred rows in a 20-minute after-hours window)
  NODATA* no data at all (the API answers OK with empty results)
  anything not shaped like a US ticker (e.g. lower case) has no data either.

Odd quotes (opt-in, `odd` > 0: the emulator's --odd-quotes): a share `odd` of the quotes is made
crossed (bid and ask swapped), locked (ask = bid), one-sided (a zero bid or ask size) or more than $5 wide
(ask raised by $5), a quarter of them each. Which quotes, and how, is `odd_quote(ticker, sip, seq, odd)`: an
integer hash of ticker, sip_timestamp and sequence number, outside the rows' random stream, so every
other field stays as it is and the data still depend only on ticker and time (and the share). With
`odd` = 0 nothing changes.

Only `random.Random(int).random()` is used: its stream is stable across Python versions.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
import re
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ..settings import KINDS

Rng = Callable[[], float]  # random.Random(seed).random: uniform in [0, 1)

ET = ZoneInfo("America/New_York")
NS = 1_000_000_000
SESSION_SECONDS = 16 * 3600  # 04:00-20:00 ET
RTH_START_S = 19_800  # 09:30 ET, seconds after 04:00
RTH_END_S = 43_200  # 16:00 ET
DATA_START = date(2003, 9, 10)  # the API's trade/quote history begins around here
MAX_RATE_PER_S = 5_000.0
TICKER_RE = re.compile(r"[A-Z][A-Z0-9.]{0,9}")

# Exchange ids as the API numbers them (4 = FINRA TRF / ADF, 10 NYSE, 11 Arca, 12 Nasdaq, ...).
TRADE_EXCHANGES = ((4, 0.40), (12, 0.15), (11, 0.08), (19, 0.08), (8, 0.07), (10, 0.05),
                   (21, 0.05), (15, 0.04), (7, 0.02), (18, 0.02), (1, 0.02), (3, 0.02))
QUOTE_EXCHANGES = ((12, 0.30), (11, 0.15), (19, 0.15), (8, 0.12), (21, 0.10), (15, 0.06),
                   (10, 0.06), (7, 0.03), (18, 0.03))
TRF_IDS = (201, 202, 203)


def _seed(*parts: object) -> int:
    text = "|".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _unit(*parts: object) -> float:
    return _seed(*parts) / 2.0**64


M64 = (1 << 64) - 1
ODD_KINDS = ("crossed", "locked", "zero_bid_size", "zero_ask_size", "wide")  # what odd_quote returns
WIDE_DOLLARS = 5  # a wide quote's ask is raised by this much: more than $5 wide


def mix64(x: int) -> int:
    """splitmix64's finaliser on the low 64 bits of x (render.py computes the same in numpy uint64)."""
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def odd_threshold(odd: float) -> int:
    """A quote is odd when its hash's top 53 bits are below this (`odd` of 2**53)."""
    if not 0.0 <= odd <= 1.0:
        raise ValueError(f"the share of odd quotes must be between 0 and 1, got {odd}")
    return int(odd * 2**53)


@lru_cache(maxsize=8192)
def odd_key(ticker: str) -> int:
    return _seed("odd", ticker)


def odd_quote(ticker: str, sip: int, seq: int, odd: float) -> str | None:
    """Which odd kind (ODD_KINDS) the quote at (sip, seq) of `ticker` is made, or None: a pure function of
    ticker, time and sequence number (and the share), never of the rows' random stream."""
    h = mix64(mix64(odd_key(ticker) ^ sip) ^ seq)
    if (h >> 11) >= odd_threshold(odd):
        return None
    kind = h & 3
    if kind == 2:
        return "zero_bid_size" if (h >> 2) & 1 else "zero_ask_size"
    return ("crossed", "locked", "", "wide")[kind]


def _cumulative(weights: tuple[tuple[int, float], ...]) -> tuple[list[float], list[int]]:
    total, edges, ids = 0.0, [], []
    for ident, weight in weights:
        total += weight
        edges.append(total)
        ids.append(ident)
    return [e / total for e in edges], ids


_TRADE_EX_EDGES, _TRADE_EX_IDS = _cumulative(TRADE_EXCHANGES)
_QUOTE_EX_EDGES, _QUOTE_EX_IDS = _cumulative(QUOTE_EXCHANGES)


@dataclass(frozen=True)
class TickerProfile:
    """What a ticker looks like: activity level, price range and listing tape."""

    ticker: str
    has_data: bool
    heat: float  # 0 = quiet .. 1 = hot
    trades_per_s: float  # at midday in the regular session, before the day factor
    quotes_per_s: float
    base_price: float
    tape: int


@lru_cache(maxsize=8192)
def ticker_profile(ticker: str) -> TickerProfile:
    has_data = bool(TICKER_RE.fullmatch(ticker)) and not ticker.startswith("NODATA")
    if ticker.startswith("HOT"):
        heat = 1.0
    elif ticker.startswith("QUIET"):
        heat = 0.0
    else:
        heat = _unit("heat", ticker) ** 3  # most names quiet-ish, a few hot
    trades = 0.6 * 10 ** (2.0 * heat)
    quotes = trades * (3.0 + 2.0 * heat)
    # Hot names skew to cheap small caps; quiet ones spread over $2-$300.
    cheap = 0.5 + 9.5 * _unit("price", ticker)
    spread_out = 2.0 * 150 ** _unit("price", ticker)
    base_price = cheap if heat > 0.6 else spread_out
    tape_u = _unit("tape", ticker)
    tape = 3 if tape_u < 0.6 else (1 if tape_u < 0.85 else 2)
    return TickerProfile(ticker, has_data, heat, trades, quotes, base_price, tape)


def _build_intensity() -> array[float]:
    """Time-of-day multiplier per session second (1.0 ~ a quiet midday minute x 1.8)."""
    out = array("d", bytes(8 * SESSION_SECONDS))
    for s in range(SESSION_SECONDS):
        if s < RTH_START_S:  # pre-market: thin, building toward the open
            x = s / RTH_START_S
            v = 0.03 + 0.17 * x**3
        elif s < RTH_END_S:  # regular session: open and close spikes over a flat midday
            v = 0.55 + 3.0 * math.exp(-(s - RTH_START_S) / 600) + 1.5 * math.exp(-(RTH_END_S - s) / 900)
        else:  # after-hours: fading out
            v = 0.03 + 0.25 * math.exp(-(s - RTH_END_S) / 1800)
        out[s] = v
    return out


_INTENSITY: array[float] | None = None


def _intensity() -> array[float]:
    global _INTENSITY  # computed once; a pure function of the second, so sharing is safe
    if _INTENSITY is None:
        _INTENSITY = _build_intensity()
    return _INTENSITY


def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and day >= DATA_START


@lru_cache(maxsize=4096)
def session_start_ns(day: date) -> int:
    """Epoch ns of 04:00 America/New_York on `day`."""
    return int(datetime(day.year, day.month, day.day, 4, 0, tzinfo=ET).timestamp()) * NS


def et_date_of(ns: int) -> date:
    return datetime.fromtimestamp(ns // NS, ET).date()


@lru_cache(maxsize=4096)
def et_midnight_ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=ET).timestamp()) * NS


def _gauss(rnd: Rng) -> float:
    u1 = rnd() or 1e-300
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * rnd())


@dataclass(frozen=True)
class PricePath:
    levels: array[float]  # mid price at the start of each session minute (961 entries)
    tick: float


@lru_cache(maxsize=256)
def price_path(ticker: str, ordinal: int) -> PricePath:
    """A per-day random walk of minute mid prices, shared by trades and quotes."""
    prof = ticker_profile(ticker)
    rnd = random.Random(_seed("price", ticker, ordinal)).random
    level = prof.base_price * math.exp(0.08 * _gauss(rnd))
    sigma = 0.0015 + 0.004 * prof.heat
    levels = array("d", [level])
    for _ in range(SESSION_SECONDS // 60):
        level = max(0.05, level * math.exp(sigma * _gauss(rnd)))
        levels.append(level)
    return PricePath(levels, 0.01 if levels[0] >= 1.0 else 0.0001)


@lru_cache(maxsize=128)
def day_prefix(kind: str, ticker: str, ordinal: int) -> array[int]:
    """prefix[s] = rows of the day before session second s (len SESSION_SECONDS + 1)."""
    prof = ticker_profile(ticker)
    per_s = prof.trades_per_s if kind == "trades" else prof.quotes_per_s
    day_factor = min(3.0, max(0.3, math.exp(0.35 * _gauss(random.Random(_seed("day", ticker, ordinal)).random))))
    scale = per_s * day_factor
    rnd = random.Random(_seed("counts", kind, ticker, ordinal)).random
    exp, sqrt = math.exp, math.sqrt
    prefix = array("I", [0])
    total = 0
    for v in _intensity():
        lam = min(MAX_RATE_PER_S, scale * v)
        if lam < 30.0:  # Knuth: exact and cheap for small rates
            limit, k, p = exp(-lam), 0, rnd()
            while p > limit:
                k += 1
                p *= rnd()
        else:  # normal approximation, fine at these rates
            u1 = rnd() or 1e-300
            z = sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * rnd())
            k = max(0, int(lam + z * sqrt(lam) + 0.5))
        total += k
        prefix.append(total)
    return prefix


def day_book(kind: str, ticker: str, day: date) -> array[int] | None:
    """The day's count prefix, or None when the ticker has no data that day."""
    if not ticker_profile(ticker).has_data or not is_trading_day(day):
        return None
    return day_prefix(kind, ticker, day.toordinal())


def _offsets(rnd: Rng, n: int, tie_p: float) -> list[int]:
    """Sorted ns offsets inside one second; some rows share a timestamp (multi-print)."""
    offsets = sorted(int(rnd() * NS) for _ in range(n))
    for i in range(1, n):
        if rnd() < tie_p:
            offsets[i] = offsets[i - 1]
    return offsets


_TIE_P = {"trades": 0.03, "quotes": 0.01}


def second_timestamps(kind: str, ticker: str, day: date, s: int) -> list[int]:
    """sip_timestamps of the rows in session second `s` (same stream as `second_rows`)."""
    prefix = day_prefix(kind, ticker, day.toordinal())
    n = prefix[s + 1] - prefix[s]
    if n == 0:
        return []
    rnd = random.Random(_seed("rows", kind, ticker, day.toordinal(), s)).random
    base = session_start_ns(day) + s * NS
    return [base + o for o in _offsets(rnd, n, _TIE_P[kind])]


def _num(x: float, tick: float) -> str:
    text = repr(round(x, 2 if tick >= 0.01 else 4))
    return text[:-2] if text.endswith(".0") else text


def _pick(rnd: Rng, edges: list[float], ids: list[int]) -> int:
    return ids[bisect.bisect_left(edges, rnd())]


@lru_cache(maxsize=64)
def second_rows(kind: str, ticker: str, day: date, s: int, odd: float = 0.0
                ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[str, ...]]:
    """(sip_timestamps, sequence_numbers, JSON objects) of session second `s`, in key order.

    Keys are emitted alphabetically and optional fields are omitted, as the API does. `odd`: the share
    of odd quotes (module docstring); trades ignore it.
    """
    ordinal = day.toordinal()
    prefix = day_prefix(kind, ticker, ordinal)
    n = prefix[s + 1] - prefix[s]
    if n == 0:
        return (), (), ()
    prof = ticker_profile(ticker)
    path = price_path(ticker, ordinal)
    tick = path.tick
    rnd = random.Random(_seed("rows", kind, ticker, ordinal, s)).random
    base = session_start_ns(day) + s * NS
    offsets = _offsets(rnd, n, _TIE_P[kind])
    minute, sec_in_minute = divmod(s, 60)
    lv0, lv1 = path.levels[minute], path.levels[minute + 1]
    extended = not (RTH_START_S <= s < RTH_END_S)
    width = (0.4 + 2.5 * (1.0 - prof.heat)) * (3.0 if extended else 1.0)
    gidx0 = prefix[s]
    tape = prof.tape
    sips, seqs, rows = [], [], []
    for i, off in enumerate(offsets):
        sip = base + off
        seq = 1 + 3 * (gidx0 + i) + int(rnd() * 3)  # increasing, unique, not always sequential
        participant = sip - 5_000 - int(rnd() * 2_000_000)
        mid = lv0 + (lv1 - lv0) * ((sec_in_minute + off / NS) / 60.0)
        spread = 1 + int(-math.log(1.0 - rnd()) * width)
        bid = max(tick, math.floor(mid / tick - spread / 2.0) * tick)
        if kind == "trades":
            exchange = _pick(rnd, _TRADE_EX_EDGES, _TRADE_EX_IDS)
            price = bid + (spread * tick if rnd() < 0.5 else 0.0)
            u = rnd()
            if u < 0.45:
                size = 1 + int(rnd() * 99)
            elif u < 0.85:
                size = 100 * (1 + int(rnd() * 5))
            else:
                size = 100 * int(math.exp(rnd() * 6.0))
            conds = []
            if rnd() < 0.15:
                conds.append(14)  # intermarket sweep
            if extended:
                conds.append(12)  # form T: outside regular hours
            if size < 100:
                conds.append(37)  # odd lot
            parts = []
            if conds:
                parts.append('"conditions":[' + ",".join(map(str, sorted(conds))) + "]")
            if rnd() < 0.002:
                parts.append('"correction":1')
            parts.append(f'"exchange":{exchange},"id":"{gidx0 + i + 1}","participant_timestamp":{participant},'
                         f'"price":{_num(price, tick)},"sequence_number":{seq},"sip_timestamp":{sip},'
                         f'"size":{size},"tape":{tape}')
            if exchange == 4:
                trf_id = TRF_IDS[int(rnd() * 3)]
                parts.append(f'"trf_id":{trf_id},"trf_timestamp":{participant + (sip - participant) // 2}')
            rows.append("{" + ",".join(parts) + "}")
        else:
            ask = bid + spread * tick
            bid_ex = _pick(rnd, _QUOTE_EX_EDGES, _QUOTE_EX_IDS)
            ask_ex = _pick(rnd, _QUOTE_EX_EDGES, _QUOTE_EX_IDS)
            adf = rnd() < 0.002  # a FINRA ADF quote carries a TRF timestamp
            if adf:
                bid_ex = 4
            bid_size = 1 + int(-math.log(1.0 - rnd()) * 8)
            ask_size = 1 + int(-math.log(1.0 - rnd()) * 8)
            odd_kind = odd_quote(ticker, sip, seq, odd) if odd > 0 else None
            if odd_kind == "crossed":
                bid, ask = ask, bid
            elif odd_kind == "locked":
                ask = bid
            elif odd_kind == "zero_bid_size":
                bid_size = 0
            elif odd_kind == "zero_ask_size":
                ask_size = 0
            elif odd_kind == "wide":
                ask = bid + (spread + round(WIDE_DOLLARS / tick)) * tick
            text = (f'{{"ask_exchange":{ask_ex},"ask_price":{_num(ask, tick)},"ask_size":{ask_size},'
                    f'"bid_exchange":{bid_ex},"bid_price":{_num(bid, tick)},"bid_size":{bid_size}')
            if rnd() < 0.03:
                text += ',"conditions":[1]'
            if rnd() < 0.005:
                text += ',"indicators":[604]'
            text += (f',"participant_timestamp":{participant},"sequence_number":{seq},'
                     f'"sip_timestamp":{sip},"tape":{tape}')
            if adf:
                text += f',"trf_timestamp":{participant + (sip - participant) // 2}'
            rows.append(text + "}")
        sips.append(sip)
        seqs.append(seq)
    return tuple(sips), tuple(seqs), tuple(rows)


def scan(
    kind: str,
    ticker: str,
    lo: int,
    hi: int,
    descending: bool,
    after: tuple[int, int] | None,
    limit: int,
    odd: float = 0.0,
) -> tuple[list[str], tuple[int, int] | None, bool]:
    """One page of rows with lo <= sip_timestamp < hi, strictly after the keyset position `after`
    = (sip_timestamp, sequence_number) in the requested order (`odd`: the share of odd quotes).

    Returns (JSON rows, key of the last row, whether more rows remain).
    """
    lo, hi = max(lo, data_start_ns()), min(hi, data_end_ns())
    if after is not None:
        if descending:
            hi = min(hi, after[0] + 1)
        else:
            lo = max(lo, after[0])
    if lo >= hi or not ticker_profile(ticker).has_data:
        return [], None, False
    days = trading_days(et_date_of(lo), et_date_of(hi - 1))
    out: list[str] = []
    last: tuple[int, int] | None = None
    for day in reversed(days) if descending else days:
        prefix = day_prefix(kind, ticker, day.toordinal())
        open_ns = session_start_ns(day)
        a = min(max(lo - open_ns, 0), SESSION_SECONDS * NS)
        b = min(max(hi - open_ns, 0), SESSION_SECONDS * NS)
        if a >= b:
            continue
        s_first, s_last = a // NS, (b - 1) // NS
        s = s_last if descending else s_first
        while s_first <= s <= s_last:
            if descending:  # jump back to the latest second with rows
                s = bisect.bisect_left(prefix, prefix[s + 1], 0, s + 1) - 1
                if s < s_first:
                    break
            else:  # jump ahead to the next second with rows
                s = bisect.bisect_right(prefix, prefix[s], s) - 1
                if s > s_last:
                    break
            sips, seqs, rows = second_rows(kind, ticker, day, s, odd)
            order = range(len(rows) - 1, -1, -1) if descending else range(len(rows))
            for i in order:
                sip = sips[i]
                if not lo <= sip < hi:
                    continue
                key = (sip, seqs[i])
                if after is not None and (key >= after if descending else key <= after):
                    continue
                if len(out) == limit:
                    return out, last, True
                out.append(rows[i])
                last = key
            s += -1 if descending else 1
    return out, last, False


def trading_days(first: date, last: date) -> list[date]:
    """Weekdays with data between first and last, inclusive."""
    out, day = [], max(first, DATA_START)
    while day <= last:
        if is_trading_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out


def data_end_ns() -> int:
    """Nothing exists in the future: the API has no data after 'now'."""
    return int(datetime.now().timestamp()) * NS


def data_start_ns() -> int:
    return session_start_ns(DATA_START)


def expected_rows(kind: str, ticker: str, start_ns: int, end_ns: int) -> int:
    """How many rows the emulator serves for [start_ns, end_ns) (ground truth for tests)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    start_ns, end_ns = max(start_ns, data_start_ns()), min(end_ns, data_end_ns())
    if start_ns >= end_ns or not ticker_profile(ticker).has_data:
        return 0
    total = 0
    for day in trading_days(et_date_of(start_ns), et_date_of(end_ns - 1)):
        prefix = day_prefix(kind, ticker, day.toordinal())
        open_ns = session_start_ns(day)
        lo = min(max(start_ns - open_ns, 0), SESSION_SECONDS * NS)
        hi = min(max(end_ns - open_ns, 0), SESSION_SECONDS * NS)
        if lo >= hi:
            continue
        s_lo, s_hi = -(-lo // NS), hi // NS  # whole seconds inside [lo, hi)
        if s_lo <= s_hi:
            total += prefix[s_hi] - prefix[s_lo]
            edges = [(lo // NS, lo, s_lo * NS)] if lo % NS else []
            if hi % NS:
                edges.append((s_hi, s_hi * NS, hi))
        else:  # lo and hi inside the same second
            edges = [(lo // NS, lo, hi)]
        for s, a, b in edges:
            total += sum(1 for t in second_timestamps(kind, ticker, day, s) if open_ns + a <= t < open_ns + b)
    return total
