"""The gate's verdict, read in one place: the latest `main.gate_runs` row, judged against the
manifest as it is now.

Every `dbt build` (or `dbt test --select tag:gate`) appends one row to main.gate_runs
(macros/record_gate_run.sql). main.manifest_fingerprint is a view over what the gate judges
(manifest_core, selection_config, download_estimate_totals, the current pins), so it always describes
them as they are now: a verdict is *current* only while both checksums it recorded (the manifest's and
the judged tables') equal the fingerprint's. `latest_verdict` reads both (the report shows them);
`require_go` is what `download`, `release` and `export` enforce and what `pilot` reports: a GO that is
current and that passed every gate check this version of tickwindows has (GATE_CHECKS), so a GO
recorded before a check existed does not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .errors import GateClosed
from .warehouse import has_relation

# Every gate check of the dbt project (the tests tagged `gate`, models/marts/*/_*__models.yml):
# python/tests/test_gate_verdict.py checks that this is exactly the project's list.
GATE_CHECKS: tuple[str, ...] = (
    "gate_01_selected_events",
    "gate_02_distinct_symbols",
    "gate_03_pm_share",
    "gate_04_rth_share",
    "gate_05_ah_share",
    "gate_06_events_per_symbol",
    "gate_07_top20_concentration",
    "gate_08_keys_unique_not_null",
    "gate_09_filters_reverified",
    "gate_10_no_lookahead",
    "gate_11_windows_valid",
    "gate_12_storage_p90",
    "gate_13_download_time_p90",
    "gate_14_single_config",
    "gate_15_pinned_batches_kept",
)


@dataclass(frozen=True)
class Fingerprint:
    """A row of main.manifest_fingerprint: the manifest as it is now."""

    rows: int | None
    checksum: str | None
    judged: str | None = None  # judged_checksum: manifest, config, estimate totals, current pins


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class GateVerdict:
    """The latest row of main.gate_runs (columns an older gate_runs lacks are None or empty),
    with the manifest's fingerprint read on the same connection."""

    evaluated_at: str
    go: bool
    invocation_id: str | None
    command: str | None
    profile: str | None
    config_hash: str | None
    enrichment_version: str | None
    manifest_checksum: str | None
    manifest_rows: int | None
    tests_expected: int | None
    tests_passed: int | None
    tests_failed: int | None
    passed_checks: tuple[str, ...]
    failed_checks: tuple[str, ...]
    failure_messages: str | None
    manifest_now: Fingerprint | None  # None when main.manifest_fingerprint is missing
    judged_checksum: str | None = None  # None in a gate_runs row recorded before the column existed

    @property
    def is_current(self) -> bool:
        """The verdict was reached on the manifest, the configuration, the estimates and the pins exactly as
        they are now (a row without judged_checksum cannot tell, so it is not current)."""
        return (self.manifest_now is not None and self.manifest_checksum == self.manifest_now.checksum
                and self.judged_checksum is not None and self.judged_checksum == self.manifest_now.judged)

    @property
    def missing_checks(self) -> tuple[str, ...]:
        """Gate checks of this version that the verdict does not record as passed."""
        return tuple(c for c in GATE_CHECKS if c not in self.passed_checks)

    @property
    def current_go(self) -> bool:
        """What `download`, `release` and `export` accept: a GO for the tables exactly as they are now, with
        every gate check of this version passed."""
        return self.go and self.is_current and not self.missing_checks and not self.failed_checks

    @property
    def checks(self) -> list[GateCheck]:
        """Every check by name, each failed one with its message(s)."""
        return _checks(self.passed_checks, self.failed_checks, self.failure_messages)


def parse_checks(passed: str | None, failed: str | None, messages: str | None) -> list[GateCheck]:
    """Checks by name from gate_runs' comma lists; each failed one gets its lines of "check: message"."""
    return _checks(_names(passed), _names(failed), messages)


def _checks(passed: Sequence[str], failed_names: Sequence[str], messages: str | None) -> list[GateCheck]:
    by_check: dict[str, list[str]] = {n: [] for n in failed_names}
    current: str | None = None
    for line in (messages or "").splitlines():
        head, sep, rest = line.partition(":")
        if sep and head.strip() in by_check:
            current = head.strip()
            by_check[current].append(rest.strip())
        elif current is not None and line.strip():
            by_check[current].append(line.strip())  # a message that itself spans lines
    checks = [GateCheck(n, True) for n in passed]
    checks += [GateCheck(n, False, " ".join(by_check[n]) or "failed (no message recorded)") for n in failed_names]
    return sorted(checks, key=lambda c: c.name)


