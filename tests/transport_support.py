"""A tiny line-protocol venue for transport tests: a codec and a scriptable websocket server.

Protocol: the client sends ``{"op":"sub","ch":C,"sym":S}`` / ``{"op":"unsub",...}`` /
``{"op":"req","id":N}``; the server sends data ``{"ch":C,"sym":S,"v":X}``, acks
``{"ack":[C,S]}``, refusals ``{"nack":[C,S],"msg":M}`` and replies ``{"id":N,"ok":V}``.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Sequence
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, serve

from rxfeeds.codec import Ack, BaseCodec, Data, Key, Message, Rejected, Reply
from rxfeeds.errors import FrameError, SubscriptionError, UnknownMessage
from rxfeeds.events import VenueEvent
from rxfeeds.transport import Backoff, SocketSubject


class LineCodec(BaseCodec):
    venue = "line"

    def __init__(self) -> None:
        self.resets = 0

    def subscribe_frames(self, key: Key) -> Sequence[str]:
        return [orjson.dumps({"op": "sub", "ch": key[0], "sym": key[1]}).decode()]

    def unsubscribe_frames(self, key: Key) -> Sequence[str]:
        return [orjson.dumps({"op": "unsub", "ch": key[0], "sym": key[1]}).decode()]

    def reset(self) -> None:
        self.resets += 1

    def ping_frame(self) -> str | None:
        return '{"op":"ping"}'

    def decode(self, frame: str | bytes, recv_time: float) -> Sequence[Message]:
        try:
            msg = orjson.loads(frame)
        except orjson.JSONDecodeError as exc:
            raise FrameError(f"malformed JSON ({exc})", frame, self.venue) from None
        if not isinstance(msg, dict):
            raise UnknownMessage("expected an object", frame, self.venue)
        if "ch" in msg:
            ev = VenueEvent(self.venue, msg["sym"], recv_time, recv_time, kind=msg["ch"], data=msg.get("v"))
            return [Data((msg["ch"], msg["sym"]), [ev])]
        if "ack" in msg:
            return [Ack(tuple(msg["ack"]))]  # type: ignore[arg-type]
        if "nack" in msg:
            key = tuple(msg["nack"])
            return [Rejected(key, SubscriptionError(self.venue, key, msg["msg"]))]  # type: ignore[arg-type]
        if "id" in msg:
            return [Reply(msg["id"], msg.get("ok"))]
        if msg.get("op") == "pong":
            return []
        raise UnknownMessage("unknown message", frame, self.venue)


class LineServer:
    """Scriptable websocket server in a background thread (127.0.0.1, ephemeral port)."""

    def __init__(self, reject: set[str] | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.connections: list[ServerConnection] = []
        self.connects = 0
        self.reject = reject or set()
        self.stalled = False
        self.refuse = False
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._stop: asyncio.Future[None] | None = None
        self.port = 0

    def __enter__(self) -> LineServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = self.loop.create_future()
        async with serve(self._handler, "127.0.0.1", 0, ping_interval=None, max_size=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop

    async def _handler(self, ws: ServerConnection) -> None:
        if self.refuse:
            await ws.close(1013, "refusing")
            return
        self.connects += 1
        self.connections.append(ws)
        try:
            async for raw in ws:
                msg = orjson.loads(raw)
                self.received.append(msg)
                if msg.get("op") == "sub":
                    if msg["sym"] in self.reject:
                        await ws.send(orjson.dumps({"nack": [msg["ch"], msg["sym"]], "msg": "unknown symbol"}).decode())
                    else:
                        await ws.send(orjson.dumps({"ack": [msg["ch"], msg["sym"]]}).decode())
                elif msg.get("op") == "req":
                    await ws.send(orjson.dumps({"id": msg["id"], "ok": msg["id"] * 2}).decode())
                elif msg.get("op") == "ping" and not self.stalled:
                    await ws.send('{"op":"pong"}')
        except Exception:
            pass
        finally:
            if ws in self.connections:
                self.connections.remove(ws)

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(5)

    def broadcast(self, data: str | bytes) -> None:
        async def go() -> None:
            for ws in list(self.connections):
                await ws.send(data)

        self.run(go())

    def publish(self, ch: str, sym: str, v: Any) -> None:
        self.broadcast(orjson.dumps({"ch": ch, "sym": sym, "v": v}).decode())

    def close_all(self, code: int = 1001) -> None:
        async def go() -> None:
            for ws in list(self.connections):
                await ws.close(code, "bye")

        self.run(go())

    def reset_all(self) -> None:
        """Abrupt TCP reset (RST) of every connection."""

        async def go() -> None:
            for ws in list(self.connections):
                sock = ws.transport.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                ws.transport.abort()

        self.run(go())

    def count(self, op: str, ch: str | None = None, sym: str | None = None) -> int:
        return sum(
            1
            for m in list(self.received)
            if m.get("op") == op and (ch is None or m.get("ch") == ch) and (sym is None or m.get("sym") == sym)
        )

    def stop(self) -> None:
        async def go() -> None:
            for ws in list(self.connections):
                ws.transport.abort()
            assert self._stop is not None
            self._stop.set_result(None)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(go(), self.loop)
            self._thread.join(5)


#: the reconnect policy of the line-server tests: fast, so faults heal in milliseconds
FAST = Backoff(initial=0.02, max_delay=0.1, reset_after=0.0)


def line_subject(srv: LineServer, **kw: Any) -> SocketSubject:
    """A socket subject on ``srv`` with the fast back-off unless ``backoff=`` is given."""
    kw.setdefault("backoff", FAST)
    return SocketSubject(srv.url, LineCodec(), **kw)


def values(events: list[Any]) -> list[Any]:
    """The payloads of the line events among ``events``."""
    return [e.data for e in events if isinstance(e, VenueEvent)]
