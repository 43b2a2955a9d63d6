"""Pages of rows, rendered vectorised and cached.

`block` renders the rows of many session seconds at once: the same values and the same JSON text as
`data.second_rows` (the readable per-row definition, kept as the reference), built with numpy and
Arrow string kernels instead of a Python loop per row.

Exactly the same, not merely alike:
- the random draws are Python's own Mersenne Twister stream of each second (`random.Random(seed)`),
  taken in one `getrandbits` call per second and turned into `random()` doubles bit for bit
  ((a >> 5) * 2**26 + (b >> 6)) / 2**53);
- arithmetic runs in the same order in IEEE doubles, so numpy gives the same results as Python;
  only `log`/`exp` may differ from the C library's in the last bit, so every value whose
  truncation to an integer sits within 1e-9 of an integer is recomputed with `math`;
- a price is printed as `repr(round(x, 2 or 4))` is: the decimal digits of an integer count of
  ticks (x is that count times the tick, far from a rounding boundary).
`python/tests/test_emulator.py` compares the two over thousands of seconds of busy and quiet tickers.

`page` answers one request (the rows of a window after a keyset position, in either order) as the
JSON text of its rows, the same bytes as joining `data.scan`'s rows with ","; it renders only the
seconds the page needs and keeps recent pages in a byte-bounded LRU cache. The rows depend only on
ticker and time (never on an emulator's seed or faults), so every emulator of the process shares
the cache and a page is rendered once however often it is asked for.
"""

from __future__ import annotations

import _random
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from hashlib import blake2b
from typing import TYPE_CHECKING, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from . import data

if TYPE_CHECKING:
    from pyarrow.lib import StringType

    Strings = pa.Array[pa.Scalar[StringType]]

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BOOL = NDArray[np.bool_]

_TRADE_EDGES = np.array(data._TRADE_EX_EDGES)
_TRADE_IDS = np.array(data._TRADE_EX_IDS, dtype=np.int64)
_QUOTE_EDGES = np.array(data._QUOTE_EX_EDGES)
_QUOTE_IDS = np.array(data._QUOTE_EX_IDS, dtype=np.int64)
_DRAWS_PER_ROW = 10  # quotes always; trades 9, or 10 when the exchange is 4 (a TRF id follows)


@dataclass(frozen=True)
class Block:
    """Rows of consecutive non-empty seconds, in (sip_timestamp, sequence_number) order."""

    sips: I64
    seqs: I64
    text: Strings  # one JSON object per row as data.second_rows writes it, each followed by ","


def _doubles(words: NDArray[np.uint32]) -> F64:
    """Pairs of Mersenne Twister outputs -> random.random() values, bit for bit."""
    pairs = words.reshape(-1, 2)
    a = (pairs[:, 0] >> 5).astype(np.float64)
    b = (pairs[:, 1] >> 6).astype(np.float64)
    out: F64 = (a * 67108864.0 + b) / 9007199254740992.0
    return out


def _trunc_log_scaled(u: F64, scale: float | F64) -> I64:
    """int(-math.log(1.0 - u) * scale), elementwise, exactly as Python computes it."""
    x = 1.0 - u
    v = -np.log(x) * scale
    out: I64 = v.astype(np.int64)
    near = np.abs(v - np.rint(v)) < 1e-9 * np.maximum(1.0, np.abs(v))
    for i in np.flatnonzero(near):
        s = float(scale[i]) if isinstance(scale, np.ndarray) else scale
        out[i] = int(-math.log(float(x[i])) * s)
    return out


def _trunc_exp_scaled(u: F64, scale: float) -> I64:
    """int(math.exp(u * scale)), elementwise, exactly as Python computes it."""
    v = np.exp(u * scale)
    out: I64 = v.astype(np.int64)
    near = np.abs(v - np.rint(v)) < 1e-9 * np.maximum(1.0, np.abs(v))
    for i in np.flatnonzero(near):
        out[i] = int(math.exp(float(u[i]) * scale))
    return out


def _decimal(ticks: I64, digits: int) -> Strings:
    """ticks / 10**digits printed as repr(round(x, digits)) prints it, minus a trailing '.0'."""
    unit = 10**digits
    whole = pc.cast(pa.array(ticks // unit), pa.string())
    frac = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(pa.array(ticks % unit), pa.string()), width=digits, padding="0"),
                         characters="0")
    joined = pc.binary_join_element_wise(whole, frac, ".")
    out: Strings = pc.if_else(pc.equal(frac, pa.scalar("")), whole, joined)
    return out


