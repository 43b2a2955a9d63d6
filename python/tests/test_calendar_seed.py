"""The committed NYSE calendar seed: known facts, its shape, and that the generator reproduces it."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = REPO_ROOT / "seeds" / "nyse_calendar.csv"
GENERATOR = REPO_ROOT / "scripts" / "generate_calendar.py"


def _rows() -> dict[dt.date, dict[str, str]]:
    with SEED.open(newline="", encoding="utf-8") as fh:
        return {dt.date.fromisoformat(row["date"]): row for row in csv.DictReader(fh)}


def _easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm), independent of any library."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def test_seed_has_the_contract_columns_and_only_non_regular_weekdays() -> None:
    with SEED.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["date", "status", "close_et", "name"]
        dates = [row["date"] for row in reader]
    assert dates == sorted(dates) and len(dates) == len(set(dates))
    for day, row in _rows().items():
        assert day.weekday() < 5, f"{day} is a weekend day; weekends are closed by rule, not listed"
        assert row["status"] in ("holiday", "early_close"), row
        if row["status"] == "holiday":
            assert row["close_et"] == "", row
        else:
            assert row["close_et"] == "13:00:00", row


def test_every_year_2015_to_2030_is_covered() -> None:
    rows = _rows()
    for year in range(2015, 2031):
        holidays = [d for d, r in rows.items() if d.year == year and r["status"] == "holiday"]
        early = [d for d, r in rows.items() if d.year == year and r["status"] == "early_close"]
        # 9 rules (10 from 2022 with Juneteenth); a Saturday New Year is not observed, ad-hoc closures add.
        assert 8 <= len(holidays) <= 11, (year, holidays)
        assert 1 <= len(early) <= 3, (year, early)
    assert dt.date(2015, 1, 1) in rows and dt.date(2030, 12, 25) in rows


@pytest.mark.parametrize(
    ("day", "status"),
    [
        ("2024-07-03", "early_close"),
        ("2024-11-29", "early_close"),
        ("2024-12-24", "early_close"),
        ("2025-01-09", "holiday"),  # national day of mourning (President Carter): ad hoc
        ("2018-12-05", "holiday"),  # national day of mourning (President G.H.W. Bush): ad hoc
        ("2024-12-25", "holiday"),
        ("2030-12-24", "early_close"),
    ],
)
def test_known_closures(day: str, status: str) -> None:
    assert _rows()[dt.date.fromisoformat(day)]["status"] == status


def test_regular_sessions_are_not_listed() -> None:
    rows = _rows()
    for day in ("2024-07-05", "2024-12-23", "2024-12-26", "2025-01-10", "2021-06-18"):
        assert dt.date.fromisoformat(day) not in rows, day


def test_good_friday_is_a_holiday_every_year() -> None:
    rows = _rows()
    for year in range(2015, 2031):
        good_friday = _easter(year) - dt.timedelta(days=2)
        assert rows.get(good_friday, {}).get("status") == "holiday", good_friday


def test_juneteenth_is_observed_from_2022_only() -> None:
    rows = _rows()
    juneteenth = {d for d, r in rows.items() if r["name"] == "Juneteenth"}
    assert min(juneteenth).year == 2022
    for year in range(2022, 2031):
        observed = dt.date(year, 6, 19)
        if observed.weekday() == 5:
            observed -= dt.timedelta(days=1)
        elif observed.weekday() == 6:
            observed += dt.timedelta(days=1)
        assert rows.get(observed, {}).get("status") == "holiday", observed
    assert not [d for d in rows if d.month == 6 and d.year < 2022]


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")  # pandas, inside the library
def test_the_generator_reproduces_the_committed_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("exchange_calendars", reason="optional extra `calendar` not installed")
    spec = importlib.util.spec_from_file_location("generate_calendar", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    out = tmp_path / "nyse_calendar.csv"
    assert module.main(["--out", str(out)]) == 0
    assert out.read_bytes() == SEED.read_bytes(), "seed is stale: run scripts/generate_calendar.py"
