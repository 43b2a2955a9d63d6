"""Pages of rows, rendered vectorised and cached.

`block` computes the rows of many session seconds at once: the same values as `data.second_rows`
(the readable per-row definition, kept as the reference), with numpy instead of a Python loop per
row; `Block.json` writes their JSON, the same bytes as `data.second_rows`, with `text.Rows`.

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

Where rows start in the day (their ids and sequence numbers) comes from the per-second counts of
`counts` (`data.day_prefix`, vectorised and extended only as far as a page needs).

`page` answers one request (the rows of a window after a keyset position, in either order) as the
JSON text of its rows, the same bytes as joining `data.scan`'s rows with ","; it renders only the
seconds the page needs and keeps recent pages in a byte-bounded LRU cache. The rows depend only on
ticker and time (never on an emulator's seed or faults), so every emulator of the process shares
the cache and a page is rendered once however often it is asked for; the share of odd quotes (an
emulator's `odd_quotes`, data.odd_quote) is part of the key, as it changes the quotes.
"""

from __future__ import annotations

import _random
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from hashlib import blake2b

import numpy as np
from numpy.typing import NDArray

from . import counts, data, text

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

_TRADE_EDGES = np.array(data._TRADE_EX_EDGES)
_TRADE_IDS = np.array(data._TRADE_EX_IDS, dtype=np.int64)
_QUOTE_EDGES = np.array(data._QUOTE_EX_EDGES)
_QUOTE_IDS = np.array(data._QUOTE_EX_IDS, dtype=np.int64)
_TRF_IDS = np.array(data.TRF_IDS, dtype=np.int64)
_DRAWS_PER_ROW = 10  # quotes always; trades 9, or 10 when the exchange is 4 (a TRF id follows)


def _lead_strings() -> list[bytes]:
    """A trade's optional leading fields, by code: extended-hours 1, intermarket sweep 2, odd lot 4, correction 8."""
    out = []
    for code in range(16):
        conds = sorted([c for bit, c in ((1, 12), (2, 14), (4, 37)) if code & bit])
        lead = b'"conditions":[' + b",".join(b"%d" % c for c in conds) + b"]," if conds else b""
        out.append(lead + (b'"correction":1,' if code & 8 else b""))
    return out


def _fraction_strings(digits: int) -> list[bytes]:
    """The part of a price after its whole units, by ticks modulo 10**digits ("" or ".5", ".05", ...)."""
    return [b"" if f == 0 else b"." + (b"%0*d" % (digits, f)).rstrip(b"0") for f in range(10**digits)]


_LEAD = text.strings_table(_lead_strings())
_FLAGS = text.strings_table([b"", b',"conditions":[1]', b',"indicators":[604]',
                             b',"conditions":[1],"indicators":[604]'])
_FRACTIONS = {d: text.strings_table(_fraction_strings(d)) for d in (2, 4)}


def _doubles(words: NDArray[np.uint32]) -> F64:
    """Pairs of Mersenne Twister outputs -> random.random() values, bit for bit."""
    return counts.doubles(words)


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


