"""A minimal, paranoid client for the Polygon/Massive v3 trades and quotes endpoints.

It fetches one page at a time and checks everything the server could get wrong: the HTTP
status, the JSON (parsed so int64 nanosecond timestamps stay exact), the `status` field, the
`results` list, that rows sit inside the requested bounds in ascending order, and that
`next_url` stays on the configured host. Failures are classified for the retry layer:
`RetryableError` (429, 5xx, resets, truncated or malformed bodies, inconsistent pages),
`PermanentError` (401/403/404 and other 4xx), `PaginationError` (loops, page cap, a next_url
pointing elsewhere). The API key travels only in the Authorization header and is redacted from
every message.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests

from ..errors import BadInput, PaginationError, PermanentError, RateLimited, RetryableError
from ..settings import KINDS

PAGE_LIMIT = 50_000
# Polygon answers "DELAYED" instead of "OK" on plans without real-time data; both carry data.
GOOD_STATUSES = frozenset({"OK", "DELAYED"})
KEY_QUERY_PARAMS = frozenset({"apikey", "api_key"})
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class Redactor:
    """Removes the API key (and any apiKey=... query value) from text meant for humans or disk."""

    def __init__(self, secret: str | None):
        self._secret = secret or None

    def __call__(self, text: object) -> str:
        out = str(text)
        if self._secret:
            out = out.replace(self._secret, "***")
            out = out.replace(quote(self._secret, safe=""), "***")
        return re.sub(r"(?i)(api_?key=)[^&\s'\"]+", r"\1***", out)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError as exc:
            raise BadInput(f"bad port in URL {url!r}: {exc}") from None
        default = {"http": 80, "https": 443}.get(scheme, -1)
        return cls(scheme, (parts.hostname or "").lower(), port or default)


def check_base_url(url: str) -> str:
    """The base URL must be https, or plain http on a loopback address (the emulator)."""
    parts = urlsplit(url)
    origin = Origin.of(url)
    if origin.scheme not in ("http", "https") or not origin.host:
        raise BadInput(f"--base-url {url!r}: expected https://host[:port] (or http://127.0.0.1:PORT for the emulator)")
    if origin.scheme == "http" and not _is_loopback(origin.host):
        raise BadInput(
            f"--base-url {url!r}: plain http would send the API key in clear text; "
            "use https, or http only on loopback (127.0.0.1, localhost, ::1)"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BadInput(f"--base-url {url!r}: give only scheme://host[:port][/path], no credentials or query")
    return url.rstrip("/")


def first_page_url(base_url: str, kind: str, symbol: str, start_ns: int, end_ns: int, limit: int = PAGE_LIMIT) -> str:
    if kind not in KINDS:
        raise BadInput(f"--kinds: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    query = urlencode(
        [
            ("timestamp.gte", str(int(start_ns))),
            ("timestamp.lt", str(int(end_ns))),
            ("order", "asc"),
            ("sort", "timestamp"),
            ("limit", str(int(limit))),
        ]
    )
    return f"{base_url}/v3/{kind}/{quote(symbol, safe='')}?{query}"


def safe_next_url(next_url: object, base_url: str) -> str:
    """Accept a next_url only on the base URL's origin; strip any key the server echoed into it."""
    if not isinstance(next_url, str) or not next_url:
        raise RetryableError(f"next_url is not a URL: {next_url!r}")
    base = Origin.of(base_url)
    parts = urlsplit(next_url)
    if not parts.scheme and next_url.startswith("/"):
        parts = urlsplit(base_url)._replace(path=parts.path, query=parts.query, fragment="")
    nxt = Origin.of(urlunsplit(parts))
    if nxt != base or parts.username or parts.password:
        raise PaginationError(
            f"refused next_url on {nxt.scheme}://{nxt.host}:{nxt.port}: the key is only sent to "
            f"{base.scheme}://{base.host}:{base.port}",
            retryable=False,
        )
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in KEY_QUERY_PARAMS]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


JsonObject = dict[str, object]  # a parsed JSON object: values are checked where they are used


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"non-finite number {name} in JSON")


def parse_body(body: bytes) -> JsonObject:
    """Parse JSON with exact Python ints (timestamps never pass through float)."""
    try:
        doc: object = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RetryableError(f"malformed or truncated JSON ({len(body)} bytes): {exc}") from None
    if not isinstance(doc, dict):
        raise RetryableError(f"JSON body is a {type(doc).__name__}, expected an object")
    return doc


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # HTTP-date form: fall back to our own backoff
    return max(0.0, min(seconds, 600.0))


@dataclass
class Page:
    results: list[object]  # the JSON values as served; check_rows() proves they are rows
    next_url: object  # None on the last page; anything else goes through safe_next_url()
    request_id: str | None


def check_rows(
    rows: list[object], start_ns: int, end_ns: int, last_ts: int | None
) -> tuple[list[JsonObject], int | None]:
    """Every row an object inside [start, end), sip_timestamp an exact int, ascending across pages.
    Returns the rows and the last sip_timestamp."""
    checked: list[JsonObject] = []
    for row in rows:
        if not isinstance(row, dict):
            raise RetryableError(f"result row is a {type(row).__name__}, expected an object")
        ts = row.get("sip_timestamp")
        if type(ts) is not int:
            raise RetryableError(f"sip_timestamp {ts!r} is not an integer nanosecond timestamp")
        if not start_ns <= ts < end_ns:
            raise RetryableError(f"row at sip_timestamp {ts} outside the requested window [{start_ns}, {end_ns})")
        if last_ts is not None and ts < last_ts:
            raise RetryableError(f"rows not ascending: sip_timestamp {ts} after {last_ts}")
        last_ts = ts
        checked.append(row)
    return checked, last_ts


def fetch_page(
    session: requests.Session, url: str, api_key: str, redact: Redactor, *, first_page: bool, timeout: float
) -> Page:
    """One GET, classified. The key goes in the Authorization header only."""
    try:
        resp = session.get(
            url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            allow_redirects=False,
        )
        body = resp.content  # urllib3 raises on a body shorter than its Content-Length
    except requests.RequestException as exc:
        raise RetryableError(f"{type(exc).__name__} on {redact(url)}: {redact(exc)}") from None
    status = resp.status_code
    if status != 200:
        snippet = redact(body[:200].decode("utf-8", "replace")).replace("\n", " ")
        message = f"HTTP {status} on {redact(url)}: {snippet}"
        if status == 429:
            raise RateLimited(message, status=status, retry_after=_retry_after_seconds(resp.headers.get("Retry-After")))
        if status in RETRYABLE_STATUSES or status >= 500:
            raise RetryableError(message, status=status,
                                 retry_after=_retry_after_seconds(resp.headers.get("Retry-After")))
        raise PermanentError(message, status=status)
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
    request_id = doc.get("request_id")
    return Page(results=results, next_url=next_url, request_id=request_id if isinstance(request_id, str) else None)