def _text(values: I64) -> Strings:
    out: Strings = pc.cast(pa.array(values), pa.string())
    return out


def _opt(mask: BOOL, text: str | Strings) -> Strings:
    """`text` where mask, else the empty string."""
    out: Strings = pc.if_else(pa.array(mask), text, "")
    return out


def _join(*parts: str | Strings) -> Strings:
    """Concatenate strings row by row; a str is the same literal in every row."""
    # (the stubs want every argument of one kind; the kernel broadcasts literals)
    out: Strings = pc.binary_join_element_wise(*cast("tuple[Strings, ...]", (*parts, "")))
    return out


def block(kind: str, ticker: str, day: date, seconds: I64) -> Block:
    """Every row of the given session seconds (ascending, each with at least one row) of one day."""
    ordinal = day.toordinal()
    prefix = data.day_prefix(kind, ticker, ordinal)
    starts = np.array([prefix[s] for s in seconds.tolist()], dtype=np.int64)
    counts = np.array([prefix[s + 1] for s in seconds.tolist()], dtype=np.int64) - starts
    total = int(counts.sum())
    if total == 0:
        return Block(np.zeros(0, np.int64), np.zeros(0, np.int64), pa.array([], pa.string()))
    # --- the draws: each second's own stream, 2n - 1 for the offsets and ties, then the rows'
    ndraws = (2 * counts - 1) + _DRAWS_PER_ROW * counts
    rng = _random.Random()  # random.Random's C base: the same seed() and stream, less call overhead
    chunks = []
    head = f"rows|{kind}|{ticker}|{ordinal}|"  # data._seed("rows", kind, ticker, ordinal, s), inlined
    for s, k in zip(seconds.tolist(), ndraws.tolist(), strict=True):
        rng.seed(int.from_bytes(blake2b(f"{head}{s}".encode(), digest_size=8).digest(), "big"))
        chunks.append(rng.getrandbits(64 * k).to_bytes(8 * k, "little"))
    draws = _doubles(np.frombuffer(b"".join(chunks), dtype="<u4"))
    first_draw = np.concatenate(([0], np.cumsum(ndraws)[:-1]))  # where each second's draws begin
    sec_of_row = np.repeat(np.arange(len(seconds)), counts)
    row_start = np.concatenate(([0], np.cumsum(counts)[:-1]))  # each second's first row
    local = np.arange(total) - row_start[sec_of_row]  # the row's index inside its second
    # --- offsets in the second: n draws, sorted, then n - 1 tie draws (a tie copies the previous offset)
    raw = (draws[first_draw[sec_of_row] + local] * data.NS).astype(np.int64)
    offsets = np.sort(raw + (sec_of_row.astype(np.int64) << 30)) & ((1 << 30) - 1)
    tie_at = first_draw[sec_of_row] + counts[sec_of_row] + local - 1
    tie = (local > 0) & (draws[np.maximum(tie_at, 0)] < data._TIE_P[kind])
    keep = np.maximum.accumulate(np.where(tie, 0, np.arange(total)))
    offsets = offsets[keep]
    # --- where each row's own draws begin
    base = first_draw[sec_of_row] + 2 * counts[sec_of_row] - 1
    if kind == "quotes":
        at = base + _DRAWS_PER_ROW * local
    else:  # 9 draws per trade, 10 after an exchange-4 trade: step through the seconds' rows in lockstep
        at = np.empty(total, dtype=np.int64)
        pos = first_draw + 2 * counts - 1
        for i in range(int(counts.max())):
            live = counts > i
            rows = row_start[live] + i
            at[rows] = pos[live]
            pos[live] += 9 + (_TRADE_IDS[np.searchsorted(_TRADE_EDGES, draws[pos[live] + 3], side="left")] == 4)
    d = [draws[at + j] for j in range(_DRAWS_PER_ROW - (kind == "trades"))]

    prof = data.ticker_profile(ticker)
    path = data.price_path(ticker, ordinal)
    tick = path.tick
    digits = 2 if tick >= 0.01 else 4
    sec = seconds[sec_of_row]
    sips = data.session_start_ns(day) + sec * data.NS + offsets
    gidx = starts[sec_of_row] + local
    seqs = 1 + 3 * gidx + (d[0] * 3).astype(np.int64)
    participant = sips - 5_000 - (d[1] * 2_000_000).astype(np.int64)
    levels = np.frombuffer(path.levels, dtype=np.float64)
    minute, sec_in_minute = sec // 60, sec % 60
    lv0, lv1 = levels[minute], levels[minute + 1]
    mid = lv0 + (lv1 - lv0) * ((sec_in_minute + offsets / data.NS) / 60.0)
    extended = (sec < data.RTH_START_S) | (sec >= data.RTH_END_S)
    width = (0.4 + 2.5 * (1.0 - prof.heat)) * np.where(extended, 3.0, 1.0)
    spread = 1 + _trunc_log_scaled(d[2], width)
    bid_ticks = np.maximum(1, np.floor(mid / tick - spread / 2.0).astype(np.int64))
    tape = f"{prof.tape}"
    if kind == "trades":
        exchange = _TRADE_IDS[np.searchsorted(_TRADE_EDGES, d[3], side="left")]
        price_ticks = bid_ticks + np.where(d[4] < 0.5, spread, 0)
        u = d[5]
        size = np.where(u < 0.45, 1 + (d[6] * 99).astype(np.int64),
                        np.where(u < 0.85, 100 * (1 + (d[6] * 5).astype(np.int64)),
                                 100 * _trunc_exp_scaled(d[6], 6.0)))
        iso, odd = d[7] < 0.15, size < 100
        lead = pc.utf8_rtrim(_join(_opt(extended, "12,"), _opt(iso, "14,"), _opt(odd, "37,")), characters=",")
        has_conds = iso | extended | odd
        correction = d[8] < 0.002
        four = exchange == 4
        trf_id = np.array(data.TRF_IDS)[(draws[np.where(four, at + 9, 0)] * 3).astype(np.int64)]
        trf_ts = participant + (sips - participant) // 2
        text = _join(
            "{",
            _opt(has_conds, _join('"conditions":[', lead, "],")),
            _opt(correction, '"correction":1,'),
            '"exchange":', _text(exchange), ',"id":"', _text(gidx + 1), '","participant_timestamp":',
            _text(participant), ',"price":', _decimal(price_ticks, digits), ',"sequence_number":', _text(seqs),
            ',"sip_timestamp":', _text(sips), ',"size":', _text(size), ',"tape":', tape,
            _opt(four, _join(',"trf_id":', _text(trf_id), ',"trf_timestamp":', _text(trf_ts))),
            "},",
        )
    else:
        bid_ex = _QUOTE_IDS[np.searchsorted(_QUOTE_EDGES, d[3], side="left")]
        ask_ex = _QUOTE_IDS[np.searchsorted(_QUOTE_EDGES, d[4], side="left")]
        adf = d[5] < 0.002
        bid_ex = np.where(adf, 4, bid_ex)
        bid_size = 1 + _trunc_log_scaled(d[6], 8.0)
        ask_size = 1 + _trunc_log_scaled(d[7], 8.0)
        trf_ts = participant + (sips - participant) // 2
        text = _join(
            '{"ask_exchange":', _text(ask_ex), ',"ask_price":', _decimal(bid_ticks + spread, digits),
            ',"ask_size":', _text(ask_size), ',"bid_exchange":', _text(bid_ex),
            ',"bid_price":', _decimal(bid_ticks, digits), ',"bid_size":', _text(bid_size),
            _opt(d[8] < 0.03, ',"conditions":[1]'), _opt(d[9] < 0.005, ',"indicators":[604]'),
            ',"participant_timestamp":', _text(participant), ',"sequence_number":', _text(seqs),
            ',"sip_timestamp":', _text(sips), ',"tape":', tape,
            _opt(adf, _join(',"trf_timestamp":', _text(trf_ts))),
            "},",
        )
    return Block(sips, seqs, text)


