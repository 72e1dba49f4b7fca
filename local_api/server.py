"""The HTTP side: a threading server that hands each request to the gateway and logs it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from local_api.events import HttpRequest
from local_api.gateway import Gateway, Handled
from local_api.project import SERVER_NAME
from local_api.responses import HttpResponse

logger = logging.getLogger(__name__)
request_log = logging.getLogger("local_api.requests")

_NO_BODY_STATUSES = frozenset({204, 304})
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
BODY_TIMEOUT_S = 5.0  # a client that announced more body than it sends gets a 408, not a hung thread


class BodyTooLarge(ValueError):
    """Raised when a request body is over API Gateway's 10 MB payload limit."""


class LocalApiServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its gateway."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    """Reads a request, lets the gateway answer it, writes the answer in one send."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = SERVER_NAME
    # The tool's own errors (a body too large or too slow) in the API's shape, not an HTML page.
    error_content_type = "application/json"
    error_message_format = '{"detail": "%(message)s"}'
    server: LocalApiServer

    def do_GET(self) -> None:
        """Every method goes through the same path: the gateway decides what exists."""
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def __getattr__(self, name: str) -> Callable[[], None]:
        """``do_TRACE`` and any other method too: the gateway answers it (404 ``{"detail"}`` where
        no route has it), never http.server's 501 HTML page."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _handle(self) -> None:
        started = time.perf_counter()
        try:
            request = self._read_request()
        except BodyTooLarge:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The request body is over the 10 MB limit")
            return
        except TimeoutError:
            self.close_connection = True
            self.send_error(HTTPStatus.REQUEST_TIMEOUT, "The request body did not arrive in time")
            return
        handled = self.server.gateway.handle(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        _log_request(request, handled, elapsed_ms)
        self._write(handled.response, head_only=request.method == "HEAD")

    def _read_request(self) -> HttpRequest:
        target = urlsplit(self.path)
        return HttpRequest(
            method=self.command,
            path=target.path or "/",
            query=target.query,
            headers=list(self.headers.items()),
            body=self._read_body(),
            source_ip=self.client_address[0],
            protocol=self.request_version,
            server_port=self.server.server_address[1],
        )

    def _read_body(self) -> bytes:
        """The body, within BODY_TIMEOUT_S; an idle keep-alive connection has no such limit."""
        self.connection.settimeout(BODY_TIMEOUT_S)
        try:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.close_connection = True
                raise BodyTooLarge(length)
            return self.rfile.read(length) if length > 0 else b""
        finally:
            self.connection.settimeout(None)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                raise BodyTooLarge(total)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, response: HttpResponse, *, head_only: bool) -> None:
        lines = [f"HTTP/1.1 {response.status} {_reason(response.status)}", f"Date: {formatdate(usegmt=True)}"]
        lines += [f"{name}: {value}" for name, value in response.headers if name.lower() != "content-length"]
        body = b"" if response.status in _NO_BODY_STATUSES else response.body
        if response.status not in _NO_BODY_STATUSES:
            lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
        self.wfile.write(head if head_only else head + body)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """http.server's own messages (bad request lines and the like) at debug level only."""
        logger.debug(format, *args)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _log_request(request: HttpRequest, handled: Handled, elapsed_ms: float) -> None:
    """One line per call: method, path, status, function, duration (never headers or bodies)."""
    note = f"  [{handled.note}]" if handled.note else ""
    request_log.info(
        "%-7s %s %d %s %.1f ms%s",
        request.method,
        request.path,
        handled.response.status,
        handled.target,
        elapsed_ms,
        note,
    )
