"""A real HTTP server on 127.0.0.1 that answers from a Python function and records every request.

The live connectors are tested against it over real sockets, so redirects, headers, retries
and query strings go through httpx exactly as they would against Google or Microsoft.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    """What to answer: a status, a body (JSON when not bytes or str) and headers."""

    status: int = 200
    body: object = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        """The body's bytes and content type."""
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/csv"
        return json.dumps(self.body).encode("utf-8"), "application/json"


class ReplayServer:
    """Serve ``answer(request)`` on a free loopback port; ``seen`` lists the requests in order."""

    def __init__(self, answer: Callable[[Seen, ReplayServer], Reply]) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def paths(self, prefix: str = "") -> list[Seen]:
        """The requests whose path starts with ``prefix``."""
        return [seen for seen in self.seen if seen.path.startswith(prefix)]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command,
                    unquote(parts.path),
                    parse_qs(parts.query),
                    {name.lower(): value for name, value in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                with server._lock:
                    server.seen.append(seen)
                try:
                    reply = server.answer(seen, server)
                except Exception as error:  # a broken test answer must show, not hang the client
                    server.errors.append(repr(error))
                    reply = Reply(500, {"error": "test server answer failed"})
                body, content_type = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: object) -> None:
                """Stay quiet: request lines are asserted on, not printed."""

        return Handler
