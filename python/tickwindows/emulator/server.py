"""A Polygon/Massive v3 trades + quotes emulator on loopback: the downloader's test peer.

It speaks `GET /v3/trades/{ticker}` and `GET /v3/quotes/{ticker}` as the real API does
(parameters, keyset `next_url` cursors, error bodies, auth) and serves deterministic data from
`emulator.data`: the rows depend only on ticker and time, never on the seed or the faults (and,
opt-in, `odd_quotes`: a share of crossed, locked, zero-size and over-$5-wide quotes). The
seed drives only the injected trouble: latency jitter, 429 storms, 5xx, connection resets,
truncated and malformed bodies, slow pages and `"results": null` pages.

Interpretations where the public docs are silent (kept in one place so they are easy to change):
- `timestamp=YYYY-MM-DD` selects that whole America/New_York day; a date given to
  `.gte/.gt/.lte/.lt` means ET midnight of that date. RFC 3339 times are accepted too.
- `limit` above `max_limit` is a 400, as is any unparseable parameter or cursor.
- A ticker starting with `NOAUTH` answers 403 NOT_AUTHORIZED (a plan without the data).

Usage:
    with Emulator(EmulatorConfig(fault_rate=0.1, seed=7)) as emu:
        requests.get(f"{emu.url}/v3/quotes/AAPL", params={"timestamp": "2024-03-05"})
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import random
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypedDict, cast
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from isal import isal_zlib

from ..errors import BadInput
from . import data, render

FAULT_KINDS = ("429", "500", "502", "503", "reset", "truncate", "malformed", "slow", "null_results")
LOOPBACK_HOSTS = ("127.0.0.1",)
ROUTE = re.compile(r"/v3/(trades|quotes)/([^/]+)")
RATE_LIMIT_MESSAGE = ("You've exceeded the maximum requests per minute, please wait or upgrade your "
                      "subscription to continue. https://massive.com/pricing")
NOT_ENTITLED_MESSAGE = "You are not entitled to this data. Please upgrade your plan at https://massive.com/pricing"
BAD_GATEWAY_HTML = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
                    b"Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


JsonBody = dict[str, object]  # a JSON object the emulator answers with


class EmulatorStats(TypedDict):
    """A consistent copy of the emulator's counters."""

    requests: int
    rows_served: int
    by_status: dict[int, int]
    by_fault: dict[str, int]


