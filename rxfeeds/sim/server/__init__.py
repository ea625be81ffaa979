"""The base of every venue simulator: a real websocket server on 127.0.0.1 in a daemon thread.

One concern per module: :mod:`.loop` (the loop thread and calls into it), :mod:`.base`
(:class:`SimServer`: hooks, ticks, truth, the fault-injection interface), :mod:`.connection`
(:class:`SimConnection`), :mod:`.frames` (frames encoded by the ``websockets`` package),
:mod:`.http` (``handle_http`` values, the HTTP listener), :mod:`.streaming` and :mod:`.blast`
(throughput); the truth model lives in :mod:`rxfeeds.sim.kit.truth`.  Every name is
importable from here.

Writing a venue simulator
-------------------------
Subclass :class:`SimServer`, set ``venue`` (and ``path`` if the venue serves one), and
override the hooks you need.  Hooks are plain methods (``async def`` also works) called **on
the server's event-loop thread**, one at a time, so venue state needs no locks; never block in
them.  Exceptions in hooks are logged and kept in ``server.hook_errors`` (tests assert it
stays empty); they never kill the server or the connection.

===============================  =========================================================
hook                             when
===============================  =========================================================
``on_connect(conn)``             after the websocket handshake (``conn.path``/``conn.query``
                                 hold the request URL, e.g. Binance ``/stream?streams=..``)
``on_message(conn, message)``    each client message (``str`` for text, ``bytes`` for binary)
``on_oversize(conn, message)``   a message over ``max_message_size`` (default: close 1009);
                                 override to send the venue's error reply instead
``on_disconnect(conn)``          the connection is gone (any reason)
``on_tick(now)``                 every ``tick_interval`` s; default steps every market in
                                 ``self.markets`` and calls ``on_step`` for each
``on_step(symbol, market, st)``  one market stepped: push updates to subscribers
``handle_http(request)``         an HTTP request (REST endpoints); return
                                 ``(status, headers, body)`` (see :func:`json_response`) or
                                 ``None`` for 404
``market_options(symbol)``       keyword arguments for that symbol's ``SyntheticMarket``
===============================  =========================================================

Tools for hooks: ``conn.send(text)``, ``conn.send_raw(frame_bytes)``, ``conn.close(code,
reason)``, ``conn.abort()``, ``conn.subscriptions`` / ``conn.state`` (free-form dicts);
``self.market(symbol)`` (lazily created, seeded from ``(seed, symbol)``);
``self.sent_book(key)`` — the :class:`SentBook` the venue keeps as *what it has sent* for a
book (``key`` is usually the symbol; use e.g. ``(symbol, depth)`` when it varies); tests read
it with ``server.truth(key)``; ``self.faults`` (consult ``take_skip_sequence``,
``take_corrupt_checksum``, ``should_reject``: see :mod:`rxfeeds.sim.faults`);
``self.spawn(coro)`` for background tasks (cancelled on stop); ``self.loop``;
``self.record_truth(key, marker)`` right after sending a book frame (the chaos harness reads
``truth_history(key)`` to check books at the sequence or time ``marker``; off unless
``truth_history_size`` > 0).

From other threads (tests): ``start()``/``stop()``/``with``, ``url``, ``http_url``,
``faults.*``, ``truth(key)``, ``step(n)`` (run ticks now), ``freeze()``/``unfreeze()`` (pause
the automatic ticks), ``call(fn, *args)`` (run anything on the loop and get its result),
``connection_count``, ``newest_connection_id``, ``wait_for_connections(n)``.
``tick_interval=None`` disables automatic ticks entirely (deterministic tests drive the market
with ``step()``).  ``server.faults`` reaches the server only through its fault-injection
interface (:class:`~rxfeeds.sim.faults.FaultTarget`: ``close_connections``,
``reset_connections``, ``stall_connections``, ``resume_connections``, ``send_frame_to_all``,
``stalled``), which tests may call directly too.

``stop()`` sends every client a close frame (1001 going away), drops the ones that do not
finish the close within ``min(close_timeout, 1)`` s, stops the loop and joins its thread;
the whole takes at most ``stop_timeout`` (5) seconds, even with a hook blocking the loop.
(websocket-client answers a server close but keeps its socket open until ``ws.shutdown()``;
tests that wait for the server to see a disconnect should call it.)

HTTP
----
REST endpoints go through ``handle_http``.  They are served on two ports: the websocket port
answers **GET** requests that are not websocket upgrades (the ``websockets`` handshake hook
cannot read request bodies), and an HTTP/1.1 listener at ``http_url`` (another loopback
port; the standard library's ``http.server`` in its own threads, ``handle_http`` still runs
on the loop) answers every method **with bodies** (e.g. Kraken's POST
``/0/private/GetWebSocketsToken``).  Prefer ``http_url`` as a client's REST base.

Sending
-------
``conn.send`` encodes the websocket frame with the ``websockets`` package's frame model and
writes it straight to the socket transport: synchronous, ordered, fast, and callable from any
thread.  Per-message compression is off.  ``conn.send_raw`` writes bytes that are already
websocket frames (see :func:`encode_frame`).

Throughput
----------
``server.blast(frames, repeat)`` writes pre-encoded frames to every connection in ~1 MiB
chunks with flow control.  :class:`BlastServer` does it per connection: when a client sends
its first message (or connects, ``start_on="connect"``) it streams ``repeat`` copies of
``frames`` then ``end_frame``::

    with BlastServer(['{"a":1}'], repeat=1_000_000, end_frame='{"end":true}') as srv:
        ws = websocket.create_connection(srv.url); ws.send("go")
        # ... receive 1_000_000 frames, then the end frame

Example:
    >>> import websocket
    >>> class Echo(SimServer):
    ...     venue = "echo"
    ...     def on_message(self, conn, message):
    ...         conn.send(message)
    >>> with Echo() as srv:
    ...     ws = websocket.create_connection(srv.url)
    ...     _ = ws.send("hi")
    ...     print(ws.recv())
    ...     ws.close()
    hi
"""

from __future__ import annotations

from ..kit.truth import BookTruth, SentBook, TruthRecord
from .base import HOST, SimServer
from .blast import BlastServer
from .connection import SimConnection
from .frames import encode_frame
from .http import HttpRequest, HttpResponse, json_response

__all__ = [
    "HOST",
    "BlastServer",
    "BookTruth",
    "HttpRequest",
    "HttpResponse",
    "SentBook",
    "SimConnection",
    "SimServer",
    "TruthRecord",
    "encode_frame",
    "json_response",
]
