"""One page of the v3 trades/quotes API (the body's bytes) -> an Arrow table of the tick file's schema.

Two paths give the same table, or the same refusal:

- the fast path reads the raw bytes with pyarrow's JSON reader (C++, no Python object per row or
  value), then checks the columns vectorised. It accepts only a page it can prove ordinary: ASCII
  bytes (so valid UTF-8), one JSON object, status OK/DELAYED, a non-null `results` list of
  non-null objects, every sip_timestamp an integer inside the window and ascending, every float
  finite and below 2**53 in magnitude (where an integer literal would still convert exactly).
- the reference path is the original pure-Python one (`json.loads` with exact ints, per-row
  checks, `pa.array` per column). Anything the fast path does not accept goes there, and the
  reference path decides: it returns the table or raises the RetryableError that names the fault.

So the fast path never widens what is accepted, and every fault keeps its diagnosis.
`python/tests/test_pages.py` checks both paths against each other on the emulator's pages and on
mutated pages (wrong types, nulls, NaN, big numbers, duplicates, truncations, non-ASCII bytes).

Measured on this project's 2-core machine (rows per CPU-second, 50,000-row pages of trades and
quotes, parse + checks + Arrow table; the figures are in README "Download speed"): stdlib json +
dicts ~0.2M, orjson + dicts ~0.25M, msgspec typed structs + columns ~0.7M, DuckDB read_json ~0.5M,
pyarrow.json ~0.8M: the fastest, no new dependency, and no per-row Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.json as pj
from numpy.typing import NDArray

from ..errors import RetryableError
from .polygon import GOOD_STATUSES, Redactor, check_rows, parse_body
from .tickfiles import SCHEMAS, rows_to_table

# Integers up to 2**53 convert to float64 exactly; the reference path refuses larger integer
# literals in a float column, and the fast path cannot tell 1e16 from 10000000000000000.
_FLOAT_EXACT = float(2**53)


@dataclass(frozen=True)
class DecodedPage:
    table: pa.Table
    next_url: object  # None on the last page; anything else goes through safe_next_url()
    last_ts: int | None  # the last sip_timestamp so far (ascending across pages)


def _json_type(t: pa.DataType) -> pa.DataType:
    """What the JSON reader produces for a tick column: timestamps arrive as integer nanoseconds."""
    return pa.int64() if pa.types.is_timestamp(t) else t


def _page_schema(schema: pa.Schema) -> pa.Schema:
    row = pa.struct([pa.field(f.name, _json_type(f.type)) for f in schema])
    return pa.schema([("results", pa.list_(row)), ("status", pa.string()), ("next_url", pa.string())])


if TYPE_CHECKING:
    AnyArray = pa.Array[pa.Scalar[pa.DataType]]  # any Arrow array (Array and Scalar are covariant)

_PARSE = {kind: pj.ParseOptions(explicit_schema=_page_schema(schema), unexpected_field_behavior="ignore")
          for kind, schema in SCHEMAS.items()}
_FLOAT_COLUMNS = {kind: [i for i, f in enumerate(schema) if pa.types.is_floating(f.type)]
                  for kind, schema in SCHEMAS.items()}


def _buffer(arr: AnyArray, index: int) -> memoryview:
    buf = arr.buffers()[index]
    assert buf is not None
    return memoryview(buf)


def _ints(arr: AnyArray) -> NDArray[np.int64]:
    """An int64 array's values, zero-copy (slots under nulls hold anything)."""
    return np.frombuffer(_buffer(arr, 1), dtype=np.int64)[arr.offset: arr.offset + len(arr)]


def _floats(arr: AnyArray) -> NDArray[np.float64]:
    """A float64 array's values, zero-copy (slots under nulls hold anything)."""
    return np.frombuffer(_buffer(arr, 1), dtype=np.float64)[arr.offset: arr.offset + len(arr)]


def _valid(arr: AnyArray) -> NDArray[np.bool_]:
    """The validity bitmap as booleans (call only when the array has nulls, so a bitmap exists)."""
    bits = np.unpackbits(np.frombuffer(_buffer(arr, 0), dtype=np.uint8), bitorder="little")
    valid: NDArray[np.bool_] = bits[arr.offset: arr.offset + len(arr)].astype(np.bool_)
    return valid


def _may_hold(body: bytes, word: bytes) -> bool:
    """Whether `word` occurs: memchr to its first letter, then a search only from there (a plain
    `word in body` scans at a fraction of memchr's speed; the letter is rare, e.g. in next_url's ticker)."""
    at = body.find(word[:1])
    return at >= 0 and body.find(word, at) >= 0


