"""The dbt project's selection written the way a user would write it without dbt: pyarrow + pandas/numpy.

A yardstick for `make bench`, never part of the product. It reads the same inputs as the dbt
project (the FASE 2.5 events Parquet glob, one daily-bar Parquet per symbol, seeds/nyse_calendar.csv
and seeds/selection_profiles.csv) and reproduces, vectorised (no Python loop over rows; loops over
files and file schemas, the three sessions, the 20 rows of the baseline frame, the 64 rounds of
MD5 and the levels of the overlap frame's range-minimum table), what the models compute:

  stg_fase25__events / int_events_classified
                                        timestamp parsing (TIMESTAMP, TIMESTAMPTZ, epoch ns/us/ms/s by
                                        magnitude), symbol/event_type normalisation, ET time, trading
                                        date, session (holidays, early closes), rejection reasons in
                                        the model's order, duplicate copies ranked like the model
  stg_fase25__daily_bars / int_daily_bars_classified / int_daily_metrics_rolling
                                        symbol from the file name, date/timestamp/t, vwap/vw,
                                        transactions/n, bar rejections, left-closed 20-row baselines
  events_enriched                      the five filters of the profile
  int_selection_candidates_ranked      windows clipped to [04:00, close+4h) ET, the global rank
                                        (score desc, event_id), per-symbol overlap suppression
  int_selection_quotas_computed / int_manifest_selected
                                        the quotas and the 1+fill stage (one per symbol, then AH, PM, RTH)

event_id is md5('symbol|epoch_ns|event_type'), computed by a vectorised MD5 over numpy arrays.
SQL semantics kept on purpose: NaN sorts above every number and compares greater than any number
(DuckDB), NULL is not NaN, concat_ws skips NULLs, round() is half away from zero, the overlap frame
is decided on the same doubles as the model's RANGE frame. One thing cannot be the same to the bit:
the 20-row averages are summed oldest first here, in DuckDB's window segment-tree order there, so
adv20_dollar may differ in the last bit (relative 1e-15); a filter threshold would have to fall
inside that gap for the selection to differ.

    python bench/pandas_peer.py --events 'data/events/*.parquet' --daily data/daily --profile core \\
        [--out selected.parquet] [--timings]
"""

from __future__ import annotations

import argparse
import decimal
import glob
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ET = "America/New_York"

