"""Tick files on disk: the Parquet schemas, page-to-Arrow conversion and the atomic writer.

Pages stream into a ParquetWriter on a temp file in the destination directory; only a complete
file is fsynced and renamed into place, so a reader (or a resumed run) never sees half a window.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..checksum import file_sha256
from ..errors import RetryableError
from .polygon import JsonObject

TS: pa.DataType = pa.timestamp("ns", tz="UTC")
CODES: pa.DataType = pa.list_(pa.int32())

SCHEMAS: dict[str, pa.Schema] = {
    "trades": pa.schema(
        [
            ("sip_timestamp", TS),
            ("participant_timestamp", TS),
            ("trf_timestamp", TS),
            ("sequence_number", pa.int64()),
            ("id", pa.string()),
            ("price", pa.float64()),
            ("size", pa.float64()),
            ("exchange", pa.int32()),
            ("tape", pa.int32()),
            ("conditions", CODES),
            ("correction", pa.int32()),
            ("trf_id", pa.int32()),
        ]
    ),
    "quotes": pa.schema(
        [
            ("sip_timestamp", TS),
            ("participant_timestamp", TS),
            ("trf_timestamp", TS),
            ("sequence_number", pa.int64()),
            ("bid_price", pa.float64()),
            ("bid_size", pa.float64()),
            ("bid_exchange", pa.int32()),
            ("ask_price", pa.float64()),
            ("ask_size", pa.float64()),
            ("ask_exchange", pa.int32()),
            ("tape", pa.int32()),
            ("conditions", CODES),
            ("indicators", CODES),
        ]
    ),
}
TEMP_MARK = ".tmp-"


def tick_path(out_dir: Path, kind: str, symbol: str, trading_date: str, event_id: str) -> Path:
    return out_dir / kind / f"symbol={symbol}" / f"date={trading_date}" / f"{event_id}.parquet"


def rows_to_table(rows: Sequence[JsonObject], schema: pa.Schema) -> pa.Table:
    """One page of JSON rows -> an Arrow table; unknown fields are ignored, wrong types are a page fault."""
    try:
        arrays = [pa.array([row.get(field.name) for row in rows], type=field.type) for field in schema]
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
        raise RetryableError(f"page has a value of the wrong type: {exc}") from None
    return pa.Table.from_arrays(arrays, schema=schema)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    rows: int
    bytes: int
    sha256: str


class AtomicParquet:
    """Write pages to `.{name}.tmp-<unique>` next to `final`; `commit()` publishes it atomically."""

    def __init__(self, final: Path, schema: pa.Schema):
        self.final = final
        final.parent.mkdir(parents=True, exist_ok=True)
        self.temp = final.with_name(f".{final.name}{TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(str(self.temp), schema, compression="zstd")
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        assert self._writer is not None
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def commit(self) -> WrittenFile:
        assert self._writer is not None
        self._writer.close()
        self._writer = None
        _fsync_path(self.temp)
        sha = file_sha256(self.temp)
        size = self.temp.stat().st_size
        os.replace(self.temp, self.final)
        _fsync_path(self.final.parent)
        return WrittenFile(self.final, self.rows, size, sha)

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):  # the temp file is discarded either way
                self._writer.close()
            self._writer = None
        self.temp.unlink(missing_ok=True)


def remove_stale_temps(out_dir: Path, kinds: tuple[str, ...]) -> int:
    """Temp files left by a killed run (call only while holding the run lock)."""
    removed = 0
    for kind in kinds:
        base = out_dir / kind
        if base.is_dir():
            for temp in base.glob(f"symbol=*/date=*/.*.parquet{TEMP_MARK}*"):
                temp.unlink(missing_ok=True)
                removed += 1
    return removed
