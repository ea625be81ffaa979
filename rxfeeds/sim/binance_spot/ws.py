"""Binance spot simulator: combined streams with ``U``/``u`` diffs and the REST depth snapshot.

Speaks the protocol of ``protocols.md`` 4.8 on 127.0.0.1:

* websocket ``/stream`` (combined: frames wrapped as ``{"stream": name, "data": …}``), also
  ``/stream?streams=a/b`` (pre-subscribed) and ``/ws/<stream>`` (raw payloads);
* ``SUBSCRIBE`` / ``UNSUBSCRIBE`` / ``LIST_SUBSCRIPTIONS`` / ``GET_PROPERTY`` / ``SET_PROPERTY`` with ids,
  answered ``{"result": …, "id": n}``; malformed requests get
  ``{"error": {"code": …, "msg": …}, "id": …}`` (code 3 invalid JSON, code 2 invalid request);
* streams ``<symbol>@depth@100ms`` (every tick), ``<symbol>@depth`` / ``@depth@1000ms`` (once a
  second), ``@trade``, ``@aggTrade``, ``@kline_<interval>``, ``@bookTicker``, ``@ticker`` and
  ``@miniTicker`` (rolling 24 h, once a second) and the all-market arrays ``!ticker@arr`` and
  ``!miniTicker@arr``; ``/ws/<name>`` opens even when ``<name>`` is no stream (ccxt connects to
  ``/ws/<n>`` and subscribes afterwards), as Binance does;
* REST ``GET /api/v3/depth?symbol=…&limit=…`` (on the websocket port and on ``http_url``),
  ``/api/v3/exchangeInfo[?symbol=…]`` (assets, precisions, price and lot filters),
  ``/api/v3/ping``, ``/api/v3/time``;
* more than ``max_messages_per_second`` client messages in one second close the connection
  (1008), as Binance does above 5/s; server pings every 20 s.

Update ids: every tick that changes the book takes one id per changed level, so a diff covers
``U..u`` with ``U`` equal to the previous ``u + 1``; the REST snapshot's ``lastUpdateId`` is the
``u`` of the last tick, taken on the loop thread, so snapshot and diffs always agree.
``faults.skip_sequence(symbol)`` loses one id (and, on the 1000 ms stream, the diffs pending
in that second), which a client must detect by the bridge rule.

Unknown symbols: with ``listed`` given only those symbols exist; by default every well-formed
symbol (2-20 letters/digits) is served.  Subscribing an unknown symbol (or one rejected with
``faults.reject_subscriptions``) answers the request with code 2 ``Invalid symbol``; REST answers
HTTP 400 ``{"code": -1121, "msg": "Invalid symbol."}``.

``truth(symbol)`` is the full book a synced client has (upper-case symbol).

Example:
    >>> import json, urllib.request, websocket
    >>> with BinanceSpotSim(seed=1) as sim:
    ...     ws = websocket.create_connection(sim.url)
    ...     _ = ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 1}))
    ...     print(ws.recv())
    ...     diff = json.loads(ws.recv())["data"]
    ...     body = urllib.request.urlopen(sim.http_url + "/api/v3/depth?symbol=BTCUSDT&limit=5").read()
    ...     ws.close()
    {"result":null,"id":1}
    >>> diff["e"], diff["U"] <= diff["u"], len(json.loads(body)["bids"])
    ('depthUpdate', True, 5)
"""

from __future__ import annotations

import collections
import time
from typing import Any

import orjson

from ...codec import Key
from ...intervals import parse_interval
from ..kit.klines import KlineBar
from ..server import SimConnection
from ._base import _ARRAY_STREAMS, _MAX_STREAMS, _RequestError
from .feed import BinanceSpotFeed
from .rest import BinanceSpotRest

__all__ = ["BinanceSpotSim"]