US_PER_SEC = 1_000_000
US_PER_MIN = 60 * US_PER_SEC
US_PER_HOUR = 60 * US_PER_MIN
US_PER_DAY = 24 * US_PER_HOUR
PM_START = 4 * US_PER_HOUR
RTH_START = 9 * US_PER_HOUR + 30 * US_PER_MIN
TS_MIN = int(pd.Timestamp("1990-01-01").value // 1000)
TS_MAX = int(pd.Timestamp("2100-01-01").value // 1000)
SYMBOL_RE = r"^(?:[A-Z][A-Z0-9]*(?:[.\-][A-Z0-9]+)*)$"
SESSIONS = np.array(["PM", "RTH", "AH"], dtype=object)
PM, RTH, AH, NO_SESSION = 0, 1, 2, -1
OVERLAP_FRAME = 0.9999999  # the model's RANGE frame, in units of the overlap distance
EVENT_REASONS = ["bad_symbol", "bad_timestamp", "bad_event_type", "bad_score", "duplicate",
                 "outside_calendar", "closed_day", "outside_hours", "no_daily_bar"]
BAR_REASONS = ["bad_date", "outside_calendar", "closed_day", "bad_close", "bad_volume", "duplicate"]
DAY_SPAN = 2**20  # (symbol, day) keys of the daily bars: symbol * DAY_SPAN + day + DAY_SPAN // 2


@dataclass
class PeerResult:
    manifest: pd.DataFrame                    # one row per selected event, ordered by event_id
    event_reasons: dict[str, int]             # rejected input event rows per reason
    bar_reasons: dict[str, int]               # rejected daily bars per reason
    counts: dict[str, int]                    # funnel: input rows, enriched, eligible, survivors, selected
    quotas: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- small helpers

def _np(arr: pa.Array | pa.ChunkedArray, fill, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(values with NULLs filled, NULL mask) as numpy arrays."""
    nulls = pc.is_null(arr).to_numpy(zero_copy_only=False)
    values = pc.fill_null(arr, fill).to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return values, nulls


def _ge(x: np.ndarray, null: np.ndarray, c: float) -> np.ndarray:
    """coalesce(x >= c, false) with DuckDB's NaN: greater than every number."""
    return ~null & ((x >= c) | np.isnan(x))


def _first_reason(conditions: list[np.ndarray]) -> np.ndarray:
    """CASE WHEN c1 THEN 1 WHEN c2 THEN 2 ... END, 0 when none holds (kept)."""
    return np.select(conditions, list(range(1, len(conditions) + 1)), 0).astype(np.int64)


def _round_half_away(x: float) -> int:
    return int(decimal.Decimal(x).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))


def _desc_nan_first_nulls_last(values: np.ndarray, nulls: np.ndarray) -> list[np.ndarray]:
    """Sort keys (for np.lexsort, least significant first) of `order by v desc nulls last`
    with NaN above every number, as DuckDB orders doubles."""
    nan = np.isnan(values) & ~nulls
    neg = np.where(nan | nulls, 0.0, -values)
    return [neg, ~nan, nulls]


def _column(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    """Case-insensitive column lookup (DuckDB identifiers are case-insensitive)."""
    for actual in table.column_names:
        if actual.lower() == name:
            return table.column(actual)
    return None


def _try_double(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type) or pa.types.is_decimal(col.type):
        return pc.cast(col, pa.float64())
    if pa.types.is_boolean(col.type):
        return pc.cast(pc.cast(col, pa.int8()), pa.float64())
    as_num = pd.to_numeric(pd.Series(col.to_pandas(), dtype=object), errors="coerce")
    return pa.chunked_array([pa.array(as_num.to_numpy(dtype=float), from_pandas=True)])


# --------------------------------------------------------------------------- vectorised MD5

_MD5_S = np.array([7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4,
                  dtype=np.uint32)
_MD5_K = np.array([int(abs(math.sin(i + 1)) * 2**32) & 0xFFFFFFFF for i in range(64)], dtype=np.uint32)
_MD5_G = [i if i < 16 else (5 * i + 1) % 16 if i < 32 else (3 * i + 5) % 16 if i < 48 else (7 * i) % 16
          for i in range(64)]
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _md5_digests(strings: pa.Array) -> np.ndarray:
    """MD5 digests (n x 16 bytes) of a string array without NULLs, all rows at once."""
    strings = strings.cast(pa.large_binary())
    n = len(strings)
    if n == 0:
        return np.zeros((0, 16), np.uint8)
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)[strings.offset: strings.offset + n + 1]
    data_buf = strings.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    nblocks = (lengths + 8) // 64 + 1
    width = int(nblocks.max()) * 64
    msg = np.zeros((n, width), dtype=np.uint8)
    rows = np.repeat(np.arange(n), lengths)
    cols = np.arange(int(lengths.sum())) - np.repeat(offsets[:-1] - offsets[0], lengths)
    msg[rows, cols] = data[offsets[0]:offsets[-1]]
    every = np.arange(n)
    msg[every, lengths] = 0x80
    bits = lengths.astype(np.uint64) * np.uint64(8)
    end = nblocks * 64 - 8
    for k in range(8):
        msg[every, end + k] = ((bits >> np.uint64(8 * k)) & np.uint64(0xFF)).astype(np.uint8)
    words = msg.view("<u4").reshape(n, width // 64, 16)
    state = [np.full(n, v, dtype=np.uint32) for v in (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)]
    for block in range(width // 64):
        m = np.ascontiguousarray(words[:, block, :].T)
        a, b, c, d = (s.copy() for s in state)
        for i in range(64):
            if i < 16:
                f = (b & c) | (~b & d)
            elif i < 32:
                f = (d & b) | (~d & c)
            elif i < 48:
                f = b ^ c ^ d
            else:
                f = c ^ (b | ~d)
            f = f + a + _MD5_K[i] + m[_MD5_G[i]]
            s = _MD5_S[i]
            a, d, c = d, c, b
            b = b + ((f << s) | (f >> (np.uint32(32) - s)))
        active = nblocks > block
        for j, v in enumerate((a, b, c, d)):
            state[j] = np.where(active, state[j] + v, state[j])
    return np.stack(state, axis=1).astype("<u4").view(np.uint8).reshape(n, 16)


def md5_hex(strings: pa.Array, chunk: int = 100_000) -> tuple[pa.Array, np.ndarray]:
    """(md5 hex strings, n x 2 uint64 sort key in the hex strings' order), in chunks of rows."""
    digests = np.concatenate([_md5_digests(strings.slice(i, chunk)) for i in range(0, len(strings), chunk)]
                             or [np.zeros((0, 16), np.uint8)])
    hexed = np.empty((len(digests), 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[digests >> 4]
    hexed[:, 1::2] = _HEX[digests & 15]
    ids = pa.StringArray.from_buffers(
        len(digests), pa.py_buffer(np.arange(0, 32 * len(digests) + 1, 32, dtype=np.int32)),
        pa.py_buffer(hexed.tobytes()))
    order_key = np.ascontiguousarray(digests).view(">u8").astype(np.uint64)
    return ids, order_key


# --------------------------------------------------------------------------- seeds

@dataclass
class Calendar:
    first_day: int            # days since 1970-01-01 of the first calendar date
    trading: np.ndarray       # bool per day
    close_us: np.ndarray      # regular close, microseconds after midnight ET


def load_calendar(path: Path) -> Calendar:
    """int_trading_days_expanded: every date of the seed's years; weekends and holidays closed."""
    seed = pd.read_csv(path, dtype=str, keep_default_na=False)
    dates = pd.to_datetime(seed["date"])
    first = pd.Timestamp(year=dates.min().year, month=1, day=1)
    last = pd.Timestamp(year=dates.max().year, month=12, day=31)
    days = pd.date_range(first, last, freq="D")
    status = pd.Series(seed["status"].to_numpy(), index=dates).reindex(days).fillna("")
    close_txt = pd.Series(seed["close_et"].to_numpy(), index=dates).reindex(days).fillna("")
    early = (status == "early_close").to_numpy()
    seeded_close = pd.to_timedelta(close_txt.where(close_txt != "", "13:00:00")).to_numpy().astype("timedelta64[us]")
    close_us = np.where(early, seeded_close.astype(np.int64), 16 * US_PER_HOUR)
    trading = (days.day_of_week < 5) & (status != "holiday").to_numpy()
    return Calendar(int(first.value // (US_PER_DAY * 1000)), np.asarray(trading), close_us.astype(np.int64))


def load_profile(path: Path, name: str) -> dict:
    """int_selection_config_resolved: the profile's row; an unknown name is an error naming the known ones."""
    profiles = pd.read_csv(path)
    row = profiles[profiles["profile"] == name]
    if row.empty:
        known = ", ".join(sorted(profiles["profile"]))
        raise SystemExit(f"Unknown selection profile '{name}'. Known profiles in {path.name}: {known}")
    return row.iloc[0].to_dict()


# --------------------------------------------------------------------------- inputs

def _event_ts_us(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """macros/inputs.sql event_timestamp_to_utc: naive UTC microseconds and a NULL mask."""
    t = col.type
    if pa.types.is_timestamp(t):  # TIMESTAMP or TIMESTAMPTZ (stored as UTC instants either way)
        v, nulls = _np(pc.cast(col, pa.int64()), 0, np.int64)
        scale = {"s": 1_000_000, "ms": 1000, "us": 1, "ns": None}[t.unit]
        return (np.where(v < 0, -((-v) // 1000), v // 1000) if scale is None else v * scale), nulls
    if pa.types.is_date(t):
        days, nulls = _np(pc.cast(pc.cast(col, pa.date32()), pa.int32()), 0, np.int64)
        return days * US_PER_DAY, nulls
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        if pa.types.is_integer(t):
            v, nulls = _np(pc.cast(col, pa.int64()), 0, np.int64)
            mag = np.abs(v.astype(np.float64))
            ns_to_us = np.where(v < 0, -((-v) // 1000), v // 1000)
            whole = v
        else:
            f, nulls = _np(pc.cast(col, pa.float64()), 0.0, np.float64)
            mag = np.abs(f)
            with np.errstate(invalid="ignore"):
                ns_to_us = np.round(np.floor(f / 1000)).astype(np.int64)
                whole = np.round(f).astype(np.int64)
        us = np.select(
            [mag >= 1e17, mag >= 1e14, mag >= 1e11, mag >= 1e8],
            [ns_to_us, whole, whole * 1000, whole * 1_000_000], 0)
        return us, nulls | ~(mag >= 1e8)
    # Strings: try_cast(... as timestamptz) at time zone 'UTC'.
    parsed = pd.to_datetime(pd.Series(col.to_pandas(), dtype=object), utc=True, errors="coerce", format="ISO8601")
    nulls = parsed.isna().to_numpy()
    us = parsed.dt.tz_localize(None).astype("datetime64[us]").to_numpy().astype(np.int64)
    return np.where(nulls, 0, us), nulls


def _as_string(col: pa.ChunkedArray) -> pa.ChunkedArray:
    return col if pa.types.is_string(col.type) else pc.cast(col, pa.string())


def read_events(pattern: str) -> tuple[pa.Table, list[str]]:
    """stg_fase25__events: every input row, typed; files in name order, row numbers per file."""
    files = sorted(glob.glob(pattern))
    if not files:
        raise SystemExit(f"No events files match '{pattern}'")
    parts = []
    for index, path in enumerate(files):
        schema = pq.read_schema(path)
        wanted = [n for n in schema.names if n.lower() in ("symbol", "timestamp", "event_type", "score")]
        table = pq.read_table(path, columns=wanted)
        missing = {"symbol", "timestamp", "event_type", "score"} - {n.lower() for n in wanted}
        if missing:
            raise SystemExit(f"Events file '{path}' has no column '{sorted(missing)[0]}'")
        ts_us, ts_null = _event_ts_us(_column(table, "timestamp"))
        parts.append(pa.table({
            "symbol": _as_string(_column(table, "symbol")),
            "ts_us": pa.array(ts_us, mask=ts_null),
            "event_type": _as_string(_column(table, "event_type")),
            "score": _try_double(_column(table, "score")),
            "file": pa.array(np.full(table.num_rows, index, dtype=np.int32)),
            "row": pa.array(np.arange(table.num_rows, dtype=np.int64)),
        }))
    return pa.concat_tables(parts), files


def _bar_dates(table: pa.Table) -> pa.ChunkedArray:
    """coalesce(date, timestamp, t): DATE as is, TIMESTAMP cast to its date, integers epoch ms (UTC date)."""
    candidates = []
    for name in ("date", "timestamp", "t"):
        col = _column(table, name)
        if col is None:
            continue
        if pa.types.is_date(col.type):
            candidates.append(pc.cast(col, pa.date32()))
        elif pa.types.is_timestamp(col.type):
            candidates.append(pc.cast(pc.cast(col, pa.timestamp(col.type.unit)), pa.date32()))
        elif name == "date":  # try_cast("date" as date)
            parsed = pd.to_datetime(pd.Series(col.to_pandas(), dtype=object), errors="coerce", format="ISO8601")
            candidates.append(pa.chunked_array([pa.array(parsed.dt.date, type=pa.date32(), from_pandas=True)]))
        else:
            ms, nulls = _np(pc.cast(col, pa.int64()), 0, np.int64)
            days = np.floor_divide(ms, 86_400_000).astype(np.int32)
            candidates.append(pa.chunked_array([pa.array(days, mask=nulls).cast(pa.date32())]))
    return pc.coalesce(*candidates) if len(candidates) > 1 else candidates[0]


def _optional_double(table: pa.Table, names: list[str]) -> pa.ChunkedArray:
    cols = [_try_double(c) for c in (_column(table, n) for n in names) if c is not None]
    if not cols:
        return pa.chunked_array([pa.nulls(table.num_rows, pa.float64())])
    return pc.coalesce(*cols) if len(cols) > 1 else cols[0]


def read_daily_bars(directory: str) -> tuple[pa.Table, pa.Array]:
    """stg_fase25__daily_bars: symbol = upper(file name without extension), the contract's column variants
    folded. Files are read on a small thread pool, then folded once per distinct file schema."""
    files = sorted(glob.glob(f"{directory.rstrip('/')}/*.parquet"))
    if not files:
        raise SystemExit(f"No daily bars files match '{directory}/*.parquet'")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        tables = list(pool.map(lambda path: pq.ParquetFile(path).read(use_threads=False), files))
    codes: dict[str, int] = {}
    file_sym = np.array([codes.setdefault(Path(path).stem.upper(), len(codes)) for path in files], dtype=np.int32)
    file_rows = np.array([t.num_rows for t in tables], dtype=np.int64)
    by_schema: dict[str, list[int]] = {}
    for index, table in enumerate(tables):
        by_schema.setdefault(str(table.schema.remove_metadata()), []).append(index)
    parts = []
    for members in by_schema.values():
        table = pa.concat_tables([tables[i] for i in members])
        path = files[members[0]]
        for required in ("close", "volume"):
            if _column(table, required) is None:
                raise SystemExit(f"Daily bars file '{path}' has no column '{required}'")
        if all(_column(table, n) is None for n in ("date", "timestamp", "t")):
            raise SystemExit(f"Daily bars file '{path}' needs one of the columns date / timestamp / t")
        idx = np.array(members)
        rows = file_rows[idx]
        starts = np.repeat(np.cumsum(rows) - rows, rows)
        parts.append(pa.table({
            "sym": pa.array(np.repeat(file_sym[idx], rows)),
            "bar_date": _bar_dates(table),
            "close": _try_double(_column(table, "close")),
            "volume": _try_double(_column(table, "volume")),
            "vwap": _optional_double(table, ["vwap", "vw"]),
            "file": pa.array(np.repeat(idx.astype(np.int32), rows)),
            "row": pa.array(np.arange(int(rows.sum()), dtype=np.int64) - starts),
        }))
    return pa.concat_tables(parts), pa.array(list(codes), pa.string())


# --------------------------------------------------------------------------- daily bars

def _copy_after_first(groups: list[np.ndarray], candidates: np.ndarray, desc: list[tuple[np.ndarray, np.ndarray]],
                      asc: list[np.ndarray]) -> np.ndarray:
    """copy_number > 1 of row_number() over (partition by <groups> order by <desc columns> desc
    nulls last, <asc columns>), among the rows where `candidates`; `desc` holds (values, NULL mask)
    pairs. Only the rows of groups that repeat are sorted, as in the model: a hash of the group
    columns finds them (a collision only adds rows, the sort then compares the columns exactly)."""
    later = np.zeros(len(candidates), dtype=bool)
    idx = np.flatnonzero(candidates)
    mixed = np.zeros(len(idx), dtype=np.uint64)
    for col in groups:
        mixed = mixed * np.uint64(0x9E3779B97F4A7C15) + col[idx].astype(np.uint64)
    idx = idx[pd.Series(mixed).duplicated(keep=False).to_numpy()]
    if len(idx):
        keys = [a[idx] for a in reversed(asc)]
        for values, nulls in reversed(desc):
            keys += _desc_nan_first_nulls_last(values[idx], nulls[idx])
        order = idx[np.lexsort(keys + [col[idx] for col in reversed(groups)])]
        same = np.ones(len(order) - 1, dtype=bool)
        for col in groups:
            same &= col[order][1:] == col[order][:-1]
        later[order[1:][same]] = True
    return later


def classify_bars(bars: pa.Table, sym_names: pa.Array, calendar: Calendar) -> tuple[dict, np.ndarray]:
    """int_daily_bars_classified: arrays of the bars and each bar's reason (0 = kept, else
    1 + index in BAR_REASONS)."""
    sym = bars.column("sym").to_numpy().astype(np.int64)
    day, day_null = _np(pc.cast(bars.column("bar_date"), pa.int32()), 0, np.int64)
    close, close_null = _np(bars.column("close"), 0.0, np.float64)
    volume, volume_null = _np(bars.column("volume"), 0.0, np.float64)
    vwap, vwap_null = _np(bars.column("vwap"), 0.0, np.float64)
    file = bars.column("file").to_numpy()
    row = bars.column("row").to_numpy()

    cal_index = day - calendar.first_day
    in_calendar = ~day_null & (cal_index >= 0) & (cal_index < len(calendar.trading))
    trading = np.zeros(len(day), dtype=bool)
    trading[in_calendar] = calendar.trading[cal_index[in_calendar]]

    with np.errstate(invalid="ignore"):
        bad_close = close_null | np.isnan(close) | (close <= 0)
        bad_volume = volume_null | np.isnan(volume) | (volume < 0)
    usable = ~day_null & in_calendar & trading & ~bad_close & ~bad_volume
    # Copies of a (symbol, date) among the usable bars: volume desc, close desc, file, row.
    key = sym * DAY_SPAN + day + DAY_SPAN // 2
    duplicate = _copy_after_first(
        [key], usable, [(volume, volume_null), (close, close_null)], [file, row])
    reason = _first_reason([day_null, ~in_calendar, ~trading, bad_close, bad_volume, duplicate])
    arrays = dict(sym=sym, sym_names=sym_names, day=day, close=close, volume=volume, vwap=vwap, vwap_null=vwap_null)
    return arrays, reason


def daily_metrics(b: dict, kept: np.ndarray) -> dict:
    """daily_metrics: per symbol and day, averages over the up-to-20 previous clean rows."""
    idx = np.flatnonzero(kept)
    idx = idx[np.lexsort([b["day"][idx], b["sym"][idx]])]
    sym, day = b["sym"][idx], b["day"][idx]
    close, volume = b["close"][idx], b["volume"][idx]
    vwap = np.where(b["vwap_null"][idx], close, b["vwap"][idx])
    with np.errstate(invalid="ignore", over="ignore"):
        dollar = vwap * volume
    n = len(idx)
    starts = np.r_[0, np.flatnonzero(sym[1:] != sym[:-1]) + 1] if n else np.zeros(0, np.int64)
    pos = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) if n else np.zeros(0, np.int64)
    history = np.minimum(pos, 20)
    sum_volume = np.zeros(n)
    sum_dollar = np.zeros(n)
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(20, 0, -1):  # oldest row of the frame first
            has = pos[k:] >= k        # row i - k belongs to the same symbol
            sum_volume[k:] += np.where(has, volume[:-k], 0.0)
            sum_dollar[k:] += np.where(has, dollar[:-k], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        adv20_volume = np.where(history > 0, sum_volume / np.maximum(history, 1), np.nan)
        adv20_dollar = np.where(history > 0, sum_dollar / np.maximum(history, 1), np.nan)
        has_rvol = (history > 0) & ((adv20_volume > 0) | np.isnan(adv20_volume))
        rvol = np.where(has_rvol, volume / np.where(has_rvol, adv20_volume, 1.0), np.nan)
    return dict(sym=sym, day=day, close=close, volume=volume, dollar=dollar, history=history,
                adv20_volume=adv20_volume, adv20_dollar=adv20_dollar, adv_null=history == 0,
                rvol=rvol, rvol_null=~has_rvol)


# --------------------------------------------------------------------------- events

def utc_to_et(us: np.ndarray) -> np.ndarray:
    wall = pd.to_datetime(us, unit="us", utc=True).tz_convert(ET).tz_localize(None)
    return wall.as_unit("us").asi8


def et_to_utc(us: np.ndarray) -> np.ndarray:
    local = pd.to_datetime(us, unit="us").tz_localize(ET, ambiguous="NaT", nonexistent="NaT")
    return local.tz_convert("UTC").tz_localize(None).as_unit("us").asi8


def classify_events(ev: pa.Table, calendar: Calendar, bars: dict, metrics: dict) -> tuple[dict, np.ndarray]:
    """int_events_classified: each input row's ET time, session, metrics and reason (0 = kept,
    else 1 + index in EVENT_REASONS)."""
    symbol = pc.utf8_upper(pc.utf8_trim(ev.column("symbol").combine_chunks(), characters=" "))
    event_type = pc.utf8_trim(ev.column("event_type").combine_chunks(), characters=" ")
    event_type = pc.if_else(pc.equal(event_type, ""), pa.scalar(None, pa.string()), event_type)
    ts, ts_null = _np(ev.column("ts_us"), 0, np.int64)
    score, score_null = _np(ev.column("score"), 0.0, np.float64)
    file = ev.column("file").to_numpy()
    row = ev.column("row").to_numpy()

    sym_ok = pc.fill_null(pc.and_(pc.match_substring_regex(symbol, SYMBOL_RE),
                                  pc.less_equal(pc.utf8_length(symbol), 15)), False).to_numpy(zero_copy_only=False)
    ts_ok = ~ts_null & (ts >= TS_MIN) & (ts < TS_MAX)
    type_ok = pc.is_valid(event_type).to_numpy(zero_copy_only=False)
    score_ok = ~score_null & np.isfinite(score)

    # Copies share the identity concat_ws('|', symbol, epoch_ns, event_type) (NULLs skipped), whose
    # md5 is the event_id. When no symbol or event type holds a '|', rows with all three parts share
    # it exactly when they share the three values, and a row missing a part is rejected before
    # `duplicate` whatever its copy number: compare the values. Otherwise compare the strings.
    pipes = pc.any(pc.match_substring(symbol, "|")).as_py() or pc.any(pc.match_substring(event_type, "|")).as_py()
    if not pipes:
        complete = pc.is_valid(symbol).to_numpy(zero_copy_only=False) & ~ts_null & type_ok
        parts = [_codes(symbol), ts, _codes(event_type)]
    else:
        complete = np.ones(len(ts), dtype=bool)
        parts = [_codes(identity_text(symbol, ts, ts_null, event_type))]
    # Only copies that pass every check of their own compete (the others are rejected for it whatever
    # their copy number; ranked first they would push the usable copy out as a duplicate).
    usable = complete & sym_ok & ts_ok & type_ok & score_ok
    duplicate = _copy_after_first(parts, usable, [(score, score_null)], [file, row])

    # ET wall time, trading date, session.
    et = np.zeros_like(ts)
    et[ts_ok] = utc_to_et(ts[ts_ok])
    day = np.floor_divide(et, US_PER_DAY)
    tod = et - day * US_PER_DAY
    cal_index = day - calendar.first_day
    in_calendar = ts_ok & (cal_index >= 0) & (cal_index < len(calendar.trading))
    safe = np.where(in_calendar, cal_index, 0)
    trading = in_calendar & calendar.trading[safe]
    close_us = calendar.close_us[safe]
    session = np.select(
        [(tod >= PM_START) & (tod < RTH_START),
         (tod >= RTH_START) & (tod < close_us),
         (tod >= close_us) & (tod < close_us + 4 * US_PER_HOUR)],
        [PM, RTH, AH], NO_SESSION)
    session = np.where(trading, session, NO_SESSION)

    # Daily metrics of (symbol, trading date).
    # Daily metrics of (symbol, trading date): a dense (symbol, day) -> metrics row table.
    sym_code, no_symbol = _np(pc.index_in(symbol, value_set=bars["sym_names"]), -1, np.int64)
    at = np.full(len(ts), -1, dtype=np.int64)
    if len(metrics["day"]):
        first, last = int(metrics["day"].min()), int(metrics["day"].max())
        table = np.full((len(bars["sym_names"]), last - first + 1), -1, dtype=np.int64)
        table[metrics["sym"], metrics["day"] - first] = np.arange(len(metrics["day"]))
        look = ~no_symbol & in_calendar & (day >= first) & (day <= last)
        at[look] = table[sym_code[look], day[look] - first]
    has_metrics = at >= 0

    reason = _first_reason(
        [~sym_ok, ~ts_ok, ~type_ok, ~score_ok, duplicate, ~in_calendar, ~trading,
         session == NO_SESSION, ~has_metrics])
    arrays = dict(symbol=symbol, sym_code=sym_code, ts=ts, et=et, day=day, close_us=close_us, session=session,
                  event_type=event_type, score=score, ts_null=ts_null, metric_at=at)
    return arrays, reason


def _codes(strings: pa.Array) -> np.ndarray:
    """Dense integer codes of a string array (NULL -> -1)."""
    codes, _ = _np(strings.dictionary_encode().indices, -1, np.int64)
    return codes


def identity_text(symbol: pa.Array, ts: np.ndarray, ts_null: np.ndarray, event_type: pa.Array) -> pa.Array:
    """concat_ws('|', symbol, epoch_ns(ts), event_type): the text whose md5 is the event_id."""
    ns_text = pc.cast(pa.array(ts * 1000, mask=ts_null), pa.string())
    return pc.binary_join_element_wise(symbol, ns_text, event_type, "|", null_handling="skip")


def _first_true(estimate: np.ndarray, test) -> np.ndarray:
    """Per row, the least integer t near `estimate` with test(t) true, for a test that is monotone
    in t (false, then true)."""
    radius = 4
    while True:
        steps = np.arange(-radius, radius + 1)
        hits = np.stack([test(estimate + k) for k in steps])
        if not hits[0].any() and hits[-1].all():
            return estimate + steps[np.argmax(hits, axis=0)]
        radius *= 4


def overlap_survivors(group: np.ndarray, ts_us: np.ndarray, rank: np.ndarray, overlap_minutes: float) -> np.ndarray:
    """int_selection_candidates_ranked's suppression: an event survives when min(rank) over its RANGE frame
    (same symbol, epoch(ts) / (60 * overlap) within +-0.9999999, in doubles as DuckDB computes them)
    is its own rank. That position is monotone in the microsecond, so the frame is exactly
    [first microsecond >= lower bound, last microsecond <= upper bound]; binary searches give each
    frame's rows in (symbol, time) order and a sparse table gives their minimum rank."""
    n = len(ts_us)
    if n == 0:
        return np.zeros(0, dtype=bool)
    unit = 60.0 * overlap_minutes

    def position(t: np.ndarray) -> np.ndarray:  # epoch(ts) / (60.0 * overlap_minutes)
        return (t.astype(np.float64) / 1e6) / unit

    x = position(ts_us)
    lower, upper = x - OVERLAP_FRAME, x + OVERLAP_FRAME
    width = int(OVERLAP_FRAME * unit * 1e6)
    first_in = _first_true(ts_us - width, lambda t: position(t) >= lower)
    last_in = _first_true(ts_us + width, lambda t: position(t) > upper) - 1

    # (symbol, microsecond) as one sortable integer.
    base = int(ts_us.min()) - width - 1024
    span = int(ts_us.max()) + width + 1024 - base
    if (int(group.max()) + 1) * span >= 2**62:
        raise SystemExit("overlap suppression: (symbol, time) does not fit one int64 key; narrow the input")
    code = group.astype(np.int64) * span + (ts_us - base)
    order = np.argsort(code, kind="stable")
    code = code[order]
    g = group[order].astype(np.int64)
    lo = np.searchsorted(code, g * span + np.clip(first_in[order] - base, 0, span - 1), "left")
    hi = np.searchsorted(code, g * span + np.clip(last_in[order] - base, 0, span - 1), "right") - 1

    # Range minimum of the ranks over [lo, hi]: level k holds the minimum of 2**k rows from i.
    r = rank[order].astype(np.int64)
    level = np.floor(np.log2(hi - lo + 1)).astype(np.int64)
    levels = [r]
    for k in range(1, int(level.max()) + 1):
        prev, step = levels[-1], 1 << (k - 1)
        cur = prev.copy()
        cur[:-step] = np.minimum(prev[:-step], prev[step:])
        levels.append(cur)
    best = np.empty(n, dtype=np.int64)
    for k, table in enumerate(levels):
        rows = np.flatnonzero(level == k)
        best[rows] = np.minimum(table[lo[rows]], table[hi[rows] - (1 << k) + 1])
    survives = np.empty(n, dtype=bool)
    survives[order] = best == r
    return survives


# --------------------------------------------------------------------------- selection

def select_events(events_glob: str, daily_dir: str, profile: str = "core", seeds: Path = SEEDS) -> PeerResult:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    calendar = load_calendar(seeds / "nyse_calendar.csv")
    cfg = load_profile(seeds / "selection_profiles.csv", profile)
    lap("seeds")
    bars_table, sym_names = read_daily_bars(daily_dir)
    lap("read daily bars")
    events_table, _ = read_events(events_glob)
    lap("read events")

    bars, bar_reason = classify_bars(bars_table, sym_names, calendar)
    metrics = daily_metrics(bars, bar_reason == 0)
    lap("daily bars + metrics")

    ev, reason = classify_events(events_table, calendar, bars, metrics)
    lap("classify events")

    # events_enriched: the five filters on the kept events.
    kept = np.flatnonzero(reason == 0)
    at = ev["metric_at"][kept]
    close = metrics["close"][at]
    f1 = (close >= cfg["min_price"]) & (close <= cfg["max_price"])
    f2 = _ge(metrics["dollar"][at], np.zeros(len(at), bool), cfg["min_dollar_volume_day"])
    f3 = _ge(metrics["rvol"][at], metrics["rvol_null"][at], cfg["min_rvol_day"])
    f4 = _ge(metrics["adv20_dollar"][at], metrics["adv_null"][at], cfg["min_adv20_dollar"])
    f5 = metrics["history"][at] >= cfg["min_history_days"]
    eligible = kept[f1 & f2 & f3 & f4 & f5]
    lap("filters")

    # int_selection_candidates_ranked: event_id, windows, global rank, overlap suppression.
    take = pa.array(eligible)
    event_id, id_key = md5_hex(identity_text(ev["symbol"].take(take), ev["ts"][eligible], ev["ts_null"][eligible],
                                             ev["event_type"].take(take)))
    score = ev["score"][eligible]
    rank_order = np.lexsort([id_key[:, 1], id_key[:, 0], -score])
    selection_rank = np.empty(len(eligible), dtype=np.int64)
    selection_rank[rank_order] = np.arange(1, len(eligible) + 1)
    lap("event_id + rank")
    before, after = int(cfg["window_before_min"]), int(cfg["window_after_min"])
    survives = overlap_survivors(ev["sym_code"][eligible], ev["ts"][eligible], selection_rank, float(before + after))
    lap("overlap suppression")

    cand = pd.DataFrame({
        "pos": eligible, "sym": ev["sym_code"][eligible], "session": ev["session"][eligible],
        "selection_rank": selection_rank, "eid": np.arange(len(eligible)),
    })[survives].sort_values("selection_rank", kind="stable").reset_index(drop=True)
    cand["rank_in_symbol"] = cand.groupby("sym", sort=False).cumcount() + 1

    # int_selection_quotas_computed.
    max_per_symbol = int(cfg["max_per_symbol"])
    per_symbol = cand.groupby("sym", sort=False).size()
    stage_one = cand[cand["rank_in_symbol"] == 1]
    stage_one_by = stage_one["session"].value_counts()
    capacity = int(np.minimum(per_symbol.to_numpy(), max_per_symbol).sum())
    q = dict(target_effective=int(min(int(cfg["target_events"]), capacity)), capacity_events=capacity,
             symbols_with_candidates=len(per_symbol),
             stage_one_pm=int(stage_one_by.get(PM, 0)), stage_one_rth=int(stage_one_by.get(RTH, 0)),
             stage_one_ah=int(stage_one_by.get(AH, 0)))
    te = q["target_effective"]
    q["quota_pm"] = _round_half_away(te * float(cfg["pm_target"]))
    q["quota_ah"] = _round_half_away(te * float(cfg["ah_target"]))
    q["quota_rth"] = te - q["quota_pm"] - q["quota_ah"]
    q["ceiling_pm"] = math.floor(te * float(cfg["pm_max"]))

    # manifest_core: stage one, then the fill passes AH, PM, RTH within each symbol's remaining cap.
    pool = cand[cand["rank_in_symbol"] > 1]
    used = pd.Series(0, index=pd.Index([], dtype=np.int64), dtype=np.int64)
    fills = {}

    def fill(session: int, take: int) -> pd.DataFrame:
        rows = pool[pool["session"] == session]
        n_in_symbol = rows.groupby("sym", sort=False).cumcount() + 1
        cap = max_per_symbol - 1 - used.reindex(rows["sym"]).fillna(0).to_numpy()
        return rows[n_in_symbol.to_numpy() <= cap].head(max(take, 0))

    fills[AH] = fill(AH, q["quota_ah"] - q["stage_one_ah"])
    used = fills[AH].groupby("sym").size()
    shortfall = max(q["quota_ah"] - q["stage_one_ah"] - len(fills[AH]), 0)
    fills[PM] = fill(PM, min(q["quota_pm"] + shortfall, q["ceiling_pm"]) - q["stage_one_pm"])
    used = pd.concat([fills[AH], fills[PM]]).groupby("sym").size()
    fills[RTH] = fill(RTH, te - q["symbols_with_candidates"] - len(fills[AH]) - len(fills[PM]))
    selected = pd.concat([stage_one.assign(selection_stage="one"),
                          *(fills[s].assign(selection_stage="fill") for s in (AH, PM, RTH))])
    lap("quotas + 1+fill")

    # The manifest's columns.
    pos = selected["pos"].to_numpy()
    eid = selected["eid"].to_numpy()
    day = ev["day"][pos]
    et = ev["et"][pos]
    start_et = np.maximum(et - before * US_PER_MIN, day * US_PER_DAY + PM_START)
    end_et = np.minimum(et + after * US_PER_MIN, day * US_PER_DAY + ev["close_us"][pos] + 4 * US_PER_HOUR)
    manifest = pd.DataFrame({
        "event_id": event_id.take(pa.array(eid)).to_pandas(),
        "symbol": ev["symbol"].take(pa.array(pos)).to_pandas(),
        "session": SESSIONS[ev["session"][pos]],
        "event_ts_utc": ev["ts"][pos].astype("datetime64[us]"),
        "event_ts_et": et.astype("datetime64[us]"),
        "window_start_et": start_et.astype("datetime64[us]"),
        "window_end_et": end_et.astype("datetime64[us]"),
        "window_start_utc": et_to_utc(start_et).astype("datetime64[us]"),
        "window_end_utc": et_to_utc(end_et).astype("datetime64[us]"),
        "trading_date": day.astype("datetime64[D]"),
        "event_type": ev["event_type"].take(pa.array(pos)).to_pandas(),
        "score": ev["score"][pos],
        "selection_rank": selected["selection_rank"].to_numpy(),
        "selection_stage": selected["selection_stage"].to_numpy(),
    })
    manifest = manifest.sort_values("selection_rank", kind="stable")
    manifest["symbol_rank"] = manifest.groupby("symbol", sort=False).cumcount() + 1
    manifest = manifest.sort_values("event_id", kind="stable").reset_index(drop=True)
    lap("manifest")

    event_counts = np.bincount(reason, minlength=10)[1:]
    bar_counts = np.bincount(bar_reason, minlength=7)[1:]
    event_reasons = {name: int(n) for name, n in zip(EVENT_REASONS, event_counts, strict=False) if n}
    bar_reasons = {name: int(n) for name, n in zip(BAR_REASONS, bar_counts, strict=False) if n}
    counts = dict(input_rows=len(reason), enriched_events=len(kept), eligible_events=len(eligible),
                  surviving_events=len(cand), selected_events=len(manifest),
                  daily_bars=len(bar_reason), metric_days=len(metrics["day"]))
    return PeerResult(manifest, event_reasons, bar_reasons, counts, q, timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", required=True, help="events Parquet glob (dbt var events_path)")
    parser.add_argument("--daily", required=True, help="daily bars directory (dbt var daily_bars_dir)")
    parser.add_argument("--profile", default="core", help="a row of seeds/selection_profiles.csv")
    parser.add_argument("--seeds", default=str(SEEDS), help="directory of nyse_calendar.csv and selection_profiles.csv")
    parser.add_argument("--out", help="write the selected events (event_id, symbol, session, ...) to this Parquet file")
    parser.add_argument("--timings", action="store_true", help="print seconds per step")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = select_events(args.events, args.daily, args.profile, Path(args.seeds))
    if args.out:
        result.manifest.to_parquet(args.out, index=False)
    print(" ".join(f"{k}={v}" for k, v in result.counts.items()))
    print("selected by session: " + " ".join(
        f"{s}={n}" for s, n in sorted(result.manifest["session"].value_counts().items())))
    print("rejected events: " + " ".join(f"{k}={v}" for k, v in sorted(result.event_reasons.items())))
    print("rejected bars: " + (" ".join(f"{k}={v}" for k, v in sorted(result.bar_reasons.items())) or "none"))
    if args.timings:
        for step, seconds in result.timings.items():
            print(f"  {step:<24} {seconds:7.2f} s")
    print(f"done in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