@dataclass(frozen=True)
class Block:
    """Rows of consecutive non-empty seconds, in (sip_timestamp, sequence_number) order: their keys
    and the values their JSON needs, one array per field."""

    kind: str
    sips: I64
    seqs: I64
    cols: dict[str, I64]
    tape: int
    digits: int  # of a price: 2 (cents) or 4

    def json(self, index: I64) -> bytes:
        """The JSON objects of the rows at `index`, in that order, each followed by ","."""
        return self.rows(index).render()

    def rows(self, index: I64) -> text.Rows:
        """The rows at `index` (in that order) as text.Rows, ready to render: JSON objects each followed by ","."""
        n = len(index)
        c = {k: v[index] for k, v in self.cols.items()}
        sips, seqs = self.sips[index], self.seqs[index]
        rows = text.Rows(n)
        if n == 0:
            return rows
        tape = b',"tape":%d' % self.tape
        trf = text.Rows(n)
        if self.kind == "trades":
            rows.lit(b"{")
            rows.tab(c["lead"], *_LEAD, exact=True)
            rows.lit(b'"exchange":')
            rows.num(c["exchange"])
            rows.lit(b',"id":"')
            rows.num(c["id"])
            rows.lit(b'","participant_timestamp":')
            rows.fix(c["participant"], 19)
            rows.lit(b',"price":')
            self._price(rows, c["price"])
            rows.lit(b',"sequence_number":')
            rows.num(seqs)
            rows.lit(b',"sip_timestamp":')
            rows.fix(sips, 19)
            rows.lit(b',"size":')
            rows.num(c["size"])
            rows.lit(tape)
            trf.lit(b',"trf_id":')
            trf.fix(c["trf_id"], 3)
            trf.lit(b',"trf_timestamp":')
            trf.fix(c["trf_timestamp"], 19)
            rows.group(c["trf"].astype(bool), trf)
        else:
            rows.lit(b'{"ask_exchange":')
            rows.num(c["ask_exchange"])
            rows.lit(b',"ask_price":')
            self._price(rows, c["ask"])
            rows.lit(b',"ask_size":')
            rows.num(c["ask_size"])
            rows.lit(b',"bid_exchange":')
            rows.num(c["bid_exchange"])
            rows.lit(b',"bid_price":')
            self._price(rows, c["bid"])
            rows.lit(b',"bid_size":')
            rows.num(c["bid_size"])
            rows.tab(c["flags"], *_FLAGS)
            rows.lit(b',"participant_timestamp":')
            rows.fix(c["participant"], 19)
            rows.lit(b',"sequence_number":')
            rows.num(seqs)
            rows.lit(b',"sip_timestamp":')
            rows.fix(sips, 19)
            rows.lit(tape)
            trf.lit(b',"trf_timestamp":')
            trf.fix(c["trf_timestamp"], 19)
            rows.group(c["trf"].astype(bool), trf)
        rows.lit(b"},")
        return rows

    def _price(self, rows: text.Rows, ticks: I64) -> None:
        unit = 10**self.digits
        whole, frac = np.divmod(ticks, unit)
        rows.num(whole)
        rows.tab(frac, *_FRACTIONS[self.digits])


def _draws(kind: str, ticker: str, ordinal: int, seconds: list[int], ndraws: list[int]) -> F64:
    """random() doubles of each second's own stream (data._seed("rows", kind, ticker, ordinal, s)),
    ndraws[i] of second seconds[i], back to back."""
    rng = _random.Random()  # random.Random's C base: the same seed() and stream, less call overhead
    seed, bits = rng.seed, rng.getrandbits
    head = f"rows|{kind}|{ticker}|{ordinal}|".encode()
    big = int.from_bytes
    words = bytearray(8 * sum(ndraws))
    at = 0
    for s, k in zip(seconds, ndraws, strict=True):
        seed(big(blake2b(head + b"%d" % s, digest_size=8).digest(), "big"))
        end = at + 8 * k
        words[at:end] = bits(64 * k).to_bytes(8 * k, "little")
        at = end
    return _doubles(np.frombuffer(words, dtype="<u4"))


def _mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """data.mix64 elementwise (uint64 arithmetic wraps modulo 2**64, as data.mix64 masks)."""
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return out


def _odd_quotes(cols: dict[str, I64], ticker: str, sips: I64, seqs: I64, spread: I64, digits: int,
                odd: float) -> None:
    """data.odd_quote applied to the quote columns in place: crossed, locked, zero-size and wide quotes."""
    with np.errstate(over="ignore"):
        h = _mix64(_mix64(np.uint64(data.odd_key(ticker)) ^ sips.view(np.uint64)) ^ seqs.view(np.uint64))
    odd_rows = (h >> np.uint64(11)) < np.uint64(data.odd_threshold(odd))
    kind = (h & np.uint64(3)).astype(np.int64)
    side = ((h >> np.uint64(2)) & np.uint64(1)).astype(bool)
    bid, ask = cols["bid"], cols["ask"]
    crossed, locked = odd_rows & (kind == 0), odd_rows & (kind == 1)
    zero, wide = odd_rows & (kind == 2), odd_rows & (kind == 3)
    cols["bid"] = np.where(crossed, ask, bid)
    cols["ask"] = np.where(crossed, bid, np.where(locked, bid, np.where(wide, bid + spread + data.WIDE_DOLLARS
                                                                              * 10**digits, ask)))
    cols["bid_size"] = np.where(zero & side, 0, cols["bid_size"])
    cols["ask_size"] = np.where(zero & ~side, 0, cols["ask_size"])


