"""One client connection of a simulator, as the venue hooks see it.

Sends are synchronous and ordered: the frame (encoded by :func:`.frames.encode_frame`) is
written straight to the connection's transport on the loop thread, or queued there from any
other thread.  While the server is stalled (a fault) frames are held and written in order on
resume.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from .frames import encode_frame
from .http import split_target

if TYPE_CHECKING:
    from .base import SimServer

__all__ = ["SimConnection"]


class SimConnection:
    """One client connection, handed to the hooks.

    Attributes:
        id: 1, 2, ... per server.
        path: the request path without the query (``"/ws"``).
        target: the full request target (``"/stream?streams=a@depth"``).
        query: the query parameters (last value wins).
        headers: the handshake headers (lower-case names).
        subscriptions: free-form per-connection dict for the venue (e.g. channel id -> key).
        state: free-form per-connection dict for the venue (e.g. ``{"logged_in": True}``).
        frames_out / bytes_out: what was written to this client.
        closed: True once the connection is gone.
    """

    def __init__(self, server: SimServer, ws: ServerConnection, conn_id: int) -> None:
        self.server = server
        self.ws = ws
        self.id = conn_id
        request = ws.request
        self.target = request.path if request is not None else "/"
        self.path, self.query = split_target(self.target)
        self.headers = {k.lower(): v for k, v in request.headers.raw_items()} if request else {}
        self.subscriptions: dict[Any, Any] = {}
        self.state: dict[str, Any] = {}
        self.frames_out = 0
        self.bytes_out = 0
        self.frames_in = 0
        self.closed = False
        self._held: list[bytes] = []
        self._held_frames = 0

    def __repr__(self) -> str:
        return f"SimConnection(id={self.id}, target={self.target!r}, closed={self.closed})"

    def send(self, message: str | bytes, *, binary: bool = False) -> None:
        """Send one text frame (``bytes`` must be UTF-8 JSON/text) or a binary frame. Any thread."""
        self.server._dispatch(self.write, encode_frame(message, binary=binary), 1)

    def send_raw(self, frames: bytes, count: int = 1) -> None:
        """Write already-encoded websocket frames (``count`` of them, for the counters). Any thread."""
        self.server._dispatch(self.write, bytes(frames), count)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the websocket close handshake. Any thread."""
        self.server._dispatch(self.close_now, code, reason)

    def abort(self) -> None:
        """TCP reset: ``SO_LINGER`` 0 then close, no close frame. Any thread."""
        self.server._dispatch(self.abort_now)

    # -- loop thread -----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while frames can be written."""
        return not self.closed and self.ws.state is State.OPEN and not self.ws.transport.is_closing()

    def write(self, data: bytes, count: int = 1) -> None:
        """Loop thread: write encoded frames now (held while the server is stalled)."""
        if not self.is_open:
            return
        if self.server.stalled:
            self._held.append(data)
            self._held_frames += count
            return
        self.ws.transport.write(data)
        self.frames_out += count
        self.bytes_out += len(data)

    def pause(self) -> None:
        """Loop thread: stop reading from the client (a stall)."""
        if not self.ws.transport.is_closing():
            self.ws.transport.pause_reading()

    def resume(self) -> None:
        """Loop thread: read again and write the frames held during a stall, in order."""
        if not self.ws.transport.is_closing():
            self.ws.transport.resume_reading()
        held, self._held = self._held, []
        count, self._held_frames = self._held_frames, 0
        if held and self.is_open:
            data = b"".join(held)
            self.ws.transport.write(data)
            self.frames_out += count
            self.bytes_out += len(data)

    def drop_held(self) -> None:
        """Loop thread: forget frames held during a stall (the connection is going away)."""
        self._held.clear()
        self._held_frames = 0

    def close_now(self, code: int, reason: str) -> None:
        """Loop thread: start the close handshake."""
        if self.closed or self.ws.state is not State.OPEN:
            return
        self.drop_held()
        self.ws.transport.resume_reading()
        self.server.spawn(self.ws.close(code, reason))

    def abort_now(self) -> None:
        """Loop thread: reset the TCP connection."""
        if self.closed:
            return
        self.drop_held()
        transport = self.ws.transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # already gone
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
