"""Defaults and constants shared by every command, each defined once (see docs/CONTRACT.md).

The warehouse default matches profiles.yml (`env_var('TICKWINDOWS_DB', ...)`) and the ticks
directory matches the dbt var `ticks_dir`, so dbt and the CLI find the same files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

DB_ENV_VAR: Final = "TICKWINDOWS_DB"
DEFAULT_DB: Final = "warehouse/tickwindows.duckdb"
DEFAULT_DATA_DIR: Final = "data"  # demo-data writes {data}/events and {data}/daily
DEFAULT_TICKS_DIR: Final = "data/ticks"
DEFAULT_REPORT_HTML: Final = "reports/tickwindows_report.html"
DEFAULT_EXPORT_DIR: Final = "exports"
REAL_API_BASE_URL: Final = "https://api.polygon.io"

# What is downloaded per manifest window: one endpoint, one tick file and one checkpoint job each.
KINDS: Final[tuple[str, ...]] = ("trades", "quotes")
# The sessions in the order of the day (America/New_York): PM [04:00, 09:30), RTH [09:30, close),
# AH [close, close + 4h), close = 16:00 or 13:00 on early-close days. The SQL assigns them (session_of).
SESSIONS: Final[tuple[str, ...]] = ("PM", "RTH", "AH")


def default_db_path() -> Path:
    """The warehouse file: $TICKWINDOWS_DB, else warehouse/tickwindows.duckdb."""
    return Path(os.environ.get(DB_ENV_VAR, DEFAULT_DB))
