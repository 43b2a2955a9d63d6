"""Regenerate seeds/nyse_calendar.csv: every NYSE weekday that is not a regular 09:30-16:00 session.

The seed is committed; run this only to extend the range or pick up a calendar-library update:

    .venv/bin/pip install -e '.[calendar]'
    .venv/bin/python scripts/generate_calendar.py            # 2015-01-01..2030-12-31
    .venv/bin/python scripts/generate_calendar.py --end 2035-12-31

Rows: `date,status,close_et,name` with status `holiday` (a weekday the exchange is closed, ad-hoc
closures included) or `early_close` (close_et is the ET wall-clock close, e.g. 13:00:00); `name`
is the library's label when it has one. The truth is XNYS's list of sessions and closes; the
holiday rules are consulted only for the labels.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "seeds" / "nyse_calendar.csv"
DEFAULT_START = dt.date(2015, 1, 1)
DEFAULT_END = dt.date(2030, 12, 31)
REGULAR_CLOSE_ET = dt.time(16, 0)
COLUMNS = ("date", "status", "close_et", "name")
# Some rule names encode the rule's date range rather than the day; the seed wants a short label.
SHORT_LABELS = {
    "Mondays, Tuesdays, and Thursdays Before Independence Day": "Day before Independence Day",
    "Wednesdays Before Independence Day including and after 2013": "Day before Independence Day",
    "Fridays after Independence Day prior to 2013": "Day after Independence Day",
    "Juneteenth National Independence Day": "Juneteenth",
}


@dataclass(frozen=True)
class CalendarRow:
    date: dt.date
    status: str  # "holiday" | "early_close"
    close_et: dt.time | None
    name: str

    def as_csv(self) -> list[str]:
        close = self.close_et.strftime("%H:%M:%S") if self.close_et else ""
        return [self.date.isoformat(), self.status, close, self.name]


def _labels(holiday_calendar, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """{date: rule name} of a pandas holiday calendar (empty when it has no rules in range)."""
    named = holiday_calendar.holidays(start=str(start), end=str(end), return_name=True)
    return {ts.date(): SHORT_LABELS.get(str(name), str(name)) for ts, name in named.items()}


def build_rows(start: dt.date = DEFAULT_START, end: dt.date = DEFAULT_END) -> list[CalendarRow]:
    """The non-regular weekdays of XNYS in [start, end], in date order."""
    import exchange_calendars as xcals  # optional extra `calendar`: only this script needs it

    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    # An explicit end: the library's default bound is "about a year from today".
    calendar = xcals.get_calendar("XNYS", start=str(start), end=str(end))
    closes_et = {
        session.date(): close.tz_convert("America/New_York").time()
        for session, close in calendar.closes.items()
    }

    holiday_names = _labels(calendar.regular_holidays, start, end)
    early_names: dict[dt.date, str] = {}
    for _close_time, special in calendar.special_closes:
        early_names.update(_labels(special, start, end))

    rows: list[CalendarRow] = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            close = closes_et.get(day)
            if close is None:
                rows.append(CalendarRow(day, "holiday", None, holiday_names.get(day, "")))
            elif close != REGULAR_CLOSE_ET:
                rows.append(CalendarRow(day, "early_close", close, early_names.get(day, "")))
        day += dt.timedelta(days=1)
    return rows


def write_csv(rows: list[CalendarRow], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(row.as_csv() for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=DEFAULT_START,
                        help="first date (default %(default)s)")
    parser.add_argument("--end", type=dt.date.fromisoformat, default=DEFAULT_END,
                        help="last date (default %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (default seeds/nyse_calendar.csv)")
    args = parser.parse_args(argv)
    try:
        rows = build_rows(args.start, args.end)
    except ModuleNotFoundError:
        print("exchange_calendars is not installed: .venv/bin/pip install -e '.[calendar]'", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_csv(rows, args.out)
    holidays = sum(row.status == "holiday" for row in rows)
    print(f"wrote {args.out}: {holidays} holidays, {len(rows) - holidays} early closes, {args.start}..{args.end}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
