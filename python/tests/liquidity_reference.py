"""An independent computation of window_liquidity's measures: plain Python loops over the tick files
(pyarrow only reads them), formulated differently from the SQL models, for test_window_liquidity.

- Prevailing quote: binary search of the sorted valid-quote times (bisect_left: strictly before t),
  not an ASOF join; a nanosecond holding several valid quotes keeps the last of them (file order).
- Tick test: an explicit backward scan to the most recent earlier trade with another price,
  not a carried-forward tick direction.
- Unsigned trades (q = 0): skipped before any weighted sum, rather than filtered out of each.
- Time-weighted spread: the segment cut at every quote time inside it, each piece weighted by the
  quote prevailing at its left edge, not lead() clipped to the segment.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

NS_5M = 300 * 1_000_000_000
MEASURES = ("n_trades", "volume", "trades_unmatched", "trades_unsigned", "quoted_spread_tw", "effective_spread_dvw",
            "realized_spread_5m_dvw", "price_impact_5m_dvw", "order_imbalance")


@dataclass(frozen=True)
class WindowSpec:
    event_id: str
    session: str
    start_ns: int
    event_ns: int
    end_ns: int


TRADE_COLUMNS = ["sip_timestamp", "sequence_number", "price", "size", "correction"]
QUOTE_COLUMNS = ["sip_timestamp", "sequence_number", "bid_price", "ask_price", "bid_size", "ask_size"]


def read_rows(path: Path, columns: list[str]) -> list[dict]:
    """The file's rows as dicts, sip_timestamp as integer epoch nanoseconds."""
    table = pq.read_table(path, columns=columns)
    table = table.set_column(0, "sip_timestamp", table.column("sip_timestamp").cast("int64"))
    return table.to_pylist()


def valid_quotes(rows: list[dict], session: str) -> list[tuple[int, int, float, float]]:
    """(t, sequence_number, mid, relative spread) of the valid quotes, in (t, sequence_number) order."""
    out = []
    for r in rows:
        bid, ask, bs, az = r["bid_price"], r["ask_price"], r["bid_size"], r["ask_size"]
        if None in (bid, ask, bs, az) or not (bid > 0 and ask > 0 and bs > 0 and az > 0):
            continue
        if session == "RTH" and not (ask >= bid and ask - bid <= 5):
            continue
        mid = (bid + ask) / 2
        out.append((r["sip_timestamp"], r["sequence_number"], mid, (ask - bid) / mid))
    out.sort(key=lambda q: (q[0], q[1]))
    return out


def measure_window(spec: WindowSpec, trades_path: Path, quotes_path: Path) -> dict[str, dict[str, float | None]]:
    """{'pre': {measure: value}, 'post': {...}} for one window."""
    quotes = [q for q in valid_quotes(read_rows(quotes_path, QUOTE_COLUMNS), spec.session)
              if spec.start_ns <= q[0] < spec.end_ns]  # the downloader writes no others
    # the last valid quote of each nanosecond
    last_of_ns: dict[int, tuple[float, float]] = {}
    for t, _, mid, rel in quotes:
        last_of_ns[t] = (mid, rel)
    times = sorted(last_of_ns)

    def prevailing(t: int) -> tuple[float, float] | None:
        """The last valid quote strictly before t."""
        i = bisect.bisect_left(times, t)
        return last_of_ns[times[i - 1]] if i > 0 else None

    def holding_at(t: int) -> tuple[float, float] | None:
        """The quote in force at instant t (one stamped exactly at t included)."""
        i = bisect.bisect_right(times, t)
        return last_of_ns[times[i - 1]] if i > 0 else None

    trades = []
    for r in read_rows(trades_path, TRADE_COLUMNS):
        price, size, corr, t = r["price"], r["size"], r["correction"], r["sip_timestamp"]
        if price is None or size is None or not (price > 0 and size > 0) or corr not in (None, 0):
            continue
        if not spec.start_ns <= t < spec.end_ns:
            continue
        trades.append((t, r["sequence_number"], price, size))
    trades.sort(key=lambda x: (x[0], x[1]))

    segments = {"pre": (spec.start_ns, spec.event_ns), "post": (spec.event_ns, spec.end_ns)}
    acc = {s: {"n": 0, "vol": 0.0, "unmatched": 0, "unsigned": 0, "dv": 0.0, "eff": 0.0, "dv5": 0.0, "real": 0.0,
               "imp": 0.0, "size": 0.0, "signed": 0.0} for s in segments}
    for i, (t, _, price, size) in enumerate(trades):
        seg = "pre" if t < spec.event_ns else "post"
        a = acc[seg]
        a["n"] += 1
        a["vol"] += size
        quote = prevailing(t)
        if quote is None:
            a["unmatched"] += 1
            continue
        mid = quote[0]
        if abs(price - mid) <= 1e-9 * mid:
            sign = 0
            for j in range(i - 1, -1, -1):  # tick test: the most recent earlier trade at another price
                if trades[j][2] != price:
                    sign = 1 if price > trades[j][2] else -1
                    break
        else:
            sign = 1 if price > mid else -1
        if sign == 0:  # unsigned: in n_trades and volume only, out of every weighted measure
            a["unsigned"] += 1
            continue
        dv = price * size
        a["dv"] += dv
        a["eff"] += 2 * abs(price - mid) / mid * dv
        a["size"] += size
        a["signed"] += sign * size
        if t + NS_5M < spec.end_ns:
            later = prevailing(t + NS_5M)
            assert later is not None  # the quote prevailing at t is earlier still
            mid5 = later[0]
            a["dv5"] += dv
            a["real"] += 2 * sign * (price - mid5) / mid * dv
            a["imp"] += 2 * sign * (mid5 - mid) / mid * dv

    out: dict[str, dict[str, float | None]] = {}
    for seg, (lo, hi) in segments.items():
        # time-weighted quoted spread: cut [lo, hi) at every valid quote time inside it
        cuts = [lo, *(t for t in times if lo < t < hi), hi]
        num = den = 0.0
        for left, right in itertools.pairwise(cuts):
            q = holding_at(left)
            if q is not None and right > left:
                num += q[1] * (right - left)
                den += right - left
        a = acc[seg]
        out[seg] = {
            "n_trades": a["n"],
            "volume": a["vol"],
            "trades_unmatched": a["unmatched"],
            "trades_unsigned": a["unsigned"],
            "quoted_spread_tw": num / den if den > 0 else None,
            "effective_spread_dvw": a["eff"] / a["dv"] if a["dv"] > 0 else None,
            "realized_spread_5m_dvw": a["real"] / a["dv5"] if a["dv5"] > 0 else None,
            "price_impact_5m_dvw": a["imp"] / a["dv5"] if a["dv5"] > 0 else None,
            "order_imbalance": a["signed"] / a["size"] if a["size"] > 0 else None,
        }
    return out


def close(a: float | None, b: float | None, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
