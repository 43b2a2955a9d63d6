"""A real HTTP server on 127.0.0.1 whose answers a test scripts: for the misbehaviours the
emulator does not produce on purpose (hostile next_url, 404, looping cursors, out-of-window rows)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Seen:
    path: str
    authorization: str | None
    at: float


@dataclass
class ScriptedServer:
    respond: Callable[[str, int], Reply]  # (path with query, request number from 0) -> reply
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                n = len(server.seen)
                server.seen.append(Seen(self.path, self.headers.get("Authorization"), time.monotonic()))
                status, headers, body = server.respond(self.path, n)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def page(results: list[dict] | None, next_url: str | None = None, status: str = "OK") -> bytes:
    body: dict = {"results": results, "status": status, "request_id": "r"}
    if next_url is not None:
        body["next_url"] = next_url
    return json.dumps(body).encode()


def trade(ts: int, seq: int = 1) -> dict:
    return {"sip_timestamp": ts, "participant_timestamp": ts - 1000, "sequence_number": seq, "id": str(seq),
            "price": 10.5, "size": 100, "exchange": 4, "tape": 3, "conditions": [12, 37]}