def block(kind: str, ticker: str, day: date, seconds: I64, prefix: I64 | None = None, odd: float = 0.0) -> Block:
    """Every row of the given session seconds (ascending, each with at least one row) of one day.

    `prefix` is the day's count prefix (counts.prefix), valid past the last second; `odd` the share of odd
    quotes (data.odd_quote; trades ignore it)."""
    ordinal = day.toordinal()
    if prefix is None:
        prefix = counts.prefix(kind, ticker, ordinal, int(seconds[-1]) + 1 if len(seconds) else 0)
    starts = prefix[seconds]
    counts_ = prefix[seconds + 1] - starts
    total = int(counts_.sum())
    prof = data.ticker_profile(ticker)
    path = data.price_path(ticker, ordinal)
    tick = path.tick
    digits = 2 if tick >= 0.01 else 4
    if total == 0:
        empty = np.zeros(0, np.int64)
        return Block(kind, empty, empty, {}, prof.tape, digits)
    # --- the draws: each second's own stream, 2n - 1 for the offsets and ties, then the rows'
    ndraws = (2 * counts_ - 1) + _DRAWS_PER_ROW * counts_
    draws = _draws(kind, ticker, ordinal, seconds.tolist(), ndraws.tolist())
    first_draw = np.zeros(len(seconds), dtype=np.int64)
    np.cumsum(ndraws[:-1], out=first_draw[1:])  # where each second's draws begin
    sec_of_row = np.repeat(np.arange(len(seconds)), counts_)
    row_start = np.zeros(len(seconds), dtype=np.int64)
    np.cumsum(counts_[:-1], out=row_start[1:])  # each second's first row
    local = np.arange(total) - row_start[sec_of_row]  # the row's index inside its second
    # --- offsets in the second: n draws, sorted, then n - 1 tie draws (a tie copies the previous offset)
    fd_row = first_draw[sec_of_row]
    raw = (draws[fd_row + local] * data.NS).astype(np.int64)
    offsets = np.sort(raw + (sec_of_row.astype(np.int64) << 30)) & ((1 << 30) - 1)
    tie_at = fd_row + counts_[sec_of_row] + local - 1
    tie = (local > 0) & (draws[np.maximum(tie_at, 0)] < data._TIE_P[kind])
    keep = np.maximum.accumulate(np.where(tie, 0, np.arange(total)))
    offsets = offsets[keep]
    # --- where each row's own draws begin
    base = fd_row + 2 * counts_[sec_of_row] - 1
    if kind == "quotes":
        at = base + _DRAWS_PER_ROW * local
    else:  # 9 draws per trade, 10 after an exchange-4 trade: step through the seconds' rows in lockstep
        at = np.empty(total, dtype=np.int64)
        pos = first_draw + 2 * counts_ - 1
        for i in range(int(counts_.max())):
            live = counts_ > i
            rows = row_start[live] + i
            at[rows] = pos[live]
            pos[live] += 9 + (_TRADE_IDS[np.searchsorted(_TRADE_EDGES, draws[pos[live] + 3], side="left")] == 4)
    per_row = _DRAWS_PER_ROW - (kind == "trades")
    windows = np.lib.stride_tricks.sliding_window_view(draws, per_row)  # windows[k] = draws[k: k + per_row]
    own = windows[at]  # each row's draws, one gather
    d = [own[:, j] for j in range(per_row)]

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
    trf_ts = participant + (sips - participant) // 2
    cols: dict[str, I64]
    if kind == "trades":
        exchange = _TRADE_IDS[np.searchsorted(_TRADE_EDGES, d[3], side="left")]
        price_ticks = bid_ticks + np.where(d[4] < 0.5, spread, 0)
        u = d[5]
        size = np.where(u < 0.45, 1 + (d[6] * 99).astype(np.int64),
                        np.where(u < 0.85, 100 * (1 + (d[6] * 5).astype(np.int64)),
                                 100 * _trunc_exp_scaled(d[6], 6.0)))
        four = exchange == 4
        lead = (extended.astype(np.int64) + 2 * (d[7] < 0.15) + 4 * (size < 100) + 8 * (d[8] < 0.002))
        trf_id = _TRF_IDS[(draws[np.where(four, at + 9, 0)] * 3).astype(np.int64)]
        cols = {"lead": lead, "exchange": exchange, "id": gidx + 1, "participant": participant, "price": price_ticks,
                "size": size, "trf": four.astype(np.int64), "trf_id": trf_id, "trf_timestamp": trf_ts}
    else:
        bid_ex = _QUOTE_IDS[np.searchsorted(_QUOTE_EDGES, d[3], side="left")]
        ask_ex = _QUOTE_IDS[np.searchsorted(_QUOTE_EDGES, d[4], side="left")]
        adf = d[5] < 0.002
        cols = {"ask_exchange": ask_ex, "ask": bid_ticks + spread, "ask_size": 1 + _trunc_log_scaled(d[7], 8.0),
                "bid_exchange": np.where(adf, 4, bid_ex), "bid": bid_ticks,
                "bid_size": 1 + _trunc_log_scaled(d[6], 8.0),
                "flags": (d[8] < 0.03) + 2 * (d[9] < 0.005).astype(np.int64), "participant": participant,
                "trf": adf.astype(np.int64), "trf_timestamp": trf_ts}
        if odd > 0:
            _odd_quotes(cols, ticker, sips, seqs, spread, digits, odd)
    return Block(kind, sips, seqs, cols, prof.tape, digits)


