"""Default locations shared by every command (see CONTRACT.md)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "warehouse/tickwindows.duckdb"
DEFAULT_EVENTS_DIR = "data/events"
DEFAULT_DAILY_DIR = "data/daily"
DEFAULT_TICKS_DIR = "data/ticks"
REAL_API_BASE_URL = "https://api.polygon.io"


def default_db_path() -> Path:
    """The warehouse file: $TICKWINDOWS_DB, else warehouse/tickwindows.duckdb."""
    return Path(os.environ.get("TICKWINDOWS_DB", DEFAULT_DB))
