"""Downloaded windows for the liquidity tests: a private copy of the clean fixture warehouse with windows
piloted from a real emulator on loopback (the real downloader writes the files), and the downloaded windows
as the warehouse lists them."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from dbt_project import query
from liquidity_reference import WindowSpec
from tickwindows.download.runner import DownloadSettings
from tickwindows.emulator.server import Emulator
from tickwindows.pilot import PilotResult, run_pilot

KEY = "sk-liquidity-test-key"


@dataclass(frozen=True)
class Piloted:
    db: Path
    ticks: Path
    settings: DownloadSettings
    pilot: PilotResult


def pilot_into_copy(clean_build: Path, work: Path, windows: int, emu: Emulator) -> Piloted:
    """`work`/warehouse.duckdb: a copy of the clean build; `windows` windows piloted from `emu` into
    `work`/ticks (stratified by session x liquidity, as `tickwindows pilot` picks them)."""
    db = work / "warehouse.duckdb"
    shutil.copy(clean_build, db)
    ticks = work / "ticks"
    settings = DownloadSettings(db_path=db, out_dir=ticks, base_url=emu.url, api_key=KEY, quiet=True)
    return Piloted(db, ticks, settings, run_pilot(settings, windows))


def window_specs(db: Path) -> dict[str, tuple[WindowSpec, Path, Path]]:
    """event_id -> (the window, its trades file, its quotes file) of every downloaded window."""
    rows = query(db, """
        select event_id, session, epoch_ns(window_start_utc), epoch_ns(event_ts_utc), epoch_ns(window_end_utc),
               trades_path, quotes_path
        from intermediate.int_tick_windows_fingerprinted""")
    return {r[0]: (WindowSpec(*r[:5]), Path(r[5]), Path(r[6])) for r in rows}
