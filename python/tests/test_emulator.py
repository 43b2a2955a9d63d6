"""The emulator speaks the v3 trades/quotes API exactly, serves deterministic data, and fails
only in the documented, seeded ways. Every test talks to a real server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import random
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import massive
import numpy as np
import pytest
import requests

from tickwindows.emulator import counts, data, render
from tickwindows.emulator.data import expected_rows
from tickwindows.emulator.server import FAULT_KINDS, Emulator, EmulatorConfig, FaultPlan
from tickwindows.errors import BadInput
from tickwindows.settings import KINDS

NS = 1_000_000_000
ET = ZoneInfo("America/New_York")
DAY = date(2024, 3, 5)  # a Tuesday
OPEN = data.session_start_ns(DAY)  # 04:00 ET
RTH = OPEN + data.RTH_START_S * NS  # 09:30 ET
AH = OPEN + data.RTH_END_S * NS  # 16:00 ET
KEY = "test-key-123"
TIMEOUT = 15


def et(hh: int, mm: int, day: date = DAY) -> int:
    return int(datetime(day.year, day.month, day.day, hh, mm, tzinfo=ET).timestamp()) * NS


def fetch_all(emu: Emulator, kind: str, ticker: str, params: dict | None,
              max_pages: int = 500) -> tuple[list[dict], list[dict]]:
    """Follow next_url to the end (key in a Bearer header, as the official client does)."""
    headers = {"Authorization": f"Bearer {KEY}"}
    url, rows, pages = f"{emu.url}/v3/{kind}/{ticker}", [], []
    for _ in range(max_pages):
        r = requests.get(url, params=params, headers=headers, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        rows.extend(page["results"])
        if "next_url" not in page:
            return rows, pages
        url, params = page["next_url"], None
    raise AssertionError(f"more than {max_pages} pages")


ODD = 0.25  # the share of odd quotes the odd-quotes tests serve


def odd_kinds(quotes: list[dict]) -> set[str]:
    """Which of crossed, locked, zero_size and wide (> $5) occur among the quotes."""
    found = set()
    for q in quotes:
        bid, ask = q["bid_price"], q["ask_price"]
        if bid > ask:
            found.add("crossed")
        if bid == ask:
            found.add("locked")
        if ask - bid > 5:
            found.add("wide")
        if q["bid_size"] == 0 or q["ask_size"] == 0:
            found.add("zero_size")
    return found


ALL_ODD = {"crossed", "locked", "wide", "zero_size"}


def assert_strictly_ordered(rows: list[dict], descending: bool) -> None:
    keys = [(r["sip_timestamp"], r["sequence_number"]) for r in rows]
    assert keys == sorted(keys, reverse=descending)
    assert len(set(keys)) == len(keys), "duplicate rows"


@pytest.fixture(scope="module")
def emu():
    with Emulator(EmulatorConfig(api_key=KEY)) as e:
        yield e


# ---------------------------------------------------------------- pagination and bounds

@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pagination_concatenates_to_exactly_the_expected_rows(emu, order):
    lo, hi = RTH + 3600 * NS, RTH + 3600 * NS + 15 * 60 * NS
    rows, pages = fetch_all(emu, "trades", "AAPL", {"timestamp.gte": lo, "timestamp.lt": hi, "order": order,
                                                   "limit": 250})
    assert len(rows) == expected_rows("trades", "AAPL", lo, hi)
    assert len(pages) >= 4 and all(len(p["results"]) == 250 for p in pages[:-1])
    assert_strictly_ordered(rows, descending=order == "desc")
    assert all(lo <= r["sip_timestamp"] < hi for r in rows)
    assert all(re.fullmatch(r"[0-9a-f]{32}", p["request_id"]) and p["status"] == "OK" for p in pages)


def test_hot_window_spans_many_full_pages_of_50000(emu):
    lo, hi = RTH, RTH + 60 * NS  # one minute of a hot name at the open
    rows, pages = fetch_all(emu, "quotes", "HOTX", {"timestamp.gte": lo, "timestamp.lt": hi, "order": "asc",
                                                   "limit": 50000})
    assert len(rows) == expected_rows("quotes", "HOTX", lo, hi) > 50000
    assert [len(p["results"]) for p in pages[:-1]] == [50000] * (len(pages) - 1)
    assert_strictly_ordered(rows, descending=False)


def test_bounds_are_honoured_at_nanosecond_precision_including_shared_timestamps(emu):
    lo, hi = RTH + 7200 * NS, RTH + 7260 * NS
    rows, _ = fetch_all(emu, "trades", "HOTX", {"timestamp.gte": lo, "timestamp.lt": hi, "order": "asc",
                                               "limit": 50000})
    stamps = [r["sip_timestamp"] for r in rows]
    tied = next(t for i, t in enumerate(stamps[1:], 1) if t == stamps[i - 1])  # a multi-print
    n_tied = stamps.count(tied)

    def count(**bounds) -> int:
        got, _ = fetch_all(emu, "trades", "HOTX", {**bounds, "order": "asc", "limit": 50000})
        return len(got)

    before = sum(1 for t in stamps if t < tied)
    assert count(**{"timestamp.gte": lo, "timestamp.lt": tied}) == before
    assert count(**{"timestamp.gte": lo, "timestamp.lte": tied}) == before + n_tied
    assert count(**{"timestamp.gt": tied, "timestamp.lt": hi}) == len(stamps) - before - n_tied
    assert count(**{"timestamp.gte": tied, "timestamp.lt": hi}) == len(stamps) - before
    assert count(timestamp=tied) == n_tied
    assert count(timestamp=tied + 1) == stamps.count(tied + 1)
    # expected_rows agrees on every edge, and is additive at arbitrary ns cut points
    assert expected_rows("trades", "HOTX", lo, tied) == before
    assert expected_rows("trades", "HOTX", tied, tied + 1) == n_tied
    for cut in (lo + 1, tied, tied + 1, lo + 12_345_678_901, hi - 1):
        assert expected_rows("trades", "HOTX", lo, cut) + expected_rows("trades", "HOTX", cut, hi) == len(stamps)


def test_a_date_means_the_whole_new_york_day_and_rfc3339_is_accepted(emu):
    rows, _ = fetch_all(emu, "trades", "QUIETB", {"timestamp": "2024-07-09", "order": "asc", "limit": 50000})
    assert len(rows) == expected_rows("trades", "QUIETB", et(0, 0, date(2024, 7, 9)), et(0, 0, date(2024, 7, 10)))
    first = datetime.fromtimestamp(rows[0]["sip_timestamp"] / NS, ET)
    last = datetime.fromtimestamp(rows[-1]["sip_timestamp"] / NS, ET)
    assert first.hour == 4 and (last.hour, last.minute) >= (19, 30) and last.hour < 20
    lo_text = "2024-07-09T13:30:00Z"  # 09:30 EDT
    got, _ = fetch_all(emu, "trades", "QUIETB", {"timestamp.gte": lo_text, "timestamp.lt": "2024-07-09T14:30:00.5Z",
                                                "order": "asc", "limit": 50000})
    lo = et(9, 30, date(2024, 7, 9))
    assert len(got) == expected_rows("trades", "QUIETB", lo, lo + 3600 * NS + NS // 2) > 0


def test_no_data_outside_sessions_weekends_and_for_nodata_tickers(emu):
    for kind, ticker, params in [
        ("trades", "NODATA1", {"timestamp": "2024-03-05"}),
        ("quotes", "AAPL", {"timestamp": "2024-03-09"}),  # a Saturday
        ("trades", "AAPL", {"timestamp.gte": et(20, 0), "timestamp.lt": et(23, 59)}),
        ("trades", "aapl", {"timestamp": "2024-03-05"}),  # tickers are case-sensitive
    ]:
        r = requests.get(f"{emu.url}/v3/{kind}/{ticker}", params={**params, "apiKey": KEY}, timeout=TIMEOUT)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "OK" and body["results"] == [] and "next_url" not in body


def test_activity_levels_follow_heat_and_time_of_day():
    hot_rth = expected_rows("quotes", "HOTSMALL", et(10, 0), et(10, 20))
    quiet_ah = sum(expected_rows(k, "QUIETCO", et(17, 0), et(17, 20)) for k in KINDS)
    pm = expected_rows("trades", "AAPL", et(6, 0), et(6, 20))
    rth = expected_rows("trades", "AAPL", et(12, 0), et(12, 20))
    assert hot_rth >= 200_000  # many 50,000-row pages
    assert 100 <= quiet_ah <= 1000  # a few hundred rows
    assert rth > 2 * pm
    assert expected_rows("trades", "AAPL", et(9, 30), et(9, 35)) > expected_rows("trades", "AAPL", et(12, 0), et(12, 5))


def test_a_50000_row_page_is_generated_fast():
    data.second_rows.cache_clear()
    # CPU time of this thread, not wall time: other processes on a loaded machine cannot stretch it.
    started = time.thread_time()
    rows, _, more = data.scan("quotes", "HOTPERF", et(11, 0), et(12, 0), False, None, 50000)
    assert len(rows) == 50000 and more
    assert time.thread_time() - started < 1.5


# ---------------------------------------------------------------- vectorised pages = the reference rows

@pytest.mark.parametrize("kind, odd", [("trades", 0.0), ("quotes", 0.0), ("quotes", ODD)])
def test_vectorised_rows_are_the_reference_rows_byte_for_byte(kind, odd):
    """render.block (numpy values, text.Rows bytes) against data.second_rows (the per-row Python
    definition): busy, ordinary, quiet and sub-dollar (4-decimal prices) tickers, pre-market to
    after-hours, in order and in a shuffled order; quotes also with odd quotes on."""
    rnd = random.Random(kind)
    quotes: list[dict] = []
    compared = 0
    for ticker in ("HOTX", "HOT1", "AAPL", "QUIETB", "BRK.B"):
        for day in (DAY, date(2024, 7, 9), date(2023, 11, 24)):
            prefix = data.day_prefix(kind, ticker, day.toordinal())
            busy = [s for s in range(data.SESSION_SECONDS) if prefix[s + 1] > prefix[s]]
            first = rnd.randrange(max(1, len(busy) - 200))
            seconds = busy[first: first + 200]
            got = render.block(kind, ticker, day, np.array(seconds, dtype=np.int64), odd=odd)
            sips, seqs, rows = [], [], []
            for s in seconds:
                a, b, c = data.second_rows(kind, ticker, day, s, odd)
                sips += a
                seqs += b
                rows += [r + "," for r in c]
            assert got.sips.tolist() == sips and got.seqs.tolist() == seqs
            assert got.json(np.arange(len(rows))) == "".join(rows).encode()
            shuffled = np.random.default_rng(compared).permutation(len(rows))
            assert got.json(shuffled) == "".join(rows[i] for i in shuffled).encode()
            compared += len(rows)
            if kind == "quotes" and ticker in ("HOTX", "HOT1"):
                quotes += [json.loads(r[:-1]) for r in rows]
    assert data.price_path("HOT1", DAY.toordinal()).tick == 0.0001 and compared > 20_000
    assert odd_kinds(quotes) == (ALL_ODD if odd else set())


@pytest.mark.parametrize("kind", KINDS)
def test_count_tables_are_the_reference_counts(kind, monkeypatch):
    """counts.DayCounts (numpy, log space, extended piece by piece) against data.day_prefix (the
    per-second Python loop): hot, ordinary, quiet and odd tickers, whole days in random steps, and
    the plain-Python fallback that settles decisions too close to call in log space."""
    rnd = random.Random(kind)
    for ticker, day in [("HOTX", DAY), ("HOT1", date(2024, 7, 9)), ("AAPL", DAY), ("QUIETB", date(2023, 11, 24)),
                        ("BRK.B", date(2025, 6, 2)), ("QTL", date(2025, 10, 17)), ("KYW", date(2025, 6, 9))]:
        ref = np.frombuffer(data.day_prefix(kind, ticker, day.toordinal()), dtype=np.uint32).astype(np.int64)
        table = counts.DayCounts(kind, ticker, day.toordinal())
        for second in [*sorted(rnd.sample(range(1, data.SESSION_SECONDS), 3)), data.SESSION_SECONDS]:
            got = table.upto(second)
            assert np.array_equal(got[: table.done + 1], ref[: table.done + 1]), (ticker, day, second)
        assert table.done == data.SESSION_SECONDS
    monkeypatch.setattr(counts, "MARGIN", 1e9)  # nothing is clear: every Knuth run goes the exact way
    ref = np.frombuffer(data.day_prefix(kind, "AAPL", DAY.toordinal()), dtype=np.uint32).astype(np.int64)
    assert np.array_equal(counts.DayCounts(kind, "AAPL", DAY.toordinal()).upto(data.SESSION_SECONDS), ref)


@pytest.mark.parametrize("odd", [0.0, ODD])
def test_rendered_pages_are_the_reference_scan_in_both_orders_across_cursors(odd):
    rnd = random.Random(9)
    for _ in range(40):
        kind, ticker = rnd.choice(KINDS), rnd.choice(["AAPL", "HOTX", "QUIETB", "NODATA1", "BRK.B"])
        lo = et(rnd.randrange(3, 21), rnd.randrange(60)) + rnd.randrange(NS)
        hi = lo + rnd.choice([NS // 3, 60 * NS, 3600 * NS, 3 * 86400 * NS])
        descending, limit, after = rnd.random() < 0.4, rnd.choice([1, 7, 250, 5000, 50000]), None
        for _ in range(4):
            rows, last, more = data.scan(kind, ticker, lo, hi, descending, after, limit, odd)
            page = render.page(kind, ticker, lo, hi, descending, after, limit, odd)
            assert (page.rows, page.count, page.last, page.more) == (",".join(rows).encode(), len(rows), last, more)
            if not more:
                break
            after = last


# sha256 of render.page's bytes, (count, last key, more): pages as the emulator served them before its
# pages were vectorised (and every version since). A change to a single served byte fails here, even
# one made to the reference definitions in data.py as well.
# The last one has odd quotes (a share of 0.25), pinned when they were added.
PINNED_PAGES = [
    (("quotes", "HOTX", 1709650800000000000, 1709650805000000000, False, None, 50000),
     "38b0d6f72794922b7a77f222cfa4e0075ae277c3983c35b3420ebfcaac4ac86c", 1330, (1709650804993550428, 4764869), False),
    (("trades", "AAPL", 1709654400000000000, 1709656200000000000, False, None, 1000),
     "54b5d898a566db2c283fd493e9f7b6d509c29b379f8921bcfd7ec616f6bfd9ae", 1000, (1709654943012857253, 64841), True),
    (("trades", "AAPL", 1709654400000000000, 1709656200000000000, True, None, 1000),
     "b1419350bc1a7574e67f1d0a567dfc2e87b42dad1f09175445009740c97594db", 1000, (1709655647063781688, 68858), True),
    (("quotes", "QUIETB", 1709676000000000000, 1709677200000000000, False, None, 50000),
     "3495cb96f8896896b4a0daa8b28dfe0d820267ab7be71c8fc5359ffea5f2c953", 107, (1709677195781300809, 93292), False),
    (("trades", "HOT1", 1720531740000000000, 1720531860000000000, False, None, 50000),  # sub-dollar prices
     "8daa96db057e4790eb1640a480a0603ca07c485947311098f243f850e2a7d275", 9217, (1720531859995850275, 209840), False),
    (("quotes", "BRK.B", 1709945700000000000, 1710144300000000000, True, None, 50000),  # Friday evening to Monday
     "128568328ec59877d010728cf8a596ec49cd30c934925449b119c3efcaee51ff", 15, (1709945772960079434, 101496), False),
    (("trades", "KYW", 1749492000000000000, 1749493800000000000, False, None, 50000),  # a bench window
     "222b711f43a3db45b186e349af284326be79b29cf30b78f87c0d581712b209c1", 5609, (1749493799478179661, 218762), False),
    (("quotes", "HOTX", 1709650800000000000, 1709650805000000000, False, None, 50000, ODD),  # odd quotes
     "85684f96399c49cbb299d1d4136088583f7958b6b7cd90cbbfee89d25ea4a927", 1330, (1709650804993550428, 4764869), False),
]


@pytest.mark.parametrize("args, sha256, count, last, more", PINNED_PAGES, ids=lambda v: None)
def test_pages_are_byte_for_byte_the_pinned_ones(args, sha256, count, last, more):
    size = render.CACHE.max_bytes
    render.CACHE.resize(0)  # render, don't serve from the cache
    try:
        page = render.page(*args)
    finally:
        render.CACHE.resize(size)
    assert (hashlib.sha256(page.rows).hexdigest(), page.count, page.last, page.more) == (sha256, count, last, more)


def test_the_body_is_the_reference_rows_in_the_v3_shape_with_or_without_gzip(emu):
    lo, hi = et(11, 0), et(11, 0) + 30 * NS
    params = {"timestamp.gte": lo, "timestamp.lt": hi, "order": "asc", "limit": 500}
    headers = {"Authorization": f"Bearer {KEY}"}
    plain = requests.get(f"{emu.url}/v3/quotes/HOTX", params=params, timeout=TIMEOUT,
                         headers={**headers, "Accept-Encoding": "identity"})
    zipped = requests.get(f"{emu.url}/v3/quotes/HOTX", params=params, timeout=TIMEOUT,
                          headers={**headers, "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers and zipped.headers["Content-Encoding"] == "gzip"
    rows, _, more = data.scan("quotes", "HOTX", lo, hi, False, None, 500)
    assert more
    for r in (plain, zipped):
        body = r.json()
        cursor = body["next_url"].split("cursor=")[1]
        expected = ('{"results":[' + ",".join(rows) + '],"status":"OK","request_id":"' + body["request_id"]
                    + f'","next_url":"{emu.url}/v3/quotes/HOTX?cursor={cursor}"' + "}")
        assert r.content == expected.encode()


def test_odd_quotes_are_opt_in_and_never_served_from_the_other_modes_cache():
    """Two emulators in one process, one serving odd quotes and one not: the same window gives each its
    own bytes (the mode is part of the page cache key), each the reference scan of its mode; the odd
    quotes depend on ticker and time only (another seed and faults serve the same rows); trades are the
    same in both modes."""
    lo, hi = et(9, 31), et(9, 31) + 20 * NS
    params = {"timestamp.gte": lo, "timestamp.lt": hi, "order": "asc", "limit": 50000}
    headers = {"Authorization": f"Bearer {KEY}"}
    with (Emulator(EmulatorConfig(api_key=KEY, odd_quotes=ODD)) as odd,
          Emulator(EmulatorConfig(api_key=KEY)) as plain,
          Emulator(EmulatorConfig(api_key=KEY, seed=8, fault_rate=0.3, faults=("500", "null_results"),
                                  odd_quotes=ODD)) as odd_faulty):
        served = {}
        for name, e in (("odd", odd), ("plain", plain), ("odd", odd), ("plain", plain)):  # the 2nd: from the cache
            r = requests.get(f"{e.url}/v3/quotes/HOTX", params=params, headers=headers, timeout=TIMEOUT)
            assert r.status_code == 200
            served.setdefault(name, []).append(r.json()["results"])
        odd_trades, _ = fetch_all(odd, "trades", "HOTX", params)
        plain_trades, _ = fetch_all(plain, "trades", "HOTX", params)
        faulty_rows = fetch_with_retries(odd_faulty, "quotes", "HOTX", params)
        assert sum(odd_faulty.stats["by_fault"].values()) > 0
    for name, odd_share in (("odd", ODD), ("plain", 0.0)):
        rows, _, more = data.scan("quotes", "HOTX", lo, hi, False, None, 50000, odd_share)
        assert not more and served[name][0] == served[name][1] == [json.loads(r) for r in rows]
    assert served["odd"][0] != served["plain"][0] and len(served["odd"][0]) == len(served["plain"][0])
    assert odd_kinds(served["odd"][0]) == ALL_ODD and odd_kinds(served["plain"][0]) == set()
    assert faulty_rows == served["odd"][0]
    # only the prices and sizes of the odd quotes differ
    changed = [(a, b) for a, b in zip(served["odd"][0], served["plain"][0], strict=True) if a != b]
    assert 0.15 < len(changed) / len(served["odd"][0]) < 0.35
    assert all({k for k in a if a[k] != b[k]} <= {"bid_price", "ask_price", "bid_size", "ask_size"}
               for a, b in changed)
    assert odd_trades == plain_trades


# ---------------------------------------------------------------- the official client

@pytest.fixture(scope="module")
def odd_emu():
    with Emulator(EmulatorConfig(api_key=KEY, odd_quotes=ODD)) as e:
        yield e


@pytest.mark.parametrize("server", ["emu", "odd_emu"])
def test_official_client_parses_every_page_and_field_as_served(server, request):
    emu = request.getfixturevalue(server)
    lo, hi = et(11, 0), et(11, 0) + 90 * NS
    client = massive.RESTClient(api_key=KEY, base=emu.url, retries=0)
    for kind, lister, optional in [
        ("trades", client.list_trades, {"conditions", "correction", "trf_id", "trf_timestamp"}),
        ("quotes", client.list_quotes, {"conditions", "indicators", "trf_timestamp"}),
    ]:
        served, pages = fetch_all(emu, kind, "HOTX", {"timestamp.gte": lo, "timestamp.lt": hi, "order": "asc",
                                                     "limit": 500})
        parsed = list(lister("HOTX", timestamp_gte=lo, timestamp_lt=hi, order="asc", limit=500))
        assert len(pages) > 3 and len(parsed) == len(served) == expected_rows(kind, "HOTX", lo, hi)
        seen = set()
        for raw, model in zip(served, parsed, strict=True):
            seen.update(raw)
            for field in model.__dataclass_fields__:
                assert getattr(model, field) == raw.get(field), (kind, field, raw)
        assert optional <= seen, f"{kind}: optional fields never served: {optional - seen}"
        assert all(k in r for r in served for k in ("sip_timestamp", "participant_timestamp", "sequence_number"))
        if kind == "quotes":  # odd quotes keep the v3 types: integer sizes (0 too), prices numbers
            assert odd_kinds(served) == (ALL_ODD if server == "odd_emu" else set())
            assert all(type(r[f]) is int for r in served for f in ("bid_size", "ask_size"))
            assert all(type(r[f]) in (int, float) and r[f] > 0 for r in served for f in ("bid_price", "ask_price"))


def test_official_client_defaults_newest_first_1000_per_page(emu):
    client = massive.RESTClient(api_key=KEY, base=emu.url, retries=0)
    lo, hi = et(15, 0), et(16, 0)
    trades = list(client.list_trades("AAPL", timestamp_gte=lo, timestamp_lt=hi))
    assert len(trades) == expected_rows("trades", "AAPL", lo, hi) > 1000
    keys = [(t.sip_timestamp, t.sequence_number) for t in trades]
    assert keys == sorted(keys, reverse=True)


# ---------------------------------------------------------------- determinism

def test_data_do_not_depend_on_seed_or_faults():
    params = {"timestamp.gte": et(9, 29), "timestamp.lt": et(9, 33), "order": "desc", "limit": 200}
    with Emulator(EmulatorConfig(seed=1, api_key=KEY)) as a, Emulator(EmulatorConfig(seed=99, api_key=KEY)) as b:
        rows_a, _ = fetch_all(a, "quotes", "AAPL", params)
        rows_b, _ = fetch_all(b, "quotes", "AAPL", params)
    assert rows_a == rows_b and len(rows_a) == expected_rows("quotes", "AAPL", et(9, 29), et(9, 33))

    faulty = EmulatorConfig(seed=5, api_key=KEY, fault_rate=0.35, slow_s=0.05, storm_length=(1, 2))
    with Emulator(faulty) as f:
        rows_f = fetch_with_retries(f, "quotes", "AAPL", params)
        assert sum(f.stats["by_fault"].values()) >= 5 and len(rows_a) > 20 * 200
    assert rows_f == rows_a


def fetch_with_retries(emu: Emulator, kind: str, ticker: str, params: dict) -> list[dict]:
    """What a careful downloader does: retry anything odd, follow next_url, keep going."""
    url, rows, attempts = f"{emu.url}/v3/{kind}/{ticker}", [], 0
    headers = {"Authorization": f"Bearer {KEY}"}
    while attempts < 400:
        attempts += 1
        try:
            r = requests.get(url, params=params, headers=headers, timeout=TIMEOUT)
            page = r.json() if r.status_code == 200 else None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, ValueError):
            continue
        if page is None:
            continue
        if page["results"] is not None:
            rows.extend(page["results"])
        if "next_url" not in page:
            return rows
        url, params = page["next_url"], None
    raise AssertionError("gave up after 400 attempts")


# ---------------------------------------------------------------- faults

def one_request(config: EmulatorConfig, then=None) -> tuple[dict, object, object]:
    """(stats, response or exception, then(response) while the server still runs)."""
    with Emulator(config) as e:
        query = {"timestamp.gte": et(10, 0), "timestamp.lt": et(10, 1), "limit": 50}
        try:
            outcome = requests.get(e.url + "/v3/trades/AAPL", params=query, timeout=TIMEOUT)
        except requests.RequestException as exc:
            outcome = exc
        extra = then(outcome) if then else None
        return e.stats, outcome, extra


def test_every_fault_kind_occurs_with_its_documented_shape():
    fault_free = one_request(EmulatorConfig())[1].json()
    assert len(fault_free["results"]) == 50
    for kind in FAULT_KINDS:
        stats, r, _ = one_request(EmulatorConfig(fault_rate=1.0, faults=(kind,), slow_s=0.3))
        assert stats["by_fault"] == {kind: 1}, kind
        if kind in ("429", "500", "503"):
            body = r.json()
            assert r.status_code == int(kind) and body["status"] == "ERROR" and body["error"]
            assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
            assert (r.headers.get("Retry-After") == "1") == (kind == "429")
        elif kind == "502":
            assert r.status_code == 502 and "502 Bad Gateway" in r.text and r.headers["Content-Type"] == "text/html"
        elif kind in ("reset", "truncate"):
            assert isinstance(r, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)), (kind, r)
        elif kind == "malformed":
            assert r.status_code == 200
            with pytest.raises(ValueError):
                r.json()
        elif kind == "slow":
            assert r.elapsed.total_seconds() >= 0.3 and r.json()["results"] == fault_free["results"]
        elif kind == "null_results":
            body = r.json()
            assert r.status_code == 200 and body["results"] is None and body["status"] == "OK"
            # cursors are self-contained: any emulator continues from the same position
            with Emulator() as healthy:
                cursor_path = body["next_url"].split("/", 3)[3]
                followed = requests.get(f"{healthy.url}/{cursor_path}", timeout=TIMEOUT).json()
            assert followed["results"] == fault_free["results"]


def test_429_storms_are_bursts_and_retry_after_can_be_omitted():
    plan = FaultPlan(EmulatorConfig(seed=3, fault_rate=0.1, faults=("429",), storm_length=(3, 3)))
    draws = "".join("x" if plan.draw() else "." for _ in range(2000))
    runs = [len(run) for run in re.findall(r"x+(?=\.)", draws)]  # storms cut off by the end don't count
    assert runs and all(n >= 3 and n % 3 == 0 for n in runs)
    _, r, _ = one_request(EmulatorConfig(fault_rate=1.0, faults=("429",), retry_after=False))
    assert r.status_code == 429 and "Retry-After" not in r.headers


def test_fault_sequence_is_reproducible_from_the_seed():
    def draws(seed: int) -> list:
        plan = FaultPlan(EmulatorConfig(seed=seed, fault_rate=0.3))
        return [plan.draw() for _ in range(300)]

    assert draws(7) == draws(7) != draws(8)
    assert set(draws(7)) >= set(FAULT_KINDS) | {None}


# ---------------------------------------------------------------- errors, auth, rate limit

@pytest.mark.parametrize("params, fragment", [
    ({"timestamp.gte": "yesterday"}, "timestamp.gte"),
    ({"timestamp": "2024-13-45"}, "'timestamp'"),
    ({"timestamp.lt": "12:00"}, "timestamp.lt"),
    ({"order": "up"}, "order"),
    ({"sort": "price"}, "sort"),
    ({"limit": "0"}, "limit"),
    ({"limit": "50001"}, "50000"),
    ({"limit": "ten"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "YXA9MSZhcz0y"}, "cursor"),  # base64 of a query missing its fields
])
def test_bad_parameters_get_400_in_the_api_shape(emu, params, fragment):
    r = requests.get(f"{emu.url}/v3/trades/AAPL", params={**params, "apiKey": KEY}, timeout=TIMEOUT)
    body = r.json()
    assert r.status_code == 400 and body["status"] == "ERROR" and fragment in body["error"]
    assert list(body) == ["status", "request_id", "error"]


def test_auth_entitlement_and_unknown_paths(emu):
    url = f"{emu.url}/v3/trades/AAPL"
    missing = requests.get(url, timeout=TIMEOUT)
    wrong = requests.get(url, params={"apiKey": "nope"}, timeout=TIMEOUT)
    wrong_bearer = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=TIMEOUT)
    assert (missing.status_code, missing.json()["error"]) == (401, "API Key was not provided")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "Unknown API Key")
    assert wrong_bearer.status_code == 401
    denied = requests.get(f"{emu.url}/v3/quotes/NOAUTHX", params={"apiKey": KEY}, timeout=TIMEOUT)
    assert denied.status_code == 403 and denied.json()["status"] == "NOT_AUTHORIZED" and denied.json()["message"]
    lost = requests.get(f"{emu.url}/v2/ticks/stocks/trades/AAPL/2024-03-05", params={"apiKey": KEY}, timeout=TIMEOUT)
    assert lost.status_code == 404 and lost.json()["status"] == "NOT_FOUND"


def test_api_key_never_appears_in_next_url_and_the_cursor_is_opaque(emu):
    r = requests.get(f"{emu.url}/v3/quotes/AAPL", params={"timestamp": "2024-03-05", "limit": 5, "apiKey": KEY},
                     timeout=TIMEOUT)
    next_url = r.json()["next_url"]
    assert KEY not in next_url and "apiKey" not in next_url
    assert re.fullmatch(re.escape(emu.url) + r"/v3/quotes/AAPL\?cursor=[A-Za-z0-9_-]+", next_url)
    assert requests.get(next_url, timeout=TIMEOUT).status_code == 401  # still needs the key
    # a downloader may append the key to next_url as a parameter; the default order is newest first
    follow = requests.get(next_url, params={"apiKey": KEY}, timeout=TIMEOUT).json()
    last = r.json()["results"][-1]
    assert (follow["results"][0]["sip_timestamp"], follow["results"][0]["sequence_number"]) < (
        last["sip_timestamp"], last["sequence_number"])


def test_rate_limit_is_enforced_with_retry_after():
    per_minute = EmulatorConfig(rate_limit=5, rate_limit_window_s=60.0)  # the free plan's 5/minute
    with Emulator(per_minute) as e, requests.Session() as s:
        codes = [s.get(f"{e.url}/v3/trades/NODATA", timeout=TIMEOUT).status_code for _ in range(12)]
        assert codes == [200] * 5 + [429] * 7
        limited = s.get(f"{e.url}/v3/trades/NODATA", timeout=TIMEOUT)
        assert limited.status_code == 429 and 10 <= int(limited.headers["Retry-After"]) <= 12
        assert "exceeded the maximum requests" in limited.json()["error"]
        assert e.stats["by_status"] == {200: 5, 429: 8}
    with Emulator(EmulatorConfig(rate_limit=10)) as e, requests.Session() as s:
        # Ask until refused (a burst of 10, then 10/s): however slow a loaded machine sends, a few
        # hundred requests overtake the refill (no count of requests per wall second is assumed).
        codes = []
        while 429 not in codes and len(codes) < 500:
            codes.append(s.get(f"{e.url}/v3/trades/NODATA", timeout=TIMEOUT).status_code)
        assert codes[-1] == 429 and codes[:10] == [200] * 10
        time.sleep(0.25)  # 10/s refills a token every 0.1 s
        assert s.get(f"{e.url}/v3/trades/NODATA", timeout=TIMEOUT).status_code == 200


def test_concurrent_clients_each_get_the_full_ordered_window(emu):
    lo, hi = et(13, 0), et(13, 10)
    results: dict[int, list] = {}

    def worker(i: int) -> None:
        results[i], _ = fetch_all(emu, "quotes", "AAPL", {"timestamp.gte": lo, "timestamp.lt": hi, "order": "asc",
                                                          "limit": 700})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 4 and all(rows == results[0] for rows in results.values())
    assert len(results[0]) == expected_rows("quotes", "AAPL", lo, hi)


def test_config_rejects_bad_values_naming_them():
    with pytest.raises(BadInput, match="teapot"):
        EmulatorConfig(faults=("429", "teapot"))
    with pytest.raises(BadInput, match="fault_rate"):
        EmulatorConfig(fault_rate=1.5)
    with pytest.raises(BadInput, match="odd_quotes"):
        EmulatorConfig(odd_quotes=-0.1)
    with pytest.raises(BadInput, match=r"127.0.0.1"):
        Emulator(host="0.0.0.0")


# ---------------------------------------------------------------- the command

EMULATOR_CMD = [sys.executable, "-X", "faulthandler", "-c", "from tickwindows.cli import main; main()", "emulator"]


@pytest.mark.parametrize(("stop_with", "sigint_ignored"), [
    ("SIGINT", False),  # Ctrl-C in a terminal
    ("SIGINT", True),   # started with `&` by a non-interactive shell (a script, a CI job): SIGINT inherited ignored
    ("SIGTERM", False),  # kill, a service manager
])
def test_cli_serves_until_stopped_and_reports_stats(stop_with: str, sigint_ignored: bool):
    # -X faulthandler: should it ever not stop, SIGABRT makes it print every thread's stack for the failure.
    cmd = [*EMULATOR_CMD, "--port", "0", "--seed", "4", "--latency-ms", "5", "--api-key", KEY]
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=ignore)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        r = requests.get(f"{url}/v3/trades/QUIETA", params={"timestamp": "2024-03-05", "limit": 3, "apiKey": KEY},
                         timeout=TIMEOUT)
        assert r.status_code == 200 and len(r.json()["results"]) == 3
        proc.send_signal(getattr(signal, stop_with))
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            stacks, _ = proc.communicate(timeout=15)
            pytest.fail(f"the emulator did not stop within 15 s of {stop_with}; its output and threads:\n{stacks}")
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "1 requests, 3 rows served" in out


def test_cli_documents_odd_quotes_and_refuses_a_share_outside_0_to_1():
    from click.testing import CliRunner

    from tickwindows.cli import cli

    shown = CliRunner().invoke(cli, ["emulator", "--help"])
    assert shown.exit_code == 0 and "--odd-quotes SHARE" in shown.output and "crossed" in shown.output
    refused = CliRunner().invoke(cli, ["emulator", "--odd-quotes", "1.5"])
    assert refused.exit_code == 2 and "--odd-quotes" in refused.output


def test_cli_refuses_a_host_other_than_loopback():
    refused = subprocess.run([*EMULATOR_CMD, "--host", "0.0.0.0"], capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "127.0.0.1" in refused.stderr