@dataclass(frozen=True)
class EmulatorConfig:
    seed: int = 0  # seeds ONLY the fault/latency randomness, never the data
    latency_ms: float = 0.0  # added to every response (jittered +-20 %)
    rate_limit: float | None = None  # requests allowed per rate_limit_window_s; excess -> 429
    rate_limit_window_s: float = 1.0  # e.g. rate_limit=5, window 60 s = the free plan's 5/minute
    fault_rate: float = 0.0  # share of requests that fail in an injected way
    faults: tuple[str, ...] = FAULT_KINDS
    retry_after: bool = True  # send Retry-After on 429 (False: omit it, as the API sometimes does)
    api_key: str | None = None  # if set, requests must carry it (apiKey param or Bearer) else 401
    max_limit: int = 50000
    slow_s: float = 3.0  # how long a "slow" fault stalls before answering
    storm_length: tuple[int, int] = (2, 5)  # a 429 fault starts a burst of this many 429s
    # share (0-1) of quotes served crossed, locked, with a zero size or more than $5 wide (data.odd_quote):
    # chosen from ticker, time and sequence number only; 0 = every quote ordinary (the default)
    odd_quotes: float = 0.0

    def __post_init__(self) -> None:
        unknown = [f for f in self.faults if f not in FAULT_KINDS]
        if unknown:
            raise BadInput(f"unknown fault kind(s) {unknown} in faults; choose from {','.join(FAULT_KINDS)}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise BadInput(f"fault_rate must be between 0 and 1, got {self.fault_rate}")
        if self.fault_rate > 0 and not self.faults:
            raise BadInput("fault_rate > 0 needs at least one fault kind in faults")
        if self.latency_ms < 0 or self.slow_s < 0:
            raise BadInput(f"latency_ms and slow_s must be >= 0, got {self.latency_ms} and {self.slow_s}")
        if self.rate_limit is not None and (self.rate_limit <= 0 or self.rate_limit_window_s <= 0):
            raise BadInput(f"rate_limit and rate_limit_window_s must be > 0, got {self.rate_limit} "
                           f"per {self.rate_limit_window_s} s")
        if self.max_limit < 1:
            raise BadInput(f"max_limit must be >= 1, got {self.max_limit}")
        if not 0.0 <= self.odd_quotes <= 1.0:
            raise BadInput(f"odd_quotes must be between 0 and 1, got {self.odd_quotes}")
        if not 1 <= self.storm_length[0] <= self.storm_length[1]:
            raise BadInput(f"storm_length must be (min, max) with 1 <= min <= max, got {self.storm_length}")


class ApiReply(Exception):
    """An error answer in the API's shape, raised from anywhere inside request handling."""

    def __init__(self, status: int, body: JsonBody, headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, message: str) -> ApiReply:
    return ApiReply(status, {"status": "ERROR", "error": message})


# ---------------------------------------------------------------- query parsing

@dataclass(frozen=True)
class Query:
    """A normalised request: rows with lo <= sip_timestamp < hi, after a keyset position."""

    kind: str
    ticker: str
    lo: int
    hi: int
    descending: bool
    limit: int
    after: tuple[int, int] | None = None

    def cursor(self, after: tuple[int, int] | None) -> str:
        """Opaque like the API's (base64 of a query string); never carries the api key."""
        fields = {"ap": "" if after is None else after[1], "as": "" if after is None else after[0],
                  "limit": self.limit, "order": "desc" if self.descending else "asc",
                  "sort": "timestamp", "timestamp.gte": self.lo, "timestamp.lt": self.hi}
        return base64.urlsafe_b64encode(urlencode(fields).encode()).decode().rstrip("=")


_NS = data.NS
_INT = re.compile(r"-?\d{1,20}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?")
_NO_LOWER, _NO_UPPER = -(2**62), 2**62


def _parse_time(name: str, value: str) -> int | date:
    """A nanosecond epoch, an RFC 3339 instant (as ns) or a calendar date."""
    try:
        if _INT.fullmatch(value):
            return int(value)
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
        m = _RFC3339.fullmatch(value)
        if m:
            day, hh, mm, ss, frac, tz = m.groups()
            tzinfo = UTC
            if tz and tz != "Z":
                sign = 1 if tz[0] == "+" else -1
                digits = tz[1:].replace(":", "")
                tzinfo = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
            d = date.fromisoformat(day)
            whole = datetime(d.year, d.month, d.day, int(hh), int(mm), int(ss), tzinfo=tzinfo)
            return int(whole.timestamp()) * _NS + int((frac or "0").ljust(9, "0"))
    except ValueError:
        pass
    raise _error(400, f"Could not parse the time parameter: '{name}'. Use YYYY-MM-DD or a nanosecond Unix timestamp")


def _instant(value: int | date) -> int:
    return data.et_midnight_ns(value) if isinstance(value, date) else value


def _whole_day(day: date) -> tuple[int, int]:
    """[ET midnight, next ET midnight) of `day`, DST-aware."""
    if day >= date.max - timedelta(days=1):
        return data.et_midnight_ns(day), _NO_UPPER
    return data.et_midnight_ns(day), data.et_midnight_ns(day + timedelta(days=1))


def parse_query(kind: str, ticker: str, params: dict[str, str], max_limit: int) -> Query:
    """Turn the request's parameters (or its cursor) into a Query, or raise a 400 ApiReply."""
    if "cursor" in params:
        return _parse_cursor(kind, ticker, params["cursor"], max_limit)
    lo, hi = _NO_LOWER, _NO_UPPER
    if "timestamp" in params:
        v = _parse_time("timestamp", params["timestamp"])
        if isinstance(v, date):
            lo, hi = _whole_day(v)
        else:
            lo, hi = v, v + 1
    for op in ("gte", "gt", "lte", "lt"):
        name = f"timestamp.{op}"
        if name in params:
            t = _instant(_parse_time(name, params[name]))
            if op == "gte":
                lo = max(lo, t)
            elif op == "gt":
                lo = max(lo, t + 1)
            elif op == "lte":
                hi = min(hi, t + 1)
            else:
                hi = min(hi, t)
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise _error(400, f"The order parameter must be 'asc' or 'desc', got '{order}'")
    sort = params.get("sort", "timestamp")
    if sort != "timestamp":
        raise _error(400, f"The sort parameter must be 'timestamp', got '{sort}'")
    return Query(kind, ticker, lo, hi, order == "desc", _parse_limit(params.get("limit", "1000"), max_limit))


def _parse_limit(text: str, max_limit: int) -> int:
    if not re.fullmatch(r"\d{1,9}", text):
        raise _error(400, f"Could not parse the limit parameter: '{text}'. Use an integer between 1 and {max_limit}")
    limit = int(text)
    if not 1 <= limit <= max_limit:
        raise _error(400, f"The limit parameter must be between 1 and {max_limit}, got {limit}")
    return limit


def _parse_cursor(kind: str, ticker: str, cursor: str, max_limit: int) -> Query:
    bad = _error(400, "Invalid cursor: request the first page again without a cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        fields = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True, strict_parsing=True).items()}
        lo, hi = int(fields["timestamp.gte"]), int(fields["timestamp.lt"])
        order, limit = fields["order"], _parse_limit(fields["limit"], max_limit)
        ap, as_ = fields["ap"], fields["as"]
        after = None if ap == "" and as_ == "" else (int(as_), int(ap))
    except (ValueError, KeyError, UnicodeDecodeError, ApiReply):
        raise bad from None
    if order not in ("asc", "desc") or fields.get("sort") != "timestamp":
        raise bad
    return Query(kind, ticker, lo, hi, order == "desc", limit, after)


# ---------------------------------------------------------------- rate limit, faults, stats

class TokenBucket:
    """`rate` requests per `window_s`, with bursts up to `rate`."""

    def __init__(self, rate: float, window_s: float):
        self.capacity = max(1.0, rate)
        self.per_s = rate / window_s
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float:
        """0 when allowed, else the seconds until a request would be."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.per_s)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.per_s


class FaultPlan:
    """Seeded draws of which requests fail, and how; a 429 starts a storm of consecutive 429s."""

    def __init__(self, config: EmulatorConfig):
        self.config = config
        self.rng = random.Random(config.seed)
        self.storm_left = 0
        self.lock = threading.Lock()

    def latency_s(self) -> float:
        if self.config.latency_ms <= 0:
            return 0.0
        with self.lock:
            return self.config.latency_ms / 1000.0 * (0.8 + 0.4 * self.rng.random())

    def draw(self) -> str | None:
        with self.lock:
            if self.storm_left > 0:
                self.storm_left -= 1
                return "429"
            if self.config.fault_rate <= 0 or self.rng.random() >= self.config.fault_rate:
                return None
            kind = self.config.faults[int(self.rng.random() * len(self.config.faults))]
            if kind == "429":
                low, high = self.config.storm_length
                self.storm_left = low + int(self.rng.random() * (high - low + 1)) - 1
            return kind


class Stats:
    """Thread-safe counters: requests, responses by status, faults by kind, rows served."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.rows_served = 0
        self.by_status: dict[int, int] = {}
        self.by_fault: dict[str, int] = {}

    def count(self, *, status: int | None = None, fault: str | None = None, rows: int = 0) -> None:
        with self.lock:
            if status is not None:
                self.by_status[status] = self.by_status.get(status, 0) + 1
            if fault is not None:
                self.by_fault[fault] = self.by_fault.get(fault, 0) + 1
            self.rows_served += rows

    def new_request(self) -> None:
        with self.lock:
            self.requests += 1

    def snapshot(self) -> EmulatorStats:
        with self.lock:
            return {"requests": self.requests, "rows_served": self.rows_served,
                    "by_status": dict(self.by_status), "by_fault": dict(self.by_fault)}


# ---------------------------------------------------------------- HTTP

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the official client's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't stall on delayed ACKs
    server_version = "tickwindows-emulator"

    def version_string(self) -> str:
        return self.server_version

    def _emulator(self) -> Emulator:
        return cast(_Server, self.server).emulator  # only _Server creates this handler

    def do_GET(self) -> None:
        self._emulator()._handle(self)

    def do_POST(self) -> None:
        body: JsonBody = {"status": "ERROR", "error": "Method not allowed"}
        self._emulator()._reply_json(self, 405, body, secrets.token_hex(16))

    def log_message(self, format: str, *args: object) -> None:  # quiet: tests and the CLI report stats
        pass

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the socket was torn down on purpose (reset fault)
            super().finish()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled ("slow") handler must not hold up stop()
    request_queue_size = 128  # many download workers connect at once; the default backlog is 5

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            return  # a client that went away (killed, stopped mid-request): nothing the server did wrong
        super().handle_error(request, client_address)


class Emulator:
    """A real ThreadingHTTPServer on 127.0.0.1 serving the v3 trades/quotes endpoints."""

    def __init__(self, config: EmulatorConfig = EmulatorConfig(), port: int = 0, host: str = "127.0.0.1"):
        if host not in LOOPBACK_HOSTS:
            raise BadInput(f"the emulator only listens on loopback; --host must be 127.0.0.1, got {host!r}")
        if not 0 <= port <= 65535:
            raise BadInput(f"port must be between 0 and 65535, got {port}")
        self.config = config
        self.host, self.port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._faults = FaultPlan(config)
        self._bucket = TokenBucket(config.rate_limit, config.rate_limit_window_s) if config.rate_limit else None
        self._stats = Stats()

    # lifecycle -------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        try:
            server = _Server((self.host, self.port), self)
        except OSError as exc:
            raise BadInput(f"cannot listen on {self.host}:{self.port} ({exc.strerror}); pick another --port") from exc
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"emulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() (or use it as a context manager)")
        return f"http://{self.host}:{self.port}"

    @property
    def stats(self) -> EmulatorStats:
        """A consistent copy of the counters: requests, by_status, by_fault, rows_served."""
        return self._stats.snapshot()

    # request handling --------------------------------------------------------
    def _handle(self, h: _Handler) -> None:
        request_id = secrets.token_hex(16)
        self._stats.new_request()
        pause = self._faults.latency_s()
        if pause:
            time.sleep(pause)
        try:
            self._serve(h, request_id)
        except ApiReply as reply:
            self._reply_json(h, reply.status, reply.body, request_id, reply.headers)
        except Exception as exc:  # noqa: BLE001 - an emulator bug: answer like the API would, and say so loudly
            traceback.print_exc(file=sys.stderr)
            self._reply_json(h, 500, {"status": "ERROR", "error": f"emulator bug: {exc!r}"}, request_id)

    def _serve(self, h: _Handler, request_id: str) -> None:
        parts = urlsplit(h.path)
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self._authenticate(h, params)
        if self._bucket is not None:
            wait = self._bucket.take()
            if wait > 0:
                raise self._too_many(math.ceil(wait))
        route = ROUTE.fullmatch(parts.path)
        if route is None:
            raise ApiReply(404, {"status": "NOT_FOUND", "message": f"Not found: {parts.path}"})
        kind, ticker = route.group(1), unquote(route.group(2))
        if ticker.startswith("NOAUTH"):
            raise ApiReply(403, {"status": "NOT_AUTHORIZED", "message": NOT_ENTITLED_MESSAGE})

        fault = self._faults.draw()
        if fault is not None:
            self._stats.count(fault=fault)
        if fault == "429":
            raise self._too_many(1)
        if fault == "500":
            raise _error(500, "Internal server error. Please try again; contact support if this persists.")
        if fault == "503":
            raise _error(503, "Service temporarily unavailable. Please try again shortly.")
        if fault == "502":
            self._send(h, 502, BAD_GATEWAY_HTML, "text/html", request_id)
            return
        if fault == "slow":
            time.sleep(self.config.slow_s)

        query = parse_query(kind, ticker, params, self.config.max_limit)
        if fault == "null_results":  # a page of nothing that still points on, from the same position
            self._reply_json(h, 200, {"results": None, "status": "OK", "request_id": request_id,
                                      "next_url": self._next_url(query, query.after)}, request_id)
            return
        found = render.page(kind, ticker, query.lo, query.hi, query.descending, query.after, query.limit,
                            self.config.odd_quotes)
        tail = '],"status":"OK","request_id":"' + request_id + '"'
        if found.more:
            tail += ',"next_url":"' + self._next_url(query, found.last) + '"'
        payload = b"".join((b'{"results":[', found.rows, (tail + "}").encode()))
        if fault == "malformed":
            cut = payload[: max(1, len(payload) // 2)] + b'",,]'
            self._send(h, 200, cut, "application/json", request_id)
        elif fault in ("truncate", "reset"):
            self._send_broken(h, payload, request_id, reset=fault == "reset")
        else:
            self._send(h, 200, payload, "application/json", request_id)
            self._stats.count(rows=found.count)

    def _authenticate(self, h: _Handler, params: dict[str, str]) -> None:
        expected = self.config.api_key
        if expected is None:
            return
        header = h.headers.get("Authorization", "")
        given = params.get("apiKey") or (header[7:].strip() if header.lower().startswith("bearer ") else "")
        if not given:
            raise _error(401, "API Key was not provided")
        if not secrets.compare_digest(given.encode(), expected.encode()):
            raise _error(401, "Unknown API Key")

    def _too_many(self, retry_after_s: int) -> ApiReply:
        headers = {"Retry-After": str(max(1, retry_after_s))} if self.config.retry_after else {}
        return ApiReply(429, {"status": "ERROR", "error": RATE_LIMIT_MESSAGE}, headers)

    def _next_url(self, query: Query, after: tuple[int, int] | None) -> str:
        return f"{self.url}/v3/{query.kind}/{quote(query.ticker, safe='')}?cursor={query.cursor(after)}"

    # writing -----------------------------------------------------------------
    def _reply_json(self, h: _Handler, status: int, body: JsonBody, request_id: str,
                    headers: dict[str, str] | None = None) -> None:
        if "results" not in body:  # error bodies read {"status", "request_id", "error"|"message"}
            body = {"status": body["status"], "request_id": request_id,
                    **{k: v for k, v in body.items() if k != "status"}}
        payload = json.dumps(body, separators=(",", ":")).encode()
        self._send(h, status, payload, "application/json", request_id, headers)

    def _encode(self, h: _Handler, payload: bytes) -> tuple[bytes, dict[str, str]]:
        if len(payload) > 1024 and "gzip" in h.headers.get("Accept-Encoding", ""):
            # ISA-L's level 1: ~4x zlib's level 1 and smaller (zlib's deflate alone capped the emulator
            # near 1M rows/s); any gzip decoder reads it.
            return isal_zlib.compress(payload, 1, 31), {"Content-Encoding": "gzip"}
        return payload, {}

    def _send(self, h: _Handler, status: int, payload: bytes, content_type: str, request_id: str,
              headers: dict[str, str] | None = None) -> None:
        self._stats.count(status=status)
        body, extra = self._encode(h, payload)
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("X-Request-Id", request_id)
        for name, value in {**extra, **(headers or {})}.items():
            h.send_header(name, value)
        h.end_headers()
        try:
            h.wfile.write(body)
        except OSError:  # the client went away; nothing to tell it
            h.close_connection = True

    def _send_broken(self, h: _Handler, payload: bytes, request_id: str, *, reset: bool) -> None:
        """Promise the whole body, send part of it, then hang up (FIN) or abort (RST)."""
        self._stats.count(status=200)
        body, extra = self._encode(h, payload)
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("X-Request-Id", request_id)
        for name, value in extra.items():
            h.send_header(name, value)
        h.end_headers()
        h.close_connection = True
        try:
            h.wfile.write(body[: len(body) // 2])
            if reset:
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                h.connection.close()
            else:
                h.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def run_forever(config: EmulatorConfig, port: int, host: str = "127.0.0.1",
                announce: Callable[[str], object] = print) -> EmulatorStats:
    """Serve until KeyboardInterrupt: Ctrl-C or `kill -INT`, and SIGTERM through the CLI's handler
    (`cli.main`); returns the final stats. Used by `tickwindows emulator`.

    SIGINT gets Python's own handler here, in the main thread: a process started in the background by a
    non-interactive shell (`tickwindows emulator &` in a script or CI job) inherits SIGINT *ignored*, and
    Python then never turns it into KeyboardInterrupt, so `kill -INT` would not stop the emulator."""
    previous: Any = None  # the SIGINT handler to put back
    emulator = Emulator(config, port=port, host=host).start()
    try:
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        announce(emulator.url)
        while True:
            time.sleep(0.5)  # short: a signal the kernel hands to a server thread is handled at the next wake-up
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        if previous is not None:  # None: a handler not set from Python, which cannot be put back
            signal.signal(signal.SIGINT, previous)
    return emulator.stats
