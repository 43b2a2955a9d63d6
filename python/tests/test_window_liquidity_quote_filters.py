"""The quote-validity rule of window_liquidity on files the real downloader wrote: windows of every session
downloaded from an emulator serving odd quotes (EmulatorConfig.odd_quotes: crossed, locked, zero-size and
more than $5 wide), then `dbt build`, then every value against the independent computation
(liquidity_reference.py), which applies the rule on its own: both sides priced and sized everywhere; in an
RTH window also not crossed and at most $5 wide; PM and AH keep crossed and wide quotes.

Before comparing, the test shows that the files can tell the rules apart: treating an RTH window as PM (or
a PM/AH window as RTH), or keeping zero-size quotes, changes some reference value, so a model that got any
of these wrong would differ from the reference somewhere."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from dbt_project import input_vars, query, run_dbt
from liquidity_reference import MEASURES, WindowSpec, close, measure_window
from piloted import pilot_into_copy, window_specs
from tickwindows.emulator.server import Emulator, EmulatorConfig

ODD_QUOTES = 0.2  # a fifth of the quotes odd: a twentieth each crossed, locked, zero-size, > $5 wide
PILOT_WINDOWS = 6  # stratified by session x liquidity: every session
# Build what reads the tick files (the tick staging is ephemeral: each reader checks the files when built).
SELECT = ["--select", "stg_ticks__trades+", "stg_ticks__quotes+", "int_tick_windows_fingerprinted+"]
ODD_KINDS = ("crossed", "locked", "zero_size", "wide")

Window = tuple[WindowSpec, Path, Path]  # spec, trades file, quotes file


@pytest.fixture(scope="module")
def odd_windows(clean_build: Path, small_inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("quote_filters")
    with Emulator(EmulatorConfig(odd_quotes=ODD_QUOTES), port=0) as emu:
        piloted = pilot_into_copy(clean_build, work, PILOT_WINDOWS, emu)
    assert piloted.pilot.report.totals["jobs_failed"] == 0
    db = piloted.db
    run = run_dbt(["build", *SELECT], db, {**input_vars(small_inputs), "ticks_dir": str(piloted.ticks)}, work)
    assert run.returncode == 0, run.output[-5000:]
    windows: dict[str, Window] = window_specs(db)
    assert len(windows) == PILOT_WINDOWS
    assert {spec.session for spec, _, _ in windows.values()} == {"PM", "RTH", "AH"}
    return {"db": db, "windows": windows}


def odd_counts(quotes: Path) -> dict[str, int]:
    """How many quotes of the file are of each odd kind, and how many there are."""
    t = pq.read_table(quotes, columns=["bid_price", "ask_price", "bid_size", "ask_size"])
    bid, ask = t.column("bid_price"), t.column("ask_price")

    def count(mask: pa.ChunkedArray) -> int:
        return int(pc.sum(pc.cast(mask, pa.int64())).as_py() or 0)

    return {
        "crossed": count(pc.greater(bid, ask)),
        "locked": count(pc.equal(bid, ask)),
        "zero_size": count(pc.or_(pc.equal(t.column("bid_size"), 0), pc.equal(t.column("ask_size"), 0))),
        "wide": count(pc.greater(pc.subtract(ask, bid), 5)),
        "quotes": t.num_rows,
    }


def number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]  # a measure: int, float, Decimal


def differs(a: dict[str, dict[str, float | None]], b: dict[str, dict[str, float | None]]) -> bool:
    return any(not close(number(a[s][m]), number(b[s][m])) for s in ("pre", "post") for m in MEASURES)


def without_zero_sizes(quotes: Path, out: Path) -> Path:
    """A copy of the quotes file whose zero sizes are 1: the quotes the zero-size rule drops, kept."""
    t = pq.read_table(quotes)
    for name in ("bid_size", "ask_size"):
        col = t.column(name)
        t = t.set_column(t.schema.get_field_index(name), name,
                         pc.if_else(pc.equal(col, 0), pa.scalar(1.0, col.type), col))
    pq.write_table(t, out)
    return out


def test_downloaded_quote_files_hold_crossed_locked_zero_size_and_wide_quotes(odd_windows: dict) -> None:
    by_session: dict[str, list[dict[str, int]]] = {}
    for spec, _, quotes in odd_windows["windows"].values():
        by_session.setdefault(spec.session, []).append(odd_counts(quotes))
    full = {s: [c for c in counts if all(c[k] > 0 for k in ODD_KINDS)] for s, counts in by_session.items()}
    assert full["RTH"], f"no RTH window holds every odd kind: {by_session['RTH']}"
    assert full["PM"] or full["AH"], f"no PM or AH window holds every odd kind: {by_session}"
    # about the share asked for (each kind a quarter of it), over all the files
    total = {k: sum(c[k] for counts in by_session.values() for c in counts) for k in (*ODD_KINDS, "quotes")}
    for k in ODD_KINDS:
        assert 0.5 * ODD_QUOTES / 4 < total[k] / total["quotes"] < 1.5 * ODD_QUOTES / 4 + 0.01, (k, total)


def test_window_liquidity_applies_the_session_quote_rules_to_the_downloaded_files(
        odd_windows: dict, tmp_path: Path) -> None:
    db, windows = odd_windows["db"], odd_windows["windows"]
    reference = {e: measure_window(spec, trades, quotes) for e, (spec, trades, quotes) in windows.items()}

    # the files tell the rules apart: a model that broke one would disagree with the reference somewhere
    rth_as_pm = [e for e, (spec, t, q) in windows.items() if spec.session == "RTH"
                 and differs(reference[e], measure_window(dataclasses.replace(spec, session="PM"), t, q))]
    extended_as_rth = [e for e, (spec, t, q) in windows.items() if spec.session != "RTH"
                       and differs(reference[e], measure_window(dataclasses.replace(spec, session="RTH"), t, q))]
    zero_sizes_kept = [e for e, (spec, t, q) in windows.items()
                       if differs(reference[e], measure_window(spec, t, without_zero_sizes(q, tmp_path / f"{e}.pq")))]
    assert rth_as_pm, "no RTH window whose values depend on dropping crossed and wide quotes"
    assert extended_as_rth, "no PM/AH window whose values depend on keeping crossed and wide quotes"
    assert zero_sizes_kept, "no window whose values depend on dropping zero-size quotes"

    rows = query(db, f"select event_id, segment, {', '.join(MEASURES)} from window_liquidity")
    table = {(r[0], r[1]): dict(zip(MEASURES, r[2:], strict=True)) for r in rows}
    assert {e for e, _ in table} == set(windows), "one pair of rows per downloaded window"
    checked = 0
    for event_id, expected in reference.items():
        for segment in ("pre", "post"):
            for measure in MEASURES:
                have, want = table[(event_id, segment)][measure], expected[segment][measure]
                assert close(number(have), number(want)), (
                    f"{windows[event_id][0].session} {event_id} {segment} {measure}: table {have}, reference {want}")
                checked += 1
    assert checked == 2 * PILOT_WINDOWS * len(MEASURES)
