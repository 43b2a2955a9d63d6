"""The download client's two JSON paths agree: on every page the fast path (pyarrow.json on the raw
bytes) accepts, the reference path (the original json.loads + per-row checks + pa.array code) gives
the same table, next_url and last timestamp; on every page the reference path refuses, the fast
path declines (and so the reference path's error is what the run sees).

Pages: the emulator's own (trades and quotes, busy, quiet and empty tickers, several page sizes),
its fault bodies (malformed, null results, truncated), and seeded mutations of them (wrong types in
every column, nulls, missing keys, NaN/Infinity, integers past 2**53 in float columns, duplicate
keys, escapes, non-ASCII bytes, whitespace, rows out of order or out of the window, unknown fields,
odd status and next_url values, truncation at random bytes).
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tickwindows.download.pages import DecodedPage, fast_page, reference_page
from tickwindows.download.polygon import Redactor
from tickwindows.download.tickfiles import SCHEMAS
from tickwindows.emulator import render
from tickwindows.errors import RetryableError

NS = 1_000_000_000
ET = ZoneInfo("America/New_York")
REDACT = Redactor(None)


def et(hh: int, mm: int, day: date = date(2024, 3, 5)) -> int:
    return int(datetime(day.year, day.month, day.day, hh, mm, tzinfo=ET).timestamp()) * NS


def emulator_body(kind: str, ticker: str, lo: int, hi: int, limit: int, after: tuple[int, int] | None = None) -> bytes:
    found = render.page(kind, ticker, lo, hi, False, after, limit)
    tail = '],"status":"OK","request_id":"0123456789abcdef0123456789abcdef"'
    if found.more:
        tail += ',"next_url":"http://127.0.0.1:8765/v3/' + kind + '/' + ticker + '?cursor=abc"'
    return b'{"results":[' + found.rows + (tail + "}").encode()


def outcome(body: bytes, kind: str, lo: int, hi: int, last_ts: int | None = None,
            first_page: bool = True) -> tuple[DecodedPage | None, DecodedPage | RetryableError]:
    fast = fast_page(body, kind, lo, hi, last_ts)
    try:
        ref: DecodedPage | RetryableError = reference_page(body, kind, lo, hi, last_ts, first_page=first_page,
                                                           url="http://127.0.0.1:1/v3/x", redact=REDACT)
    except RetryableError as exc:
        ref = exc
    return fast, ref


def assert_agree(body: bytes, kind: str, lo: int, hi: int, last_ts: int | None = None) -> bool:
    """True when the fast path took the page (and agreed), False when it left it to the reference path."""
    fast, ref = outcome(body, kind, lo, hi, last_ts)
    if fast is None:
        return False
    assert isinstance(ref, DecodedPage), f"the fast path accepted a page the reference path refuses: {ref}"
    assert fast.table.schema == ref.table.schema
    assert fast.table.equals(ref.table), body[:300]
    assert (fast.next_url, fast.last_ts) == (ref.next_url, ref.last_ts)
    return True


WINDOWS = [
    ("trades", "HOTX", et(9, 30), et(9, 31), 50_000),
    ("quotes", "HOTX", et(11, 0), et(11, 1), 50_000),
    ("quotes", "HOTX", et(11, 0), et(11, 5), 7_000),
    ("trades", "AAPL", et(15, 0), et(15, 30), 50_000),
    ("quotes", "AAPL", et(6, 0), et(8, 0), 1_000),
    ("trades", "QUIETB", et(16, 0), et(20, 0), 50_000),
    ("quotes", "BRK.B", et(19, 0), et(19, 59), 50_000),
    ("trades", "NODATAX", et(9, 0), et(10, 0), 50_000),
]


@pytest.mark.parametrize("kind, ticker, lo, hi, limit", WINDOWS)
def test_the_fast_path_takes_the_emulators_pages_and_agrees(kind: str, ticker: str, lo: int, hi: int,
                                                           limit: int) -> None:
    body = emulator_body(kind, ticker, lo, hi, limit)
    assert assert_agree(body, kind, lo, hi), "the fast path declined an ordinary page"
    fast, ref = outcome(body, kind, lo, hi)
    assert isinstance(ref, DecodedPage) and ref.table.schema == SCHEMAS[kind]
    if ref.table.num_rows:  # a page starting before the previous page's last row is a fault for both
        fast, ref = outcome(body, kind, lo, hi, last_ts=hi - 1)
        assert fast is None and isinstance(ref, RetryableError) and "not ascending" in str(ref)


def test_fault_bodies_are_left_to_the_reference_path() -> None:
    kind, lo, hi = "quotes", et(11, 0), et(11, 1)
    good = emulator_body(kind, "HOTX", lo, hi, 50_000)
    bodies = [
        good[: len(good) // 2] + b'",,]',  # the emulator's "malformed" fault
        good[: len(good) // 2],  # a body cut short
        b'{"results":null,"status":"OK","request_id":"r","next_url":"http://127.0.0.1:1/v3/quotes/X?cursor=a"}',
        b'{"status":"ERROR","request_id":"r","error":"Internal server error"}',
        b"",
    ]
    for body in bodies:
        fast, ref = outcome(body, kind, lo, hi)
        assert fast is None and isinstance(ref, RetryableError), body[:100]
    # "no data": an empty first page is fine for both
    assert isinstance(outcome(b'{"results":null,"status":"OK"}', kind, lo, hi)[1], DecodedPage)


WRONG_VALUES = [
    "1.5", "4.0", "-0", "0", "1e2", "1E400", "1e-400", "-1e999", "NaN", "Infinity", "-Infinity", "true", "false",
    "null", '"7"', '"1.5"', '""', '"\\u00e9"', "[]", "[1]", "[1.0]", '["a"]', "[null]", "[[1]]", "{}",
    '{"a":1}', "9007199254740992", "9007199254740993", "-9007199254740993", "2147483648", "-2147483649",
    "9223372036854775807", "9223372036854775808", "18446744073709551616", "123456789012345678901234567890",
    "20.3200000000000000000000000001", "0.1", "1e16", "12345678901234567", "-5",
]


def mutations(body: bytes, rnd: random.Random, kind: str) -> list[bytes]:
    doc = json.loads(body)
    rows = doc["results"]
    fields = [f.name for f in SCHEMAS[kind]]
    out: list[bytes] = []

    def dump(d: object) -> bytes:
        return json.dumps(d, separators=(",", ":")).encode()

    def with_raw(field: str, raw: str) -> bytes:
        i = rnd.randrange(len(rows))
        marker = "__MARK__"
        d = json.loads(body)
        d["results"][i][field] = marker
        return dump(d).replace(f'"{marker}"'.encode(), raw.encode())

    for field in fields:
        for raw in rnd.sample(WRONG_VALUES, 12):
            out.append(with_raw(field, raw))
    d = json.loads(body)
    del d["results"][rnd.randrange(len(rows))]["sip_timestamp"]
    out.append(dump(d))
    d = json.loads(body)
    d["results"][rnd.randrange(len(rows))]["unknown_field"] = {"nested": [1, {"x": None}], "s": "a,b}c"}
    out.append(dump(d))
    if len(rows) > 1:
        d = json.loads(body)
        i = rnd.randrange(len(rows) - 1)
        d["results"][i], d["results"][i + 1] = d["results"][i + 1], d["results"][i]
        out.append(dump(d))
    d = json.loads(body)
    d["results"][0]["sip_timestamp"] -= 10**12
    out.append(dump(d))
    d = json.loads(body)
    d["results"][-1]["sip_timestamp"] += 10**13
    out.append(dump(d))
    d = json.loads(body)
    d["results"][rnd.randrange(len(rows))] = None
    out.append(dump(d))
    d = json.loads(body)
    d["results"].append([1, 2])
    out.append(dump(d))
    for status in ("DELAYED", "ERROR", None, 5, ""):
        d = json.loads(body)
        d["status"] = status
        out.append(dump(d))
    for next_url in (None, "", 5, ["x"], "/v3/x?cursor=1"):
        d = json.loads(body)
        d["next_url"] = next_url
        out.append(dump(d))
    d = json.loads(body)
    d["results"] = {"a": 1}
    out.append(dump(d))
    compact = dump(doc)
    out.append(json.dumps(doc, indent=1).encode())  # whitespace and newlines
    out.append(b"\xef\xbb\xbf" + compact)  # a byte-order mark
    out.append(compact + b" x")  # trailing garbage
    out.append(compact + b"\n" + compact)  # two documents
    out.append(compact.replace(b'"sip_timestamp":', b'"sip_timestamp":1,"sip_timestamp":', 1))  # duplicate key
    out.append(compact.replace(b'"sequence_number"', b'"sequence\\u005fnumber"', 1))  # an escaped key
    out.append(compact.replace(b'"status":"OK"', b'"status":"OK","x":"\xff"', 1))  # invalid UTF-8
    out.append(compact.replace(b'"status":"OK"', b'"status":"OK","x":"\xc3\xa9"', 1))  # valid non-ASCII
    out.append(compact.replace(b'"status":"OK"', b'"status":"OK","x":NaN', 1))
    out.append(compact.replace(b'"status":"OK"', b'"status":"OK","x":[1,]', 1))
    for _ in range(8):
        out.append(compact[: rnd.randrange(1, len(compact))])
    return out


@pytest.mark.parametrize("kind, ticker, lo, hi", [
    ("trades", "AAPL", et(15, 0), et(15, 2)),
    ("quotes", "AAPL", et(15, 0), et(15, 1)),
    ("trades", "HOTX", et(9, 30), et(9, 30) + 5 * NS),
])
def test_mutated_pages_never_widen_what_is_accepted(kind: str, ticker: str, lo: int, hi: int) -> None:
    body = emulator_body(kind, ticker, lo, hi, 60)
    taken = declined = 0
    for seed in range(4):
        for mutated in mutations(body, random.Random(f"{kind}{ticker}{seed}"), kind):
            if assert_agree(mutated, kind, lo, hi):
                taken += 1
            else:
                declined += 1
    assert taken >= 40 and declined >= 200, (taken, declined)  # both paths were exercised
