"""A minimal, paranoid client for the Polygon/Massive v3 trades and quotes endpoints.

It fetches one page at a time and checks everything the server could get wrong: the HTTP
status, the body (read whole, gzip inflated), and that `next_url` stays on the configured host;
pages.py turns the body into a table (the JSON parsed so int64 nanosecond timestamps stay exact,
the `status` field, the `results` list, rows inside the requested bounds in ascending order;
`parse_body` and `check_rows` below are its reference path). Failures are classified for the retry
layer: `RetryableError` (429, 5xx, `ConnectionFailed`: refused, reset or cut-short answers;
truncated or malformed bodies, inconsistent pages),
`PermanentError` (401/403/404 and other 4xx), `PaginationError` (loops, page cap, a next_url
pointing elsewhere). The API key travels only in the Authorization header and is redacted from
every message.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import NoReturn, cast
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests
import urllib3
from isal import isal_zlib

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


class ConnectionFailed(RetryableError):
    """No HTTP answer: refused, reset, timed out, or a body cut short. Counts toward --give-up-after."""


def _reason(text: str) -> str:
    """The root cause of a connection failure ("[Errno 111] Connection refused", "Read timed out"),
    rather than urllib3's nested repr with the whole URL again."""
    found = re.search(r"\[Errno -?\d+\][^'\")]*|Read timed out|Connection aborted|IncompleteRead\([^)]*\)"
                      r"|Connection broken[^'\")]*|timed out", text)
    return found.group(0).strip() if found else text[:300]


ACCEPT_ENCODING = "gzip"  # what the official client asks for too; pages shrink ~6x on the wire


# isal's stub declares `error` as an instance; it is the exception class ISA-L's inflate raises.
_INFLATE_ERROR = cast("type[Exception]", isal_zlib.error)


def _gunzip(raw: bytes) -> bytes:
    """A gzip body (one member or several, RFC 1952) -> its bytes; ISA-L's inflate, zlib-compatible."""
    out = []
    while raw:
        inflater = isal_zlib.decompressobj(31)
        out.append(inflater.decompress(raw))
        if not inflater.eof:
            raise RetryableError(f"gzip body ends early ({len(raw)} bytes left undecoded)")
        raw = inflater.unused_data
    return b"".join(out)


def decode_content(raw: bytes, encoding: str | None) -> bytes:
    """The body as sent (Content-Encoding gzip, deflate or none) -> its bytes, or a RetryableError."""
    coding = (encoding or "identity").strip().lower()
    try:
        if coding == "gzip":
            return _gunzip(raw)
        if coding == "deflate":
            return isal_zlib.decompress(raw, 47)  # zlib-wrapped (as RFC 9110 says) or, leniently, gzip
    except _INFLATE_ERROR as exc:
        raise RetryableError(f"corrupt {coding} body ({len(raw)} bytes): {exc}") from None
    if coding == "identity":
        return raw
    raise RetryableError(f"unsupported Content-Encoding {encoding!r} (asked for {ACCEPT_ENCODING})")


def fetch_page(session: requests.Session, url: str, api_key: str, redact: Redactor, *, timeout: float) -> bytes:
    """One GET, classified; returns the body's bytes of a 200. The key goes in the Authorization header only.

    The body is read raw in one piece (urllib3 raises on one shorter than its Content-Length) and
    inflated in one call, instead of requests' 10 KB decode loop.
    """
    try:
        resp = session.get(
            url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json",
                     "Accept-Encoding": ACCEPT_ENCODING},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        try:
            raw = resp.raw.read(decode_content=False)
        finally:
            resp.close()  # the connection goes back to the pool once its body was read whole
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise ConnectionFailed(f"{type(exc).__name__} on {redact(url)}: {_reason(redact(exc))}") from None
    status = resp.status_code
    if status != 200:
        try:
            body = decode_content(raw, resp.headers.get("Content-Encoding"))
        except RetryableError:
            body = raw
        snippet = redact(body[:200].decode("utf-8", "replace")).replace("\n", " ")
        message = f"HTTP {status} on {redact(url)}: {snippet}"
        if status == 429:
            raise RateLimited(message, status=status, retry_after=_retry_after_seconds(resp.headers.get("Retry-After")))
        if status in RETRYABLE_STATUSES or status >= 500:
            raise RetryableError(message, status=status,
                                 retry_after=_retry_after_seconds(resp.headers.get("Retry-After")))
        raise PermanentError(message, status=status)
    return decode_content(raw, resp.headers.get("Content-Encoding"))
