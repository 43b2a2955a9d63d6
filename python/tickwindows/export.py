"""Export the gated manifest as dated Parquet files plus a JSON sidecar that says what they are.

Only a manifest with a current GO is exported (gate.require_go: the latest gate_runs row is GO
and its checksum equals the manifest as it is now). The read-only connection holds DuckDB's
file lock for the whole export, so nothing can change the manifest between the check and the
COPY. Files are written under a temporary name and renamed, the sidecar last, so a reader never
sees a half-written export and a sidecar always describes complete files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypedDict

import duckdb

from . import __version__
from .batches import batches, release
from .checksum import file_sha256
from .errors import BadInput, GateClosed
from .gate import GateVerdict, require_go
from .warehouse import connect_read_only, has_relation, relations

DATE_FORMAT = "%Y%m%d"


@dataclass(frozen=True)
class ExportSettings:
    db_path: Path
    out_dir: Path
    date: str  # YYYYMMDD, part of every file name
    enriched: bool = False
    force_overwrite: bool = False


@dataclass(frozen=True)
class ExportedFile:
    table: str
    name: str
    rows: int
    bytes: int
    sha256: str


class SidecarGate(TypedDict):
    """The verdict the export was made under (gate_runs' latest row, a current GO)."""

    go: bool
    evaluated_at: str
    invocation_id: str | None
    command: str | None
    manifest_checksum: str | None
    manifest_rows: int | None
    tests_passed: int | None
    tests_expected: int | None
    passed_checks: list[str]


class SidecarBatch(TypedDict):
    """One released batch of the exported manifest (main.manifest_batches, current lineage)."""

    batch: int
    events: int
    released_at: str
    manifest_checksum: str | None
    coverage: float | None


class Sidecar(TypedDict):
    """manifest_core_YYYYMMDD.json, in this key order."""

    file: str
    profile: str
    config_hash: str
    enrichment_version: str
    row_count: int
    files: list[dict[str, str | int]]  # ExportedFile as a dict
    gate: SidecarGate
    coverage: float | None
    batches: list[SidecarBatch]
    tickwindows_version: str
    duckdb_version: str
    created_at: str
    export_date: str
    source_db: str


@dataclass(frozen=True)
class ExportResult:
    files: list[ExportedFile]
    sidecar: Path
    gate: GateVerdict


def parse_export_date(text: str | None, today: dt.date | None = None) -> str:
    """--date as YYYYMMDD (validated), default today's UTC date."""
    if text is None:
        return (today or dt.datetime.now(dt.UTC).date()).strftime(DATE_FORMAT)
    try:
        parsed = dt.datetime.strptime(text, DATE_FORMAT).date()
    except ValueError:
        raise BadInput(f"--date {text!r}: expected YYYYMMDD, e.g. 20250131") from None
    if parsed.strftime(DATE_FORMAT) != text:
        raise BadInput(f"--date {text!r}: expected YYYYMMDD with 8 digits, e.g. {parsed.strftime(DATE_FORMAT)}")
    return text


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _target_names(settings: ExportSettings) -> tuple[list[tuple[str, str]], str]:
    tables = ["manifest_core"] + (["events_enriched"] if settings.enriched else [])
    return [(t, f"{t}_{settings.date}.parquet") for t in tables], f"manifest_core_{settings.date}.json"


def _refuse_overwrite(settings: ExportSettings, names: list[str]) -> None:
    existing = [str(settings.out_dir / n) for n in names if (settings.out_dir / n).exists()]
    if existing and not settings.force_overwrite:
        raise BadInput(
            f"{', '.join(existing)} already exist(s): refusing to overwrite an export. "
            "Pass --force-overwrite to replace it, or choose another --date or --out."
        )


def _manifest_config(con: duckdb.DuckDBPyConnection, db_path: Path) -> tuple[str, str, str]:
    rows = con.execute(
        "select distinct profile, config_hash, enrichment_version from main.manifest_core order by all"
    ).fetchall()
    if len(rows) != 1:
        raise BadInput(f"--db {db_path}: main.manifest_core holds {len(rows)} configurations (profile, config_hash, "
                       "enrichment_version), expected exactly 1; run `dbt build` again")
    return rows[0]


def _copy_table(con: duckdb.DuckDBPyConnection, table: str, tmp: Path) -> int:
    con.execute(
        f"copy (select * from main.{table} order by event_id) to {_sql_string(str(tmp))}"
        " (format parquet, compression zstd)"
    )
    (rows,) = con.execute(f"select count(*) from main.{table}").fetchone() or (0,)
    return int(rows)


def _coverage(con: duckdb.DuckDBPyConnection) -> float | None:
    """selection_config.coverage: the share of the final universe the manifest was selected at."""
    if not has_relation(con, "selection_config"):
        return None
    row = con.execute("select coverage from main.selection_config").fetchone()
    return None if row is None or row[0] is None else float(row[0])


def _write_json(path: Path, payload: Sidecar, tmp: Path) -> None:
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def export_manifest(settings: ExportSettings, now: dt.datetime | None = None) -> ExportResult:
    """Check the gate, write the Parquet file(s) and the sidecar; see the module doc."""
    targets, sidecar_name = _target_names(settings)
    _refuse_overwrite(settings, [name for _, name in targets] + [sidecar_name])
    # What is exported stays pinned: release the manifest's new events (a current GO is required).
    release(settings.db_path)
    con = connect_read_only(settings.db_path)
    temps: list[Path] = []
    try:
        gate = require_go(con, settings.db_path)
        present = relations(con)
        missing = [t for t, _ in targets if t not in present]
        if missing:
            raise BadInput(f"--db {settings.db_path}: main.{missing[0]} is missing; run `dbt build` first")
        profile, config_hash, enrichment_version = _manifest_config(con, settings.db_path)
        # One thread makes the Parquet layout (row groups) and so the bytes reproducible.
        con.execute("set threads = 1")
        settings.out_dir.mkdir(parents=True, exist_ok=True)
        files: list[ExportedFile] = []
        for table, name in targets:
            tmp = settings.out_dir / f".{name}.{os.getpid()}.tmp"
            temps.append(tmp)
            rows = _copy_table(con, table, tmp)
            if table == "manifest_core" and rows != (gate.manifest_rows or 0):
                raise GateClosed(f"manifest_core has {rows} rows, the GO was for {gate.manifest_rows or 0}; "
                                 "run `dbt build` again")
            files.append(ExportedFile(table, name, rows, tmp.stat().st_size, file_sha256(tmp)))
        for (_, name), tmp in zip(targets, temps, strict=True):
            os.replace(tmp, settings.out_dir / name)
        sidecar = settings.out_dir / sidecar_name
        payload: Sidecar = {
            "file": targets[0][1],
            "profile": profile,
            "config_hash": config_hash,
            "enrichment_version": enrichment_version,
            "row_count": files[0].rows,
            "files": [asdict(f) for f in files],
            "gate": {
                "go": True,
                "evaluated_at": gate.evaluated_at,
                "invocation_id": gate.invocation_id,
                "command": gate.command,
                "manifest_checksum": gate.manifest_checksum,
                "manifest_rows": gate.manifest_rows,
                "tests_passed": gate.tests_passed,
                "tests_expected": gate.tests_expected,
                "passed_checks": [c.name for c in gate.checks if c.passed],
            },
            "coverage": _coverage(con),
            "batches": [SidecarBatch(batch=b.batch, events=b.events, released_at=b.released_at,
                                     manifest_checksum=b.manifest_checksum, coverage=b.coverage)
                        for b in batches(con)],
            "tickwindows_version": __version__,
            "duckdb_version": duckdb.__version__,
            "created_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
            "export_date": settings.date,
            "source_db": str(settings.db_path),
        }
        sidecar_tmp = settings.out_dir / f".{sidecar_name}.{os.getpid()}.tmp"
        temps.append(sidecar_tmp)
        _write_json(sidecar, payload, sidecar_tmp)
        return ExportResult(files, sidecar, gate)
    finally:
        con.close()
        for tmp in temps:
            tmp.unlink(missing_ok=True)
