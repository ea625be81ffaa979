"""REST side of a simulator: the request/response values given to ``handle_http`` and the two ways in.

* GET requests on the websocket port are answered through the ``websockets`` handshake hook
  (:func:`websocket_port_response` builds its ``Response``); that hook cannot read bodies.
* :class:`HttpListener` is a small HTTP/1.1 server on another loopback port built on the
  standard library's ``http.server`` (keep-alive, every method, request bodies).  Its worker
  threads hand each request to a coroutine on the simulator's loop, so ``handle_http`` still
  runs on the loop thread like every other hook.

Example:
    >>> json_response({"lastUpdateId": 1})[0]
    200
    >>> split_target("/api/v3/depth?symbol=BTCUSDT&limit=5")
    ('/api/v3/depth', {'symbol': 'BTCUSDT', 'limit': '5'})
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http
import socket
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlsplit

import orjson
from websockets.datastructures import Headers
from websockets.http11 import Response

__all__ = [
    "HttpListener",
    "HttpReply",
    "HttpRequest",
    "HttpResponse",
    "json_response",
    "split_target",
    "websocket_port_response",
]

#: ``(status, headers, body)`` returned by ``handle_http``
HttpResponse: TypeAlias = tuple[int, Mapping[str, str], bytes | str]

#: a normalised reply: ``(status, headers, body bytes)``
HttpReply: TypeAlias = tuple[int, dict[str, str], bytes]


def json_response(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
    """An ``handle_http`` result with a JSON body.

    Example:
        >>> json_response({"a": 1}, 201)
        (201, {'Content-Type': 'application/json'}, b'{"a":1}')
    """
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return status, h, orjson.dumps(obj)


def split_target(target: str) -> tuple[str, dict[str, str]]:
    """A request target as ``(path, query)``; the last value of a repeated parameter wins."""
    parts = urlsplit(target)
    return parts.path or "/", dict(parse_qsl(parts.query, keep_blank_values=True))


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request given to ``handle_http``; header names are lower case.

    Example:
        >>> HttpRequest("POST", "/", {}, {}, b"nonce=1&otp=").form()
        {'nonce': '1', 'otp': ''}
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    target: str = ""

    def form(self) -> dict[str, str]:
        """The body parsed as ``application/x-www-form-urlencoded``."""
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        """The body parsed as JSON (raises ``orjson.JSONDecodeError``)."""
        return orjson.loads(self.body)


def websocket_port_response(reply: HttpReply) -> Response:
    """The ``websockets`` handshake-hook response for a plain GET on the websocket port."""
    status, headers, body = reply
    h = Headers(headers)
    h["Content-Length"] = str(len(body))
    h["Connection"] = "close"
    return Response(status, http.HTTPStatus(status).phrase, h, body)


#: how a listener asks the simulator for a reply: a coroutine run on the simulator's loop
Responder: TypeAlias = Callable[[HttpRequest], Coroutine[Any, Any, HttpReply]]


class _Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection; every method goes to the listener's responder."""

    protocol_version = "HTTP/1.1"  # keep-alive
    default_request_version = "HTTP/1.1"  # a garbage request line still gets a status line
    server: _Server

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if length < 0 or length > self.server.listener.max_body:
            self.send_error(400, "bad content-length")
            return
        body = self.rfile.read(length) if length else b""
        path, query = split_target(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = HttpRequest(self.command.upper(), path, query, headers, body, self.path)
        try:
            status, resp_headers, data = self.server.listener.reply(request)
        except (concurrent.futures.CancelledError, concurrent.futures.TimeoutError, RuntimeError):
            self.send_error(503, "simulator stopping")
            return
        self.send_response(status)
        for name, value in resp_headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and demos do not want an access log on stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], listener: HttpListener) -> None:
        self.listener = listener
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Named, tracked worker threads: stop() ends and joins them (tests check for leftovers).
        t = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"{self.listener.thread_name}-http-conn",
            daemon=True,
        )
        self.listener.track(t, request)
        t.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.listener.untrack(request)


class HttpListener:
    """An HTTP/1.1 server on ``host:port`` in its own threads, answering through ``responder`` on ``loop``.

    ``max_body`` bounds request bodies (larger ones get 400).  :meth:`close` stops accepting,
    ends the open connections and joins every thread within about a second.

    Example:
        >>> import http.client
        >>> loop = asyncio.new_event_loop()
        >>> t = threading.Thread(target=loop.run_forever); t.start()
        >>> async def hello(req):
        ...     return 200, {"Content-Type": "text/plain"}, req.method.encode()
        >>> srv = HttpListener("127.0.0.1", 0, hello, loop)
        >>> c = http.client.HTTPConnection("127.0.0.1", srv.port); c.request("POST", "/", b"x")
        >>> c.getresponse().read()
        b'POST'
        >>> c.close(); srv.close(); _ = loop.call_soon_threadsafe(loop.stop); t.join(); loop.close()
    """

    def __init__(
        self,
        host: str,
        port: int,
        responder: Responder,
        loop: asyncio.AbstractEventLoop,
        *,
        max_body: int = 1 << 20,
        reply_timeout: float = 30.0,
        thread_name: str = "rxfeeds-sim",
    ) -> None:
        self.responder = responder
        self.loop = loop
        self.max_body = max_body
        self.reply_timeout = reply_timeout
        self.thread_name = thread_name
        self._lock = threading.Lock()
        self._workers: dict[threading.Thread, socket.socket] = {}
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{thread_name}-http", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        """The bound port."""
        port: int = self._server.server_address[1]
        return port

    @property
    def sockets(self) -> list[socket.socket]:
        """The listening socket(s)."""
        return [self._server.socket]

    def reply(self, request: HttpRequest) -> HttpReply:
        """Worker thread: run the responder on the loop and wait for its reply."""
        future = asyncio.run_coroutine_threadsafe(self.responder(request), self.loop)
        return future.result(self.reply_timeout)

    def track(self, thread: threading.Thread, sock: socket.socket) -> None:
        with self._lock:
            self._workers[thread] = sock

    def untrack(self, sock: socket.socket) -> None:
        with self._lock:
            for t, s in list(self._workers.items()):
                if s is sock:
                    del self._workers[t]

    def close(self, timeout: float = 1.0) -> None:
        """Stop accepting, end the open connections and join the threads (bounded by ``timeout`` each)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout)
        with self._lock:
            workers = list(self._workers.items())
        for _, sock in workers:
            with contextlib.suppress(OSError):  # wakes a worker blocked reading the next request
                sock.shutdown(socket.SHUT_RDWR)
        for thread, _ in workers:
            thread.join(timeout)