def fast_page(body: bytes, kind: str, start_ns: int, end_ns: int,
              last_ts: int | None) -> DecodedPage | None:
    """The page as a table if it is ordinary (see the module doc), else None (ask the reference path)."""
    if not body.isascii() or _may_hold(body, b"NaN") or _may_hold(body, b"Infinity"):
        return None  # (pyarrow's reader takes the NaN/Infinity literals that json.loads refuses)
    try:
        doc = pj.read_json(pa.BufferReader(body),  # type: ignore[arg-type]  # the stubs omit NativeFile
                           read_options=pj.ReadOptions(use_threads=False, block_size=len(body) + 1),
                           parse_options=_PARSE[kind])
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if doc.num_rows != 1 or doc.column("status")[0].as_py() not in GOOD_STATUSES:
        return None
    results = doc.column("results").combine_chunks()
    if not isinstance(results, pa.ListArray) or results.null_count:
        return None
    offsets = results.offsets  # (ListArray.flatten would load pyarrow.compute: ~0.2 CPU-s at start-up)
    rows = results.values.slice(offsets[0].as_py(), offsets[1].as_py() - offsets[0].as_py())
    if not isinstance(rows, pa.StructArray) or rows.null_count:
        return None
    columns = rows.flatten()
    sip = columns[0]
    n = len(sip)
    if n:
        if sip.null_count:
            return None
        ts = _ints(sip)
        first, last = int(ts[0]), int(ts[-1])
        if int(ts.min()) < start_ns or int(ts.max()) >= end_ns or (last_ts is not None and first < last_ts):
            return None
        if n > 1 and bool((ts[1:] < ts[:-1]).any()):
            return None
        for i in _FLOAT_COLUMNS[kind]:
            col = columns[i]
            if col.null_count == n:
                continue
            values = _floats(col)
            if col.null_count:
                values = values[_valid(col)]
            if not bool((np.abs(values) < _FLOAT_EXACT).all()):
                return None  # NaN, inf or a magnitude the reference path may refuse: let it decide
        last_ts = last
    schema = SCHEMAS[kind]
    arrays = [col.view(f.type) if pa.types.is_timestamp(f.type) else col
              for col, f in zip(columns, schema, strict=True)]
    table = pa.Table.from_arrays(arrays, schema=schema)
    return DecodedPage(table, doc.column("next_url")[0].as_py() or None, last_ts)


def reference_page(body: bytes, kind: str, start_ns: int, end_ns: int, last_ts: int | None, *,
                   first_page: bool, url: str, redact: Redactor) -> DecodedPage:
    """The original path: parse with exact Python ints, check every row, build each column."""
    doc = parse_body(body)
    api_status = doc.get("status")
    if api_status not in GOOD_STATUSES:
        reason = redact(doc.get("error") or doc.get("message") or "")
        raise RetryableError(f"status {api_status!r} (not OK) on {redact(url)}: {reason}")
    next_url = doc.get("next_url") or None
    results = doc.get("results")
    if results is None:
        # "No data" is an empty first page; a null page in the middle of a chain is a server fault.
        if next_url is not None or not first_page:
            raise RetryableError(f"results missing/null on a page with a next_url ({redact(url)})")
        results = []
    if not isinstance(results, list):
        raise RetryableError(f"results is a {type(results).__name__}, expected a list")
    rows, new_last = check_rows(results, start_ns, end_ns, last_ts)
    return DecodedPage(rows_to_table(rows, SCHEMAS[kind]), next_url, new_last)


def decode_page(body: bytes, kind: str, start_ns: int, end_ns: int, last_ts: int | None, *,
                first_page: bool, url: str, redact: Redactor) -> DecodedPage:
    """The fast path when it accepts the page, else the reference path's verdict.

    Every page tries the fast path first, small ones too: pyarrow's reader costs ~0.3 ms more per call
    than the reference path on a page of a few rows, but the reference path's first `pa.array` on a
    Python list imports pandas when it is installed (0.2-0.35 CPU-s once per process), so a run whose
    pages are all ordinary never pays that."""
    page = fast_page(body, kind, start_ns, end_ns, last_ts)
    if page is not None:
        return page
    return reference_page(body, kind, start_ns, end_ns, last_ts, first_page=first_page, url=url, redact=redact)