@dataclass(frozen=True)
class Page:
    rows: bytes  # the rows' JSON objects joined by ","
    count: int
    last: tuple[int, int] | None  # (sip_timestamp, sequence_number) of the last row
    more: bool  # whether rows remain after this page


Key = tuple[str, str, int, int, bool, tuple[int, int] | None, int]


class PageCache:
    """A byte-bounded LRU of rendered pages, shared by every emulator of the process (thread-safe)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Key, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Key) -> Page | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: Key, page: Page) -> None:
        size = len(page.rows) + 200
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._pages:
                return
            self._pages[key] = page
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._pages.popitem(last=False)
                self._bytes -= len(old.rows) + 200

    def resize(self, max_bytes: int) -> None:
        with self._lock:
            self.max_bytes = max_bytes
            while self._pages and self._bytes > max_bytes:
                _, old = self._pages.popitem(last=False)
                self._bytes -= len(old.rows) + 200


CACHE = PageCache(512 * 2**20)


def _joined(text: Strings) -> bytes:
    """The rows of `text` (each ending with ",") as one bytes object, without the final comma."""
    if len(text) == 0:
        return b""
    offsets = np.frombuffer(memoryview(_buffer(text, 1)), dtype=np.int32)
    start, end = int(offsets[text.offset]), int(offsets[text.offset + len(text)])
    return memoryview(_buffer(text, 2))[start: end - 1].tobytes()


def _buffer(arr: Strings, index: int) -> pa.Buffer:
    buf = arr.buffers()[index]
    assert buf is not None
    return buf


def page(kind: str, ticker: str, lo: int, hi: int, descending: bool, after: tuple[int, int] | None,
         limit: int) -> Page:
    """Rows with lo <= sip_timestamp < hi strictly after the keyset position `after` in the requested
    order, at most `limit` of them: the same rows as data.scan, from the cache when it has them."""
    lo, hi = max(lo, data.data_start_ns()), min(hi, data.data_end_ns())
    if after is not None:
        if descending:
            hi = min(hi, after[0] + 1)
        else:
            lo = max(lo, after[0])
    if lo >= hi or not data.ticker_profile(ticker).has_data:
        return Page(b"", 0, None, False)
    key: Key = (kind, ticker, lo, hi, descending, after, limit)
    found = CACHE.get(key)
    if found is None:
        found = _render_page(kind, ticker, lo, hi, descending, after, limit)
        CACHE.put(key, found)
    return found


def _render_page(kind: str, ticker: str, lo: int, hi: int, descending: bool, after: tuple[int, int] | None,
                 limit: int) -> Page:
    days = data.trading_days(data.et_date_of(lo), data.et_date_of(hi - 1))
    parts: list[Strings] = []
    count = 0
    last: tuple[int, int] | None = None
    span = data.SESSION_SECONDS * data.NS
    for day in reversed(days) if descending else days:
        need = limit + 1 - count  # one more than fits tells whether rows remain
        prefix = np.frombuffer(data.day_prefix(kind, ticker, day.toordinal()), dtype=np.uint32).astype(np.int64)
        open_ns = data.session_start_ns(day)
        a, b = min(max(lo - open_ns, 0), span), min(max(hi - open_ns, 0), span)
        if a >= b:
            continue
        s_first, s_last = a // data.NS, (b - 1) // data.NS
        # Only the first and last seconds can hold rows outside the bounds, so these seconds hold enough.
        if descending:
            want = need + int(prefix[s_last + 1] - prefix[s_last])
            s_from = max(s_first, int(np.searchsorted(prefix, prefix[s_last + 1] - want, side="right")) - 1)
            s_to = s_last
        else:
            want = need + int(prefix[s_first + 1] - prefix[s_first])
            s_from = s_first
            s_to = min(s_last, int(np.searchsorted(prefix, prefix[s_first] + want, side="left")) - 1)
        seconds = np.flatnonzero(prefix[s_from + 1: s_to + 2] > prefix[s_from: s_to + 1]).astype(np.int64) + s_from
        if len(seconds) == 0:
            continue
        rows = block(kind, ticker, day, seconds)
        keep = (rows.sips >= lo) & (rows.sips < hi)
        if after is not None:
            a_sip, a_seq = after
            later = (rows.sips > a_sip) | ((rows.sips == a_sip) & (rows.seqs > a_seq))
            earlier = (rows.sips < a_sip) | ((rows.sips == a_sip) & (rows.seqs < a_seq))
            keep &= earlier if descending else later
        index = np.flatnonzero(keep)
        index = index[::-1][:need] if descending else index[:need]
        if len(index) == 0:
            continue
        taken = index[: min(len(index), limit - count)]
        if len(taken):
            parts.append(rows.text.take(taken) if descending else
                         rows.text.slice(int(taken[0]), len(taken)))
            last = (int(rows.sips[taken[-1]]), int(rows.seqs[taken[-1]]))
            count += len(taken)
        if len(index) > len(taken):
            return Page(b",".join(_joined(p) for p in parts), count, last, True)
    return Page(b",".join(_joined(p) for p in parts), count, last, False)