def read_fingerprint(con: duckdb.DuckDBPyConnection) -> Fingerprint | None:
    """main.manifest_fingerprint, or None when the view is missing."""
    if not has_relation(con, "manifest_fingerprint"):
        return None
    cur = con.execute("select * from main.manifest_fingerprint")
    names = [d[0] for d in cur.description or []]
    values = cur.fetchone()
    if values is None:
        return Fingerprint(None, None)
    row: dict[str, object] = dict(zip(names, values, strict=True))
    return Fingerprint(_int(row.get("manifest_rows")), _text(row.get("manifest_checksum")),
                       _text(row.get("judged_checksum")))


def latest_verdict(con: duckdb.DuckDBPyConnection) -> GateVerdict | None:
    """The newest gate_runs row with the fingerprint now; None when gate_runs is missing or empty."""
    if not has_relation(con, "gate_runs"):
        return None
    cur = con.execute("select * from main.gate_runs order by evaluated_at desc limit 1")
    names = [d[0] for d in cur.description or []]
    values = cur.fetchone()
    if values is None:
        return None
    row: dict[str, object] = dict(zip(names, values, strict=True))
    return GateVerdict(
        evaluated_at=str(row["evaluated_at"]),
        go=bool(row.get("go")),
        invocation_id=_text(row.get("invocation_id")),
        command=_text(row.get("command")),
        profile=_text(row.get("profile")),
        config_hash=_text(row.get("config_hash")),
        enrichment_version=_text(row.get("enrichment_version")),
        manifest_checksum=_text(row.get("manifest_checksum")),
        manifest_rows=_int(row.get("manifest_rows")),
        tests_expected=_int(row.get("tests_expected")),
        tests_passed=_int(row.get("tests_passed")),
        tests_failed=_int(row.get("tests_failed")),
        passed_checks=tuple(_names(_text(row.get("passed_checks")))),
        failed_checks=tuple(_names(_text(row.get("failed_checks")))),
        failure_messages=_text(row.get("failure_messages")),
        manifest_now=read_fingerprint(con),
        judged_checksum=_text(row.get("judged_checksum")),
    )


def require_go(con: duckdb.DuckDBPyConnection, db_path: Path) -> GateVerdict:
    """The latest verdict, if it is a GO for the manifest exactly as it is now; else GateClosed
    with what to do about it."""
    if not has_relation(con, "gate_runs"):
        raise GateClosed(
            f"{db_path}: no gate verdict yet (main.gate_runs is missing). Run `dbt build` (it evaluates the gate), "
            "then download; or pass --force to skip the gate knowingly."
        )
    if not has_relation(con, "manifest_fingerprint"):
        raise GateClosed(f"{db_path}: main.manifest_fingerprint is missing, so the verdict cannot be matched to the "
                         "manifest. Run `dbt build` (all models), then download.")
    verdict = latest_verdict(con)
    if verdict is None:
        raise GateClosed(
            f"{db_path}: main.gate_runs holds no verdict. Run `dbt build` to evaluate the gate, then download."
        )
    if not verdict.go:
        detail = verdict.failure_messages or ",".join(verdict.failed_checks) or "(no check named)"
        raise GateClosed(
            f"the latest gate verdict ({verdict.evaluated_at}) is NO-GO; failed checks: {detail}. "
            "Fix the inputs or config and run `dbt build` again."
        )
    now = verdict.manifest_now or Fingerprint(None, None)
    if verdict.manifest_checksum != now.checksum:
        raise GateClosed(
            f"the manifest changed since the GO of {verdict.evaluated_at} (checksum {verdict.manifest_checksum}, "
            f"{verdict.manifest_rows} rows; now {now.checksum}, {now.rows} rows). "
            "Run `dbt build` to evaluate the gate on the current manifest."
        )
    if verdict.missing_checks or verdict.failed_checks:
        raise GateClosed(
            f"the GO of {verdict.evaluated_at} does not record every gate check of this version as passed "
            f"(missing: {', '.join(verdict.missing_checks + verdict.failed_checks)}): it was recorded before they "
            "existed, or by an older gate. Run `dbt build` to evaluate every check."
        )
    if not verdict.is_current:
        raise GateClosed(
            f"what the gate judged changed since the GO of {verdict.evaluated_at}: the configuration "
            "(selection_config), the estimate totals (download_estimate_totals) or the pinned events "
            f"(judged checksum {verdict.judged_checksum}; now {now.judged}). "
            "Run `dbt build` to evaluate the gate on the tables as they are now."
        )
    return verdict


# --- narrowing the untyped values DuckDB returns ------------------------------------------------

def _names(text: str | None) -> list[str]:
    return [n for n in (text or "").split(",") if n]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError(f"expected an integer from the warehouse, got {value!r}")