@dataclass(frozen=True)
class Page:
    rows: bytes  # the rows' JSON objects joined by ","
    count: int
    last: tuple[int, int] | None  # (sip_timestamp, sequence_number) of the last row
    more: bool  # whether rows remain after this page


Key = tuple[str, str, int, int, bool, tuple[int, int] | None, int, float]


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


def page(kind: str, ticker: str, lo: int, hi: int, descending: bool, after: tuple[int, int] | None,
         limit: int, odd: float = 0.0) -> Page:
    """Rows with lo <= sip_timestamp < hi strictly after the keyset position `after` in the requested
    order, at most `limit` of them: the same rows as data.scan, from the cache when it has them.

    `odd`: the share of odd quotes (data.odd_quote). It is part of the cache key, so emulators of the
    process serving different shares never get each other's pages (trades ignore it, and share theirs)."""
    odd = float(odd) if kind == "quotes" else 0.0
    lo, hi = max(lo, data.data_start_ns()), min(hi, data.data_end_ns())
    if after is not None:
        if descending:
            hi = min(hi, after[0] + 1)
        else:
            lo = max(lo, after[0])
    if lo >= hi or not data.ticker_profile(ticker).has_data:
        return Page(b"", 0, None, False)
    key: Key = (kind, ticker, lo, hi, descending, after, limit, odd)
    found = CACHE.get(key)
    if found is None:
        found = _render_page(kind, ticker, lo, hi, descending, after, limit, odd)
        CACHE.put(key, found)
    return found


def _render_page(kind: str, ticker: str, lo: int, hi: int, descending: bool, after: tuple[int, int] | None,
                 limit: int, odd: float) -> Page:
    days = data.trading_days(data.et_date_of(lo), data.et_date_of(hi - 1))
    parts: list[text.Rows] = []
    count = 0
    last: tuple[int, int] | None = None
    span = data.SESSION_SECONDS * data.NS
    more = False
    for day in reversed(days) if descending else days:
        need = limit + 1 - count  # one more than fits tells whether rows remain
        open_ns = data.session_start_ns(day)
        a, b = min(max(lo - open_ns, 0), span), min(max(hi - open_ns, 0), span)
        if a >= b:
            continue
        s_first, s_last = a // data.NS, (b - 1) // data.NS
        prefix = counts.prefix(kind, ticker, day.toordinal(), s_last + 1)[: s_last + 2]
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
        rows = block(kind, ticker, day, seconds, prefix, odd)
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
            parts.append(rows.rows(taken))
            last = (int(rows.sips[taken[-1]]), int(rows.seqs[taken[-1]]))
            count += len(taken)
        if len(index) > len(taken):
            more = True
            break
    out = text.scratch(sum(p.size() for p in parts))
    end = 0
    for p in parts:
        end = p.render_into(out, end)
    return Page(out[: max(0, end - 1)].tobytes(), count, last, more)  # no comma after the last row