class BinanceSpotSim(BinanceSpotFeed, BinanceSpotRest):
    """Binance spot websocket + REST depth simulator (see the module docstring).

    Args:
        listed: the symbols that exist (any case); ``None`` = every well-formed symbol.
        max_messages_per_second: client messages allowed per second per connection (Binance: 5);
            ``None`` disables the limit.
        options: :class:`~rxfeeds.sim.server.SimServer` arguments (``seed``, ``port``,
            ``tick_interval``, ``symbols`` …).
    """

    # -- websocket ---------------------------------------------------------------------------

    def on_connect(self, conn: SimConnection) -> None:
        conn.state["msg_times"] = collections.deque()
        names: list[str] = []
        if conn.path == "/ws" or conn.path.startswith("/ws/"):
            # Raw streams.  The path names streams (``/ws/a@trade/b@depth``), but Binance also
            # opens the socket when a path segment is no stream at all: clients such as ccxt
            # connect to ``/ws/<their own connection number>`` and then send SUBSCRIBE.
            conn.state["raw"] = True
            for name in conn.path[len("/ws/") :].split("/"):
                try:
                    key = self._checked_key(name)
                except _RequestError:
                    continue
                self._add(conn, name, key)
            return
        if conn.query.get("streams"):
            names = conn.query["streams"].split("/")
        try:
            keys = [self._checked_key(n) for n in names]
        except _RequestError as exc:
            conn.close(1008, exc.msg[:120])
            return
        for name, key in zip(names, keys, strict=True):
            self._add(conn, name, key)

    def on_disconnect(self, conn: SimConnection) -> None:
        for key in list(conn.subscriptions.values()):
            watchers = self._watchers.get(key)
            if watchers is not None:
                watchers.pop(conn.id, None)
                if not watchers:
                    del self._watchers[key]
        conn.subscriptions.clear()

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        if self._over_rate(conn):
            conn.close(1008, "Too many requests")
            return
        request_id: Any = None
        try:
            try:
                msg = orjson.loads(message)
            except orjson.JSONDecodeError as exc:
                raise _RequestError(3, f"Invalid JSON: {exc}") from None
            if not isinstance(msg, dict):
                raise _RequestError(2, "Invalid request: request must be a JSON object")
            request_id = msg.get("id")
            if not (
                (isinstance(request_id, int) and not isinstance(request_id, bool) and request_id >= 0)
                or (isinstance(request_id, str) and 0 < len(request_id) <= 36)
            ):
                request_id = None
                raise _RequestError(2, "Invalid request: request ID must be an unsigned integer")
            result = self._call(conn, msg.get("method"), msg.get("params"))
        except _RequestError as exc:
            conn.send(orjson.dumps({"error": {"code": exc.code, "msg": exc.msg}, "id": request_id}))
            return
        conn.send(orjson.dumps({"result": result, "id": request_id}))

    def on_oversize(self, conn: SimConnection, message: str | bytes) -> None:
        conn.send(orjson.dumps({"error": {"code": 2, "msg": "Invalid request: message too large"}, "id": None}))

    def _over_rate(self, conn: SimConnection) -> bool:
        limit = self.max_messages_per_second
        if limit is None:
            return False
        times: collections.deque[float] = conn.state["msg_times"]
        now = time.monotonic()
        times.append(now)
        while times and now - times[0] >= 1.0:
            times.popleft()
        return len(times) > limit

    def _call(self, conn: SimConnection, method: Any, params: Any) -> Any:
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not params:
                raise _RequestError(2, "Invalid request: params must be a non-empty array of stream names")
            keys = [self._checked_key(name) for name in params]
            if method == "SUBSCRIBE":
                fresh = {name for name in params if name not in conn.subscriptions}
                if len(conn.subscriptions) + len(fresh) > _MAX_STREAMS:
                    raise _RequestError(2, f"Invalid request: more than {_MAX_STREAMS} streams")
                for name, key in zip(params, keys, strict=True):
                    self._add(conn, name, key)
            else:
                for name in params:
                    self._drop(conn, name)
            return None
        if method == "LIST_SUBSCRIPTIONS":
            return list(conn.subscriptions)
        if method == "GET_PROPERTY":
            if params != ["combined"]:
                raise _RequestError(0, "Unknown property")
            return not conn.state.get("raw", False)
        if method == "SET_PROPERTY":
            if not isinstance(params, list) or len(params) != 2 or params[0] != "combined":
                raise _RequestError(0, "Unknown property")
            if not isinstance(params[1], bool):
                raise _RequestError(1, "Invalid value type: expected Boolean")
            conn.state["raw"] = not params[1]
            return None
        raise _RequestError(2, f"Invalid request: unknown method {method!r}")

    def _checked_key(self, name: Any) -> Key:
        try:
            key = self.parse_stream(name)
        except ValueError as exc:
            raise _RequestError(2, f"Invalid request: {exc}") from None
        if key[0] in _ARRAY_STREAMS:
            return key
        if not self.is_listed(key[1]) or self.faults.should_reject(key[1]):
            raise _RequestError(2, f"Invalid symbol: {key[1]} (stream {name!r})")
        return key

    def _add(self, conn: SimConnection, name: str, key: Key) -> None:
        if name in conn.subscriptions:
            return
        conn.subscriptions[name] = key
        self._watchers.setdefault(key, {})[conn.id] = conn
        if key[0] in _ARRAY_STREAMS:
            return
        st = self._state(key[1])
        channel = key[0]
        if channel.startswith("kline_") and channel not in st.bars:
            st.bars[channel] = KlineBar.current(parse_interval(channel[6:]), self.clock(), self.market(key[1]))

    def _drop(self, conn: SimConnection, name: str) -> None:
        key = conn.subscriptions.pop(name, None)
        if key is None:
            return
        watchers = self._watchers.get(key)
        if watchers is not None:
            watchers.pop(conn.id, None)
            if not watchers:
                del self._watchers[key]
