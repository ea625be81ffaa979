"""``BlastServer``: a throughput source streaming pre-encoded frames to each client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from ...errors import InvalidArgument
from .base import SimServer
from .connection import SimConnection

__all__ = ["BlastServer"]


class BlastServer(SimServer):
    """A throughput source: streams pre-encoded frames to each client as fast as the socket takes.

    Each connection gets ``repeat`` copies of ``frames`` and then ``end_frame`` (if given),
    starting when the client sends its first message (``start_on="message"``, so its
    subscription is in place) or right after the handshake (``start_on="connect"``).
    ``done`` counts finished connections; ``written[conn_id]`` the frames each got.

    Example:
        >>> import websocket
        >>> with BlastServer(['{"p":1}', '{"p":2}'], repeat=3, end_frame="end") as srv:
        ...     ws = websocket.create_connection(srv.url); _ = ws.send("go")
        ...     got = [ws.recv() for _ in range(7)]; ws.close()
        >>> got[:2], got[-1], len(got)
        (['{"p":1}', '{"p":2}'], 'end', 7)
    """

    venue = "blast"

    def __init__(
        self,
        frames: Sequence[str | bytes],
        repeat: int,
        *,
        end_frame: str | bytes | None = None,
        start_on: Literal["message", "connect"] = "message",
        **options: Any,
    ) -> None:
        options.setdefault("tick_interval", None)
        super().__init__(**options)
        if isinstance(frames, (str, bytes)):
            raise InvalidArgument("frames", frames, "must be a sequence of frames, not one frame")
        if start_on not in ("message", "connect"):
            raise InvalidArgument("start_on", start_on, "must be 'message' or 'connect'")
        self.frames = list(frames)
        self.repeat = repeat
        self.end_frame = end_frame
        self.start_on = start_on
        self.done = 0
        self.written: dict[int, int] = {}

    def _begin(self, conn: SimConnection) -> None:
        if conn.state.get("blasting"):
            return
        conn.state["blasting"] = True
        self.spawn(self._blast(conn))

    async def _blast(self, conn: SimConnection) -> None:
        self.written[conn.id] = await self.blast_to(conn, self.frames, self.repeat, self.end_frame)
        self.done += 1

    def on_connect(self, conn: SimConnection) -> None:
        if self.start_on == "connect":
            self._begin(conn)

    def on_message(self, conn: SimConnection, message: str | bytes) -> None:
        self._begin(conn)
